"""Fixtures for the limiter tests: a moto control table and a simulated clock."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from mypy_boto3_dynamodb import DynamoDBClient

from tests.support.control_table import CONTROL_TABLE, SimClock, make_moto_items_atomic


@pytest.fixture
def clock() -> SimClock:
    return SimClock()


@pytest.fixture
def dynamodb(aws_region: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoDBClient]:
    make_moto_items_atomic(monkeypatch)
    with mock_aws():
        client = boto3.client("dynamodb", region_name=aws_region)
        client.create_table(
            TableName=CONTROL_TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.update_time_to_live(
            TableName=CONTROL_TABLE,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
        )
        yield client
