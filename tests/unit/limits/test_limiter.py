"""Limiter logic on the in-memory store: reservations, conflicts, penalties, overrides."""

from __future__ import annotations

import itertools
import math
import random
import threading
from collections import deque
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pixy_whatsapp.limits import (
    GcraPolicy,
    GrantReason,
    InMemoryLimitStore,
    Limiter,
    LimitKey,
    LimitSettings,
    Reservation,
    ReservationTooLarge,
    TatSwap,
    plan_wait,
)
from pixy_whatsapp.limits.gcra import reserve
from pixy_whatsapp.limits.policies import SQS_BATCH

from tests.support.control_table import SimClock

NUMBER = LimitKey.number("1001")
PAIR = LimitKey.pair("1001", "447700900001")
WABA = LimitKey.waba("2002")
# The whole allowance as the sustained rate: round numbers (12.5 ms a token at 80 mps).
PLAIN = LimitSettings(number_window_s=None)


def limiter_for(
    store: InMemoryLimitStore,
    clock: SimClock,
    settings: LimitSettings | None = None,
    **tuning: Any,
) -> Limiter:
    """One Lambda execution environment: its own caches, the shared store."""
    return Limiter(store, settings or PLAIN, clock_ms=clock, monotonic=clock.monotonic, **tuning)


def test_keys_name_their_control_table_items() -> None:
    assert NUMBER.pk == "limit#number#1001"
    assert PAIR.pk == "limit#pair#1001#447700900001"
    assert WABA.pk == "limit#waba#2002"
    assert PAIR.phone_number_id == "1001"
    assert WABA.phone_number_id is None


def test_default_policies() -> None:
    limits = LimitSettings()
    number = limits.number_policy()
    # 66 mps + a burst of 10 + 4 of margin for late arrivals: 80 a second.
    assert (number.interval_us, number.burst) == (15_152, 10)
    upgraded = limits.number_policy(1_000)
    assert (upgraded.interval_us, upgraded.burst) == (1_112, 50)  # 900 mps + 50 + 50
    shared_with_the_app = limits.number_policy(20)
    assert (shared_with_the_app.interval_us, shared_with_the_app.burst) == (71_429, 5)
    assert (limits.pair.interval_us, limits.pair.burst) == (6_000_000, 5)
    assert limits.waba is None
    assert (PLAIN.number_policy().interval_us, PLAIN.number_policy().burst) == (12_500, 10)


@pytest.mark.parametrize("mps", [1, 2, 5, 20, 80, 250, 400, 1_000])
@pytest.mark.parametrize("late_us", [0, 50_000])
def test_default_number_policy_keeps_every_second_within_the_allowance(
    mps: int, late_us: int
) -> None:
    """Saturating demand in batches of up to 10, counted the way a strict receiver would:
    messages in any sliding one-second window, each batch arriving anywhere up to
    `late_us` after its slot (a seeded draw: the reservation's round trip, the network)."""
    settings = LimitSettings()
    policy = settings.number_policy(mps)
    batch = min(SQS_BATCH, policy.burst)
    draw = random.Random(mps)
    now, tat, arrivals = 0, None, []
    while now < 5_000_000:
        outcome = reserve(policy, tat, now, batch)
        if outcome.granted:
            tat = outcome.tat_us
            arrivals.extend([now + draw.randint(0, late_us)] * batch)
        else:
            now += outcome.wait_us
    arrivals.sort()
    window, busiest = deque[int](), 0
    for at in arrivals:
        window.append(at)
        while window[0] <= at - 1_000_000:
            window.popleft()
        busiest = max(busiest, len(window))
    assert busiest <= mps
    margin = math.ceil(mps * settings.number_jitter_s)
    assert busiest >= mps - policy.burst - margin - 1  # giving away at most those


def test_a_batch_takes_one_write_and_a_refusal_takes_none(clock: SimClock) -> None:
    store = InMemoryLimitStore()
    limiter = limiter_for(store, clock)

    grant = limiter.reserve(Reservation(NUMBER, tokens=10))
    assert grant.granted
    assert grant.reason is GrantReason.GRANTED
    assert grant.wait_s == 0
    assert grant.tat_ms == pytest.approx(clock.ms + 125)
    assert store.writes == 1

    refused = limiter.reserve(Reservation(NUMBER, tokens=3))
    assert not refused.granted
    assert refused.reason is GrantReason.RATE
    assert refused.wait_s == pytest.approx(0.0375)
    assert store.writes == 1  # refused without touching the store
    assert store.read_tat(NUMBER.pk) == round(clock.ms * 1000) + 125_000

    clock.advance(0.0375)
    assert limiter.reserve(Reservation(NUMBER, tokens=3)).granted
    assert store.writes == 2


