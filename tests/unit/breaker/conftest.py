"""Fixtures for the breaker tests: both stores, a moto control table, a simulated clock."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from mypy_boto3_dynamodb import DynamoDBClient
from pixy_whatsapp.breaker import BreakerStore, DynamoDBBreakerStore, InMemoryBreakerStore

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
        yield client


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest) -> BreakerStore:
    """Every behaviour test runs on both stores."""
    if request.param == "memory":
        return InMemoryBreakerStore()
    client: DynamoDBClient = request.getfixturevalue("dynamodb")
    return DynamoDBBreakerStore(client, CONTROL_TABLE)
