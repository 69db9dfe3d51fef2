"""When the breaker store cannot be reached, nothing is sent on a guess."""

from __future__ import annotations

import pytest
from pixy_whatsapp.breaker import (
    BreakerRecord,
    BreakerSettings,
    BreakerState,
    BreakerStore,
    BreakerUnavailable,
    CircuitBreaker,
    DynamoDBBreakerStore,
    Replaced,
    Verdict,
)

from tests.support.control_table import CONTROL_TABLE, SimClock, closed_port_dynamodb


class _Outage:
    """Passes through to a real store until `down` is set, then fails like DynamoDB would."""

    def __init__(self, inner: BreakerStore) -> None:
        self.inner = inner
        self.down = False

    def load(self, pk: str) -> BreakerRecord:
        if self.down:
            raise BreakerUnavailable("connection refused")
        return self.inner.load(pk)

    def replace(self, pk: str, expected_version: int, record: BreakerRecord) -> Replaced:
        if self.down:
            raise BreakerUnavailable("connection refused")
        return self.inner.replace(pk, expected_version, record)


def test_unreachable_dynamodb_answers_unknown(aws_region: str, clock: SimClock) -> None:
    store = DynamoDBBreakerStore(closed_port_dynamodb(aws_region), CONTROL_TABLE)
    breaker = CircuitBreaker(store, clock_ms=clock, monotonic=clock.monotonic)

    decision = breaker.check("number", "1001")
    assert decision.verdict is Verdict.UNKNOWN
    assert not decision.allowed
    assert decision.state is None
    assert decision.retry_after_s == 5
    assert decision.reason == "breaker store unavailable"

    # Reporting outcomes never raises on the send path...
    for _ in range(10):
        breaker.record_failure("number", "1001")
    breaker.record_success("number", "1001")
    breaker.hold_open("waba", "2002", secret_version="v1", reason="190")
    # ...but operators hear about it.
    with pytest.raises(BreakerUnavailable):
        breaker.reset("number", "1001")
    with pytest.raises(BreakerUnavailable):
        breaker.state("number", "1001")


def test_a_known_open_breaker_is_never_taken_for_closed(
    store: BreakerStore, clock: SimClock
) -> None:
    outage = _Outage(store)
    breaker = CircuitBreaker(outage, clock_ms=clock, monotonic=clock.monotonic)
    for _ in range(5):
        breaker.check("number", "1001")
        breaker.record_failure("number", "1001")
    assert breaker.check("number", "1001").verdict is Verdict.REJECT

    outage.down = True
    clock.advance(31)  # cache stale and cool-down over: only the store could say "probe"
    decision = breaker.check("number", "1001")
    assert decision.verdict is Verdict.UNKNOWN
    assert decision.state is BreakerState.OPEN  # what this environment last knew

    outage.down = False
    assert breaker.check("number", "1001").verdict is Verdict.PROBE


def test_a_cached_closed_state_lasts_only_its_ttl(store: BreakerStore, clock: SimClock) -> None:
    outage = _Outage(store)
    breaker = CircuitBreaker(
        outage, BreakerSettings(cache_ttl_s=2), clock_ms=clock, monotonic=clock.monotonic
    )
    assert breaker.check("number", "1001").verdict is Verdict.ALLOW
    outage.down = True
    clock.advance(1)
    assert breaker.check("number", "1001").verdict is Verdict.ALLOW
    clock.advance(1)
    assert breaker.check("number", "1001").verdict is Verdict.UNKNOWN


def test_an_opening_lost_in_an_outage_is_redone(store: BreakerStore, clock: SimClock) -> None:
    outage = _Outage(store)
    breaker = CircuitBreaker(outage, clock_ms=clock, monotonic=clock.monotonic)
    for _ in range(4):
        assert breaker.check("number", "1001").allowed
        breaker.record_failure("number", "1001")
    outage.down = True
    breaker.record_failure("number", "1001")  # trips, but the write is lost
    assert breaker.check("number", "1001").verdict is Verdict.UNKNOWN
    outage.down = False
    assert store.load("breaker#number#1001").state is BreakerState.CLOSED
    assert breaker.check("number", "1001").allowed
    breaker.record_failure("number", "1001")  # the count was kept: this one opens it
    assert store.load("breaker#number#1001").state is BreakerState.OPEN