def test_booking_ahead_grants_with_a_wait(clock: SimClock) -> None:
    limiter = limiter_for(InMemoryLimitStore(), clock)
    assert limiter.reserve(Reservation(PAIR, tokens=5)).granted
    booked = limiter.reserve(Reservation(PAIR, tokens=1, max_wait_s=6))
    assert booked.granted
    assert booked.wait_s == pytest.approx(6)
    # The slot is taken: a second caller has to wait past it.
    assert limiter.reserve(Reservation(PAIR, tokens=1, max_wait_s=6)).granted is False


def test_a_stale_view_costs_one_conflict_and_never_over_admits(clock: SimClock) -> None:
    store = InMemoryLimitStore()
    first, second = limiter_for(store, clock), limiter_for(store, clock)
    assert first.reserve(Reservation(NUMBER, tokens=6)).granted
    # `second` has never seen the key: it assumes it is empty, loses, learns, and only
    # gets what is left.
    assert second.reserve(Reservation(NUMBER, tokens=4)).granted
    assert store.writes == 3
    assert not second.reserve(Reservation(NUMBER, tokens=1)).granted
    # `first` still believes 4 tokens are left: one failed write teaches it otherwise.
    assert not first.reserve(Reservation(NUMBER, tokens=1)).granted
    assert store.writes == 4
    assert store.read_tat(NUMBER.pk) == round(clock.ms * 1000) + 10 * 12_500


class _AlwaysOvertaken(InMemoryLimitStore):
    """Another writer moves the key 1 us further before every write of ours."""

    def swap_tat(self, pk: str, expected_us: int | None, new_us: int) -> TatSwap:
        current = (expected_us or 0) + 1
        self._tats[pk] = current
        self.writes += 1
        return TatSwap(applied=False, current_us=current)


def test_losing_every_round_gives_up_after_bounded_attempts(clock: SimClock) -> None:
    store = _AlwaysOvertaken()
    grant = limiter_for(store, clock, max_attempts=3).reserve(Reservation(NUMBER, tokens=2))
    assert not grant.granted
    assert grant.reason is GrantReason.CONTENDED
    assert grant.wait_s == pytest.approx(0.025)
    assert store.writes == 3


def test_too_many_tokens_for_the_burst(clock: SimClock) -> None:
    with pytest.raises(ReservationTooLarge):
        limiter_for(InMemoryLimitStore(), clock).reserve(Reservation(PAIR, tokens=6))


def test_number_override_is_read_once_and_cached(clock: SimClock) -> None:
    store = InMemoryLimitStore()
    reads: list[str] = []
    original = store.read_number_mps

    def counting(phone_number_id: str) -> float | None:
        reads.append(phone_number_id)
        return original(phone_number_id)

    store.read_number_mps = counting  # type: ignore[method-assign]
    limiter = limiter_for(store, clock, override_ttl_s=30)
    other_environment = limiter_for(store, clock)

    assert limiter.policy(NUMBER) == PLAIN.number_policy(80)
    other_environment.set_number_mps("1001", 1_000, at_ms=5)
    assert limiter.policy(NUMBER) == PLAIN.number_policy(80)  # cached
    clock.advance(30)
    assert limiter.policy(NUMBER) == PLAIN.number_policy(1_000)
    assert reads == ["1001", "1001"]

    # An older report (webhooks arrive out of order) does not undo the upgrade.
    limiter.set_number_mps("1001", 80, at_ms=4)
    assert limiter.policy(NUMBER) == PLAIN.number_policy(1_000)
    assert limiter.reserve(Reservation(NUMBER, tokens=50)).granted


def test_penalty_pauses_a_metered_key(clock: SimClock) -> None:
    store = InMemoryLimitStore()
    limiter = limiter_for(store, clock)
    limiter.penalize(NUMBER, 2.0)
    refused = limiter.reserve(Reservation(NUMBER, tokens=1))
    assert not refused.granted
    assert refused.wait_s == pytest.approx(2.0125)
    limiter.penalize(NUMBER, 0.5)  # never shortens
    clock.advance(2.0125)
    assert limiter.reserve(Reservation(NUMBER, tokens=1)).granted
    # The burst comes back over time, not all at once.
    assert not limiter.reserve(Reservation(NUMBER, tokens=1)).granted


def test_another_environments_penalty_is_honoured(clock: SimClock) -> None:
    store = InMemoryLimitStore()
    sender, receiver = limiter_for(store, clock), limiter_for(store, clock)
    assert sender.reserve(Reservation(PAIR)).granted
    receiver.penalize(PAIR, 16)  # 131056 seen by another environment
    grant = sender.reserve(Reservation(PAIR))
    assert not grant.granted
    assert grant.wait_s == pytest.approx(16 + 6)


