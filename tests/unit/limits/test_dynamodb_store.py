"""DynamoDBLimitStore on moto: item layout, conditional writes, and threads racing on one key."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from mypy_boto3_dynamodb import DynamoDBClient
from pixy_whatsapp.limits import (
    DynamoDBLimitStore,
    Limiter,
    LimitKey,
    LimitSettings,
    LimitStoreUnavailable,
    Reservation,
)
from pixy_whatsapp.limits.dynamodb_store import format_tat, parse_tat

from tests.support.control_table import CONTROL_TABLE, SimClock, closed_port_dynamodb

KEY = LimitKey.number("1001")


@pytest.fixture
def store(dynamodb: DynamoDBClient) -> DynamoDBLimitStore:
    return DynamoDBLimitStore(dynamodb, CONTROL_TABLE)


@pytest.fixture
def calls(dynamodb: DynamoDBClient) -> Iterator[list[str]]:
    """The operations the real client sends, observed through its event hooks."""
    seen: list[str] = []

    def record(model: object, **_: object) -> None:
        seen.append(str(getattr(model, "name", model)))

    dynamodb.meta.events.register("before-call.dynamodb", record)
    yield seen
    dynamodb.meta.events.unregister("before-call.dynamodb", record)


def item(dynamodb: DynamoDBClient, pk: str) -> dict[str, object]:
    return dict(dynamodb.get_item(TableName=CONTROL_TABLE, Key={"pk": {"S": pk}}).get("Item", {}))


@pytest.mark.parametrize(
    ("tat_us", "stored"),
    [(1_764_000_000_000_000, "1764000000000"), (1_764_000_000_012_500, "1764000000012.5")],
)
def test_tat_is_stored_as_epoch_milliseconds(tat_us: int, stored: str) -> None:
    assert format_tat(tat_us) == stored
    assert parse_tat(stored) == tat_us
    assert parse_tat("1764000000012.500") == 1_764_000_000_012_500


def test_swap_creates_updates_and_reports_the_winner_without_a_read(
    store: DynamoDBLimitStore, dynamodb: DynamoDBClient, calls: list[str]
) -> None:
    assert store.swap_tat(KEY.pk, None, 1_764_000_000_012_500).applied
    assert item(dynamodb, KEY.pk) == {
        "pk": {"S": "limit#number#1001"},
        "tat": {"N": "1764000000012.5"},
        "expires_at": {"N": str(1_764_000_001 + 3_600)},
    }
    calls.clear()

    lost = store.swap_tat(KEY.pk, None, 1_764_000_000_025_000)
    assert lost.applied is False
    assert lost.current_us == 1_764_000_000_012_500
    stale = store.swap_tat(KEY.pk, 1_764_000_000_000_000, 1_764_000_000_025_000)
    assert (stale.applied, stale.current_us) == (False, 1_764_000_000_012_500)
    won = store.swap_tat(KEY.pk, 1_764_000_000_012_500, 1_764_000_000_025_000)
    assert won.applied
    assert calls == ["PutItem", "PutItem", "PutItem"]
    assert store.read_tat(KEY.pk) == 1_764_000_000_025_000


def test_swap_on_a_vanished_item_reports_it_absent(store: DynamoDBLimitStore) -> None:
    # What a TTL deletion looks like to an environment that still remembers the TAT.
    swap = store.swap_tat(KEY.pk, 1_764_000_000_000_000, 1_764_000_000_012_500)
    assert (swap.applied, swap.current_us) == (False, None)


def test_raise_tat_only_moves_forward(store: DynamoDBLimitStore) -> None:
    store.raise_tat(KEY.pk, 2_000)
    store.raise_tat(KEY.pk, 1_000)
    assert store.read_tat(KEY.pk) == 2_000
    store.raise_tat(KEY.pk, 3_000)
    assert store.read_tat(KEY.pk) == 3_000
    assert store.read_tat("limit#number#unknown") is None


def test_number_override_item(store: DynamoDBLimitStore, dynamodb: DynamoDBClient) -> None:
    assert store.read_number_mps("1001") is None
    store.write_number_mps("1001", 1_000, at_ms=200)
    store.write_number_mps("1001", 80, at_ms=100)  # older report: ignored
    assert store.read_number_mps("1001") == 1_000
    stored = item(dynamodb, "config#number#1001")
    assert stored["mps"] == {"N": "1000.0"}
    assert stored["mps_updated_at"] == {"N": "200"}


def test_an_unreachable_table_raises_unavailable(aws_region: str) -> None:
    closed = closed_port_dynamodb(aws_region)
    store = DynamoDBLimitStore(closed, CONTROL_TABLE)
    with pytest.raises(LimitStoreUnavailable):
        store.swap_tat(KEY.pk, None, 1)
    with pytest.raises(LimitStoreUnavailable):
        store.raise_tat(KEY.pk, 1)
    with pytest.raises(LimitStoreUnavailable):
        store.read_number_mps("1001")


def race(environments: list[Limiter], rounds_each: int = 4) -> list[int]:
    """Every environment reserves on KEY from its own thread, all starting together."""
    granted: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(len(environments))

    def hammer(limiter: Limiter, tokens: int) -> None:
        start.wait()
        for _ in range(rounds_each):
            if limiter.reserve(Reservation(KEY, tokens=tokens)).granted:
                with lock:
                    granted.append(tokens)

    threads = [
        threading.Thread(target=hammer, args=(env, 1 + i % 3)) for i, env in enumerate(environments)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return granted


def test_threads_racing_on_one_key_never_over_admit(
    store: DynamoDBLimitStore, clock: SimClock
) -> None:
    """Eight environments hammer one number key. Time stands still within each round, so a
    round admits at most one burst, and the stored TAT accounts for every token granted."""
    settings = LimitSettings(number_mps=80, number_window_s=None)  # 12.5 ms a token, burst 10
    environments = [
        Limiter(store, settings, clock_ms=clock, monotonic=clock.monotonic, max_attempts=6)
        for _ in range(8)
    ]
    expected_tat: int | None = None
    for _ in range(3):
        now_us = round(clock.ms * 1_000)
        granted = race(environments)
        assert 0 < sum(granted) <= 10
        # No lost update and nothing counted twice: the TAT moved by exactly the tokens granted.
        expected_tat = max(expected_tat or now_us, now_us) + sum(granted) * 12_500
        assert store.read_tat(KEY.pk) == expected_tat
        clock.advance(0.125)  # one burst's worth of refill
