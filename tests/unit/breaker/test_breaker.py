"""CircuitBreaker behaviour, on the in-memory store and on DynamoDB (moto) alike."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from pixy_whatsapp.breaker import (
    BreakerEvent,
    BreakerEventKind,
    BreakerRecord,
    BreakerSettings,
    BreakerState,
    BreakerStore,
    CircuitBreaker,
    EventLog,
    InMemoryBreakerStore,
    Replaced,
    Scope,
    Verdict,
)

from tests.support.control_table import SimClock

NUMBER = "1001"
WABA = "2002"


def environment(
    store: BreakerStore,
    clock: SimClock,
    log: EventLog | None = None,
    settings: BreakerSettings | None = None,
) -> CircuitBreaker:
    """One Lambda execution environment: its own caches and counters, the shared store."""
    return CircuitBreaker(
        store,
        settings,
        listeners=[log] if log is not None else [],
        clock_ms=clock,
        monotonic=clock.monotonic,
    )


def kinds(log: EventLog) -> list[BreakerEventKind]:
    return [event.kind for event in log.drain()]


def fail(
    breaker: CircuitBreaker, times: int, scope: str = "number", scope_id: str = NUMBER
) -> None:
    for _ in range(times):
        assert breaker.check(scope, scope_id).allowed
        breaker.record_failure(scope, scope_id, reason="131000")


def open_breaker(breaker: CircuitBreaker) -> None:
    fail(breaker, breaker.settings.consecutive_failures)
    assert breaker.check("number", NUMBER).verdict is Verdict.REJECT


def test_opens_after_consecutive_failures(store: BreakerStore, clock: SimClock) -> None:
    log = EventLog()
    breaker = environment(store, clock, log)
    fail(breaker, 4)
    breaker.check("number", NUMBER)
    breaker.record_success("number", NUMBER)  # a success breaks the run
    fail(breaker, 4)
    assert breaker.check("number", NUMBER).verdict is Verdict.ALLOW
    assert kinds(log) == []

    breaker.record_failure("number", NUMBER, reason="131000")
    events = log.drain()
    assert [e.kind for e in events] == [BreakerEventKind.OPENED]
    assert events[0].state is BreakerState.OPEN
    assert events[0].scope is Scope.NUMBER
    assert events[0].previous is BreakerState.CLOSED
    assert events[0].cooldown_s == 30
    assert events[0].reason == "5 consecutive failures: 131000"

    decision = breaker.check("number", NUMBER)
    assert decision.verdict is Verdict.REJECT
    assert not decision.allowed
    assert decision.state is BreakerState.OPEN
    assert decision.retry_after_s == 30
    assert store.load("breaker#number#1001").opens == 1


def test_opens_on_failure_rate_over_the_window(store: BreakerStore, clock: SimClock) -> None:
    breaker = environment(store, clock, settings=BreakerSettings(consecutive_failures=100))
    # 19 calls at 50 %: below the minimum number of calls.
    for i in range(19):
        assert breaker.check("number", NUMBER).allowed
        if i % 2:
            breaker.record_failure("number", NUMBER)
        else:
            breaker.record_success("number", NUMBER)
    # Those calls age out of the 60 s window: the next 19 do not add up with them.
    clock.advance(61)
    for i in range(19):
        assert breaker.check("number", NUMBER).allowed
        if i % 2:
            breaker.record_failure("number", NUMBER)
        else:
            breaker.record_success("number", NUMBER)
    assert breaker.check("number", NUMBER).allowed
    breaker.record_failure("number", NUMBER)  # the 20th call: 10 of 20 failed
    decision = breaker.check("number", NUMBER)
    assert decision.verdict is Verdict.REJECT
    assert decision.reason == "10 of 20 calls failed in 60 s"


def test_failures_below_the_rate_do_not_open(store: BreakerStore, clock: SimClock) -> None:
    breaker = environment(store, clock, settings=BreakerSettings(consecutive_failures=100))
    for i in range(60):
        assert breaker.check("number", NUMBER).allowed
        if i % 3 == 0:
            breaker.record_failure("number", NUMBER)
        else:
            breaker.record_success("number", NUMBER)
    assert breaker.check("number", NUMBER).allowed


def test_half_open_lets_exactly_one_probe_through_across_environments(
    store: BreakerStore, clock: SimClock
) -> None:
    log = EventLog()
    environments = [environment(store, clock, log) for _ in range(4)]
    open_breaker(environments[0])
    clock.advance(29.5)
    for env in environments:
        assert env.check("number", NUMBER).verdict is Verdict.REJECT
    # Every environment still holds a fresh "open" when the cool-down ends, so each one
    # tries to claim the probe: only the conditional write can keep it to one.
    clock.advance(0.5)
    log.drain()

    verdicts: list[Verdict] = []
    lock = threading.Lock()
    start = threading.Barrier(12)

    def ask(env: CircuitBreaker) -> None:
        start.wait()
        decision = env.check("number", NUMBER)
        with lock:
            verdicts.append(decision.verdict)

    threads = [threading.Thread(target=ask, args=(environments[i % 4],)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert verdicts.count(Verdict.PROBE) == 1
    assert verdicts.count(Verdict.REJECT) == 11
    assert kinds(log) == [BreakerEventKind.HALF_OPENED]
    record = store.load("breaker#number#1001")
    assert record.state is BreakerState.HALF_OPEN
    assert record.probe_owner is not None


def test_probe_success_closes(store: BreakerStore, clock: SimClock) -> None:
    log = EventLog()
    prober, other = environment(store, clock, log), environment(store, clock, log)
    open_breaker(prober)
    clock.advance(30)
    assert prober.check("number", NUMBER).verdict is Verdict.PROBE
    rejected = other.check("number", NUMBER)
    assert rejected.verdict is Verdict.REJECT
    assert rejected.state is BreakerState.HALF_OPEN
    assert rejected.retry_after_s == 5  # a probe takes a call, not the whole lease
    assert prober.check("number", NUMBER).verdict is Verdict.REJECT  # one probe per breaker

    prober.record_success("number", NUMBER)
    assert kinds(log) == [
        BreakerEventKind.OPENED,
        BreakerEventKind.HALF_OPENED,
        BreakerEventKind.CLOSED,
    ]
    assert prober.check("number", NUMBER).verdict is Verdict.ALLOW
    clock.advance(2)
    assert other.check("number", NUMBER).verdict is Verdict.ALLOW
    record = store.load("breaker#number#1001")
    assert (record.state, record.opens, record.reason) == (
        BreakerState.CLOSED,
        0,
        "probe succeeded",
    )


def test_probe_failure_reopens_with_a_growing_cooldown(
    store: BreakerStore, clock: SimClock
) -> None:
    log = EventLog()
    breaker = environment(store, clock, log, BreakerSettings(max_cooldown_s=100))
    open_breaker(breaker)
    cooldowns: list[float] = []
    for expected in (60, 100, 100):
        clock.advance(cooldowns[-1] if cooldowns else 30)
        assert breaker.check("number", NUMBER).verdict is Verdict.PROBE
        breaker.record_failure("number", NUMBER, reason="503")
        opened = [e for e in log.drain() if e.kind is BreakerEventKind.OPENED]
        assert opened[-1].cooldown_s == expected
        assert opened[-1].reason == "probe failed: 503"
        assert opened[-1].previous is BreakerState.HALF_OPEN
        cooldowns.append(expected)
        decision = breaker.check("number", NUMBER)
        assert (decision.verdict, decision.retry_after_s) == (Verdict.REJECT, expected)
    assert store.load("breaker#number#1001").opens == 4


def test_an_abandoned_probe_lease_expires(store: BreakerStore, clock: SimClock) -> None:
    crashed, survivor = environment(store, clock), environment(store, clock)
    open_breaker(crashed)
    clock.advance(30)
    assert crashed.check("number", NUMBER).verdict is Verdict.PROBE
    clock.advance(29)
    assert survivor.check("number", NUMBER).verdict is Verdict.REJECT
    clock.advance(1)  # the 30 s lease is over: the next caller probes instead
    assert survivor.check("number", NUMBER).verdict is Verdict.PROBE
    crashed.record_success("number", NUMBER)  # too late: not its probe any more
    assert store.load("breaker#number#1001").state is BreakerState.HALF_OPEN
    survivor.record_success("number", NUMBER)
    assert store.load("breaker#number#1001").state is BreakerState.CLOSED


def test_held_breaker_waits_for_new_credentials(store: BreakerStore, clock: SimClock) -> None:
    log = EventLog()
    sender, other = environment(store, clock, log), environment(store, clock, log)
    assert sender.check("waba", WABA, secret_version="v1").allowed
    sender.hold_open("waba", WABA, secret_version="v1", reason="190 token expired")
    assert kinds(log) == [BreakerEventKind.HELD]

    held = other.check("waba", WABA, secret_version="v1")
    assert (held.verdict, held.state, held.retry_after_s) == (
        Verdict.REJECT,
        BreakerState.HELD,
        60,
    )
    assert held.reason == "190 token expired"
    clock.advance(86_400)  # no half-open by time
    assert other.check("waba", WABA, secret_version="v1").verdict is Verdict.REJECT
    assert other.check("waba", WABA).verdict is Verdict.REJECT
    # The same failure reported again by another environment changes nothing.
    other.hold_open("waba", WABA, secret_version="v1", reason="190 token expired")
    assert kinds(log) == []

    assert other.check("waba", WABA, secret_version="v2").verdict is Verdict.ALLOW
    events = log.drain()
    assert [e.kind for e in events] == [BreakerEventKind.CLOSED]
    assert events[0].reason == "credentials changed to v2"
    clock.advance(2)
    assert sender.check("waba", WABA, secret_version="v2").verdict is Verdict.ALLOW


def test_held_without_a_secret_version_needs_an_operator(
    store: BreakerStore, clock: SimClock
) -> None:
    log = EventLog()
    breaker = environment(store, clock, log)
    breaker.hold_open("waba", WABA, secret_version=None, reason="368 restricted")
    assert breaker.check("waba", WABA, secret_version="v2").verdict is Verdict.REJECT
    record = breaker.reset("waba", WABA)
    assert record.state is BreakerState.CLOSED
    assert kinds(log) == [BreakerEventKind.HELD, BreakerEventKind.CLOSED]
    assert breaker.check("waba", WABA).verdict is Verdict.ALLOW


def test_operator_reset_closes_an_open_breaker(store: BreakerStore, clock: SimClock) -> None:
    log = EventLog()
    breaker, operator = environment(store, clock, log), environment(store, clock, log)
    open_breaker(breaker)
    assert operator.state("number", NUMBER).state is BreakerState.OPEN
    operator.reset("number", NUMBER)
    assert [e.reason for e in log.drain()][-1] == "operator reset"
    assert operator.reset("number", NUMBER).state is BreakerState.CLOSED  # idempotent
    assert kinds(log) == []
    clock.advance(2)
    assert breaker.check("number", NUMBER).verdict is Verdict.ALLOW


def test_cached_state_is_used_for_at_most_the_ttl(store: BreakerStore, clock: SimClock) -> None:
    counted = _CountingStore(store)
    watcher = environment(counted, clock, settings=BreakerSettings(cache_ttl_s=2))
    opener = environment(store, clock)
    for _ in range(50):  # the healthy path: one read, no writes
        assert watcher.check("number", NUMBER).allowed
        watcher.record_success("number", NUMBER)
    assert (counted.loads, counted.writes) == (1, 0)

    open_breaker(opener)
    clock.advance(1.9)
    assert watcher.check("number", NUMBER).verdict is Verdict.ALLOW  # still within the TTL
    clock.advance(0.1)
    assert watcher.check("number", NUMBER).verdict is Verdict.REJECT
    assert counted.loads == 2


def test_a_failure_drops_the_cached_state(store: BreakerStore, clock: SimClock) -> None:
    watcher, opener = environment(store, clock), environment(store, clock)
    assert watcher.check("number", NUMBER).allowed
    open_breaker(opener)
    watcher.record_failure("number", NUMBER)  # one failure: not enough to open by itself
    assert watcher.check("number", NUMBER).verdict is Verdict.REJECT


def test_failures_from_before_a_reclose_do_not_reopen(store: BreakerStore, clock: SimClock) -> None:
    slow, other = environment(store, clock), environment(store, clock)
    fail(slow, 4)  # counted under the first closed period
    open_breaker(other)
    clock.advance(30)
    assert other.check("number", NUMBER).verdict is Verdict.PROBE
    other.record_success("number", NUMBER)
    # `slow` still believes the breaker was never opened and reports one more failure.
    slow.record_failure("number", NUMBER)
    assert store.load("breaker#number#1001").state is BreakerState.CLOSED
    clock.advance(2)
    assert slow.check("number", NUMBER).verdict is Verdict.ALLOW


def test_a_failing_listener_does_not_stop_the_breaker(store: BreakerStore, clock: SimClock) -> None:
    def broken(event: BreakerEvent) -> None:
        raise RuntimeError("metrics down")

    log = EventLog()
    breaker = environment(store, clock)
    breaker.add_listener(broken)
    breaker.add_listener(log)
    open_breaker(breaker)
    assert kinds(log) == [BreakerEventKind.OPENED]


def test_scopes_are_independent(store: BreakerStore, clock: SimClock) -> None:
    breaker = environment(store, clock)
    open_breaker(breaker)
    assert breaker.check(Scope.NUMBER, "other").allowed
    assert breaker.check(Scope.WABA, NUMBER).allowed
    with pytest.raises(ValueError, match="template"):
        breaker.check("template", NUMBER)


@pytest.mark.parametrize(
    "bad",
    [
        {"consecutive_failures": 0},
        {"failure_rate": 0},
        {"failure_rate": 1.5},
        {"cooldown_s": 0},
        {"cooldown_factor": 0.5},
        {"max_cooldown_s": 1},
        {"cache_ttl_s": -1},
    ],
)
def test_settings_reject_nonsense(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        BreakerSettings(**bad)


class _CountingStore:
    """Passes through to a real store, counting what reaches it."""

    def __init__(self, inner: BreakerStore) -> None:
        self.inner = inner
        self.loads = 0
        self.writes = 0

    def load(self, pk: str) -> BreakerRecord:
        self.loads += 1
        return self.inner.load(pk)

    def replace(self, pk: str, expected_version: int, record: BreakerRecord) -> Replaced:
        self.writes += 1
        return self.inner.replace(pk, expected_version, record)


def test_in_memory_store_counts_its_traffic() -> None:
    store = InMemoryBreakerStore()
    assert store.load("breaker#number#x") == BreakerRecord()
    assert store.replace("breaker#number#x", 0, BreakerRecord(version=1)).saved
    assert not store.replace("breaker#number#x", 0, BreakerRecord(version=1)).saved
    assert (store.loads, store.writes) == (1, 2)


def test_cooldown_grows_to_its_cap_and_no_further() -> None:
    settings = BreakerSettings(cooldown_s=30, cooldown_factor=2, max_cooldown_s=600)
    assert [settings.cooldown_ms(n) for n in (1, 2, 3, 5, 6)] == [
        30_000,
        60_000,
        120_000,
        480_000,
        600_000,
    ]
    assert settings.cooldown_ms(5_000) == 600_000