def test_unmetered_waba_key_only_honours_penalties(clock: SimClock) -> None:
    store = InMemoryLimitStore()
    limiter = limiter_for(store, clock, gate_ttl_s=1.0)
    other = limiter_for(store, clock)
    for _ in range(50):
        assert limiter.reserve(Reservation(WABA, tokens=10)).granted
    assert store.writes == 0

    other.penalize(WABA, 30)
    assert limiter.reserve(Reservation(WABA)).granted  # cached for at most gate_ttl_s
    clock.advance(1.0)
    refused = limiter.reserve(Reservation(WABA))
    assert not refused.granted
    assert refused.wait_s == pytest.approx(29)
    assert limiter.reserve(Reservation(WABA, max_wait_s=29)).granted
    clock.advance(29)
    assert limiter.reserve(Reservation(WABA)).granted


def test_metered_waba_key(clock: SimClock) -> None:
    waba_limit = LimitSettings(number_window_s=None, waba=GcraPolicy.per(200, burst=20))
    limiter = limiter_for(InMemoryLimitStore(), clock, waba_limit)
    assert limiter.reserve(Reservation(WABA, tokens=20)).granted
    assert not limiter.reserve(Reservation(WABA)).granted


class _Rendezvous(InMemoryLimitStore):
    """Every write waits until `parties` writes are in flight together."""

    def __init__(self, parties: int) -> None:
        super().__init__()
        self.barrier = threading.Barrier(parties, timeout=5)

    def swap_tat(self, pk: str, expected_us: int | None, new_us: int) -> TatSwap:
        self.barrier.wait()
        return super().swap_tat(pk, expected_us, new_us)


def test_reserve_many_runs_independent_keys_concurrently_in_order(clock: SimClock) -> None:
    store = _Rendezvous(parties=4)
    limiter = limiter_for(store, clock, max_workers=4)
    keys = [NUMBER, *(LimitKey.pair("1001", f"4477009{i:05d}") for i in range(3))]
    grants = limiter.reserve_many([Reservation(k, tokens=2) for k in keys])
    limiter.close()
    # Had the writes run one at a time, the barrier would have broken.
    assert [g.key for g in grants] == keys
    assert all(g.granted for g in grants)


def test_reserve_many_with_one_reservation_stays_on_the_caller_thread(clock: SimClock) -> None:
    limiter = limiter_for(InMemoryLimitStore(), clock)
    assert [g.granted for g in limiter.reserve_many([Reservation(NUMBER)])] == [True]
    assert limiter.reserve_many([]) == []


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 12),
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 400_000), st.integers(1, 12), st.booleans()),
        min_size=1,
        max_size=80,
    ),
)
def test_environments_sharing_a_store_never_over_admit(
    burst: int, steps: list[tuple[int, int, int, bool]]
) -> None:
    """Three environments with their own (stale) views of one key, on a simulated clock."""
    policy = GcraPolicy.per(20, burst=burst)  # 50 ms per token
    clock = SimClock(start_ms=1_000_000.0)
    store = InMemoryLimitStore()
    environments = [limiter_for(store, clock, LimitSettings(pair=policy)) for _ in range(3)]
    elapsed_us = 0
    sends: list[tuple[int, int]] = []
    for environment, gap_us, tokens, book in steps:
        elapsed_us += gap_us
        clock.ms = 1_000_000.0 + elapsed_us / 1_000
        n = min(tokens, burst)
        grant = environments[environment].reserve(
            Reservation(PAIR, tokens=n, max_wait_s=0.2 if book else 0.0)
        )
        if grant.granted:
            sends.append((elapsed_us + round(grant.wait_s * 1_000_000), n))
    sends.sort()
    totals = [0, *itertools.accumulate(n for _, n in sends)]
    for i, j in itertools.combinations_with_replacement(range(len(sends)), 2):
        span = sends[j][0] - sends[i][0]
        assert (totals[j + 1] - totals[i]) * policy.interval_us <= span + policy.tolerance_us


@pytest.mark.parametrize(
    ("wait_s", "sleep_s", "delay_s"),
    [
        (0.0, 0.0, 0),
        (0.4, 0.4, 0),
        (1.0, 1.0, 0),
        (1.2, 0.0, 2),  # rounded up: never back before the key can admit it
        (22.0, 0.0, 22),
        (90_000.0, 0.0, 43_200),  # SQS's visibility ceiling
    ],
)
def test_plan_wait_sleeps_short_waits_and_defers_long_ones(
    wait_s: float, sleep_s: float, delay_s: int
) -> None:
    plan = plan_wait(wait_s, max_sleep_s=1.0)
    assert (plan.sleep_s, plan.delay_s, plan.deferred) == (sleep_s, delay_s, delay_s > 0)
