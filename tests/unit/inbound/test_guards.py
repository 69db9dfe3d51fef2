"""The idempotency table's claims: new, done, busy, taken over after the lease or the TTL."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from mypy_boto3_dynamodb import DynamoDBClient
from pixy_whatsapp.inbound import GuardState, GuardStore

TABLE = "pixy-test-idempotency"
NOW = 1_767_225_600_000


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def dynamodb(aws_region: str) -> Iterator[DynamoDBClient]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=aws_region)
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def guards(dynamodb: DynamoDBClient, clock: Clock) -> GuardStore:
    return GuardStore(dynamodb, TABLE, ttl_seconds=3_600, lease_seconds=120, clock_ms=clock)


def test_a_key_is_new_then_busy_while_claimed_then_done(guards: GuardStore) -> None:
    assert guards.claim("inbound#wamid.1") is GuardState.NEW
    assert guards.claim("inbound#wamid.1") is GuardState.BUSY
    guards.complete(["inbound#wamid.1"])
    assert guards.claim("inbound#wamid.1") is GuardState.DONE


def test_a_released_key_can_be_claimed_at_once(guards: GuardStore) -> None:
    guards.claim("inbound#wamid.2")
    guards.release(["inbound#wamid.2"])
    assert guards.claim("inbound#wamid.2") is GuardState.NEW


def test_an_abandoned_claim_is_taken_over_when_its_lease_ends(
    guards: GuardStore, clock: Clock
) -> None:
    guards.claim("inbound#wamid.3")
    clock.now += 119_000
    assert guards.claim("inbound#wamid.3") is GuardState.BUSY
    clock.now += 2_000
    assert guards.claim("inbound#wamid.3") is GuardState.NEW


def test_a_done_key_past_its_ttl_counts_as_gone(guards: GuardStore, clock: Clock) -> None:
    guards.claim("inbound#wamid.4")
    guards.complete(["inbound#wamid.4"])
    clock.now += 3_599_000
    assert guards.claim("inbound#wamid.4") is GuardState.DONE
    clock.now += 2_000
    assert guards.claim("inbound#wamid.4") is GuardState.NEW


def test_items_carry_the_ttl_attribute(guards: GuardStore, dynamodb: DynamoDBClient) -> None:
    guards.claim("inbound#wamid.5")
    guards.complete(["inbound#wamid.5"])
    item = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "inbound#wamid.5"}})["Item"]
    assert item["state"] == {"S": "done"}
    assert int(item["expires_at"]["N"]) == NOW // 1000 + 3_600


def test_completing_many_keys_batches_them(guards: GuardStore, dynamodb: DynamoDBClient) -> None:
    keys = [f"status#m{n}#sent" for n in range(60)]
    for key in keys:
        guards.claim(key)
    guards.complete(keys)
    assert all(guards.claim(key) is GuardState.DONE for key in keys)
