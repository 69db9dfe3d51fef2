"""DynamoDBBreakerStore on moto: item layout and version-conditional replaces."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mypy_boto3_dynamodb import DynamoDBClient
from pixy_whatsapp.breaker import (
    BreakerRecord,
    BreakerState,
    BreakerUnavailable,
    CircuitBreaker,
    DynamoDBBreakerStore,
)

from tests.support.control_table import CONTROL_TABLE, SimClock, closed_port_dynamodb

PK = "breaker#waba#2002"


@pytest.fixture
def ddb_store(dynamodb: DynamoDBClient) -> DynamoDBBreakerStore:
    return DynamoDBBreakerStore(dynamodb, CONTROL_TABLE)


@pytest.fixture
def calls(dynamodb: DynamoDBClient) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(model: object, **_: object) -> None:
        seen.append(str(getattr(model, "name", model)))

    dynamodb.meta.events.register("before-call.dynamodb", record)
    yield seen
    dynamodb.meta.events.unregister("before-call.dynamodb", record)


def stored(dynamodb: DynamoDBClient, pk: str) -> dict[str, object]:
    return dict(dynamodb.get_item(TableName=CONTROL_TABLE, Key={"pk": {"S": pk}}).get("Item", {}))


def test_a_breaker_never_written_is_closed(ddb_store: DynamoDBBreakerStore) -> None:
    assert ddb_store.load(PK) == BreakerRecord()


def test_held_breaker_item_layout(
    ddb_store: DynamoDBBreakerStore, dynamodb: DynamoDBClient, clock: SimClock
) -> None:
    breaker = CircuitBreaker(ddb_store, clock_ms=clock, monotonic=clock.monotonic)
    breaker.hold_open("waba", "2002", secret_version="v7", reason="190 token expired")
    assert stored(dynamodb, PK) == {
        "pk": {"S": PK},
        "state": {"S": "held"},
        "version": {"N": "1"},
        "opens": {"N": "0"},
        "changed_at": {"N": str(round(clock.ms))},
        "secret_version": {"S": "v7"},
        "reason": {"S": "190 token expired"},
    }


def test_open_and_half_open_item_layout(
    ddb_store: DynamoDBBreakerStore, dynamodb: DynamoDBClient, clock: SimClock
) -> None:
    breaker = CircuitBreaker(
        ddb_store, clock_ms=clock, monotonic=clock.monotonic, new_token=lambda: "env-a"
    )
    for _ in range(5):
        breaker.check("number", "1001")
        breaker.record_failure("number", "1001", reason="503")
    opened_at = round(clock.ms)
    item = stored(dynamodb, "breaker#number#1001")
    assert item["state"] == {"S": "open"}
    assert item["open_until"] == {"N": str(opened_at + 30_000)}
    assert item["opens"] == {"N": "1"}
    assert "expires_at" not in item  # breaker items never expire

    clock.advance(30)
    breaker.check("number", "1001")
    item = stored(dynamodb, "breaker#number#1001")
    assert item["state"] == {"S": "half_open"}
    assert item["probe_owner"] == {"S": "env-a"}
    assert item["probe_until"] == {"N": str(round(clock.ms) + 30_000)}
    assert item["version"] == {"N": "2"}


def test_replace_is_conditional_on_the_version_and_reports_the_winner(
    ddb_store: DynamoDBBreakerStore, calls: list[str]
) -> None:
    first = BreakerRecord(state=BreakerState.OPEN, version=1, opens=1, open_until_ms=5)
    assert ddb_store.replace(PK, 0, first).saved
    lost = ddb_store.replace(PK, 0, BreakerRecord(state=BreakerState.HELD, version=1))
    assert not lost.saved
    assert lost.current == first
    stale = ddb_store.replace(PK, 7, BreakerRecord(version=8))
    assert (stale.saved, stale.current) == (False, first)
    assert calls == ["PutItem", "PutItem", "PutItem"]  # the winner came with the refusal
    assert ddb_store.replace(PK, 1, BreakerRecord(version=2)).saved
    assert ddb_store.load(PK) == BreakerRecord(version=2)


def test_unreachable_table_raises_unavailable(aws_region: str) -> None:
    store = DynamoDBBreakerStore(closed_port_dynamodb(aws_region), CONTROL_TABLE)
    with pytest.raises(BreakerUnavailable):
        store.load(PK)
    with pytest.raises(BreakerUnavailable):
        store.replace(PK, 0, BreakerRecord(version=1))
