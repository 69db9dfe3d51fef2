"""GCRA math: exact cases, then properties over arbitrary arrivals on a simulated clock."""

from __future__ import annotations

import heapq
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pixy_whatsapp.limits import GcraPolicy, InvalidLimit, ReservationTooLarge
from pixy_whatsapp.limits.gcra import penalty_tat, reserve


def test_policy_intervals_are_exact_or_rounded_up() -> None:
    assert GcraPolicy.per(80, burst=10).interval_us == 12_500
    assert GcraPolicy.per(1, 6, burst=5).interval_us == 6_000_000
    assert GcraPolicy.per(1_000, burst=100).interval_us == 1_000
    # 3 per second is 333,333.33 us: rounding up keeps the limiter at or below the rate.
    assert GcraPolicy.per(3, burst=1).interval_us == 333_334
    assert GcraPolicy.per(1, 6, burst=5).tolerance_us == 30_000_000


@pytest.mark.parametrize(("count", "seconds", "burst"), [(0, 1, 1), (1, 0, 1), (1, 1, 0)])
def test_policy_rejects_impossible_limits(count: float, seconds: float, burst: int) -> None:
    with pytest.raises(InvalidLimit):
        GcraPolicy.per(count, seconds, burst=burst)


def test_a_full_key_grants_its_burst_then_says_how_long_to_wait() -> None:
    policy = GcraPolicy.per(1, 6, burst=5)
    first = reserve(policy, None, 0, 5)
    assert first.granted
    assert first.tat_us == 30_000_000
    assert first.wait_us == 0

    refused = reserve(policy, first.tat_us, 1_000_000, 2)
    assert not refused.granted
    assert refused.tat_us == first.tat_us  # nothing consumed
    # Two tokens are back 12 s after the burst, i.e. 11 s from now.
    assert refused.wait_us == 11_000_000

    later = reserve(policy, first.tat_us, 12_000_000, 2)
    assert later.granted
    assert later.tat_us == 42_000_000


def test_booking_ahead_reserves_a_later_slot_within_max_wait() -> None:
    policy = GcraPolicy.per(1, 6, burst=1)
    first = reserve(policy, None, 0, 1)
    assert reserve(policy, first.tat_us, 0, 1, max_wait_us=5_999_999).granted is False
    booked = reserve(policy, first.tat_us, 0, 1, max_wait_us=6_000_000)
    assert booked.granted
    assert booked.wait_us == 6_000_000
    assert booked.tat_us == 12_000_000


def test_idle_time_beyond_the_burst_is_not_banked() -> None:
    policy = GcraPolicy.per(10, burst=2)
    outcome = reserve(policy, 0, 3_600_000_000, 2)
    assert outcome.granted
    assert not reserve(policy, outcome.tat_us, 3_600_000_000, 1).granted


def test_reservations_larger_than_the_burst_can_never_be_granted() -> None:
    with pytest.raises(ReservationTooLarge):
        reserve(GcraPolicy.per(80, burst=10), None, 0, 11)
    with pytest.raises(InvalidLimit):
        reserve(GcraPolicy.per(80, burst=10), None, 0, 0)


def test_penalty_pauses_then_resumes_at_the_sustained_rate() -> None:
    policy = GcraPolicy.per(10, burst=5)  # 100 ms per token
    tat = penalty_tat(policy, None, 0, 2_000_000)
    assert not reserve(policy, tat, 2_000_000 + 99_999, 1).granted
    assert reserve(policy, tat, 2_100_000, 1).granted
    # A shorter penalty never pulls an existing one back.
    assert penalty_tat(policy, tat, 0, 1_000) == tat
    # Unmetered keys: the pause alone.
    assert penalty_tat(None, None, 50, 1_000) == 1_050


# --- properties -------------------------------------------------------------------------


@st.composite
def policies(draw: st.DrawFn) -> tuple[GcraPolicy, float]:
    seconds = draw(st.sampled_from([0.5, 1.0, 6.0, 60.0]))
    count = draw(st.integers(min_value=1, max_value=1_000))
    burst = draw(st.integers(min_value=1, max_value=45))
    return GcraPolicy.per(count, seconds, burst=burst), count / seconds


@st.composite
def arrival_patterns(
    draw: st.DrawFn,
) -> tuple[GcraPolicy, float, list[tuple[int, int, int]]]:
    policy, rate = draw(policies())
    tolerance = policy.tolerance_us
    arrivals = draw(
        st.lists(
            st.tuples(
                # gaps from simultaneous to well past a full refill, with a bias to bursts
                st.one_of(
                    st.just(0),
                    st.integers(0, policy.interval_us),
                    st.integers(0, 3 * tolerance),
                ),
                st.integers(1, policy.burst),
                st.one_of(st.just(0), st.integers(0, tolerance)),
            ),
            min_size=1,
            max_size=120,
        )
    )
    return policy, rate, arrivals


def admitted_in_windows_ok(policy: GcraPolicy, rate: float, sends: list[tuple[int, int]]) -> None:
    """Every window [a, b] holds at most rate*(b-a) + burst tokens.

    Windows that start and end on send times are the tightest, so checking every pair of
    send times covers every window."""
    sends.sort()
    times = [t for t, _ in sends]
    totals = [0, *itertools.accumulate(n for _, n in sends)]
    for i, j in itertools.combinations_with_replacement(range(len(sends)), 2):
        tokens = totals[j + 1] - totals[i]
        span_us = times[j] - times[i]
        assert tokens * policy.interval_us <= span_us + policy.tolerance_us
        assert tokens <= rate * span_us / 1_000_000 + policy.burst + 1e-9


@settings(max_examples=150, deadline=None)
@given(arrival_patterns())
def test_never_admits_more_than_rate_times_window_plus_burst(
    case: tuple[GcraPolicy, float, list[tuple[int, int, int]]],
) -> None:
    policy, rate, arrivals = case
    now, tat = 0, None
    sends: list[tuple[int, int]] = []
    for gap, tokens, max_wait in arrivals:
        now += gap
        outcome = reserve(policy, tat, now, tokens, max_wait)
        if outcome.granted:
            tat = outcome.tat_us
            sends.append((now + outcome.wait_us, tokens))  # booked tokens count when used
        else:
            assert outcome.tat_us == tat
            assert outcome.wait_us > max_wait
    admitted_in_windows_ok(policy, rate, sends)


@settings(max_examples=100, deadline=None)
@given(
    policies(),
    st.lists(st.lists(st.integers(1, 45), min_size=1, max_size=6), min_size=1, max_size=5),
    st.integers(0, 3),
    st.integers(20, 400),
)
def test_saturating_demand_uses_all_capacity_within_one_burst(
    case: tuple[GcraPolicy, float],
    client_batches: list[list[int]],
    booking_share: int,
    horizon_intervals: int,
) -> None:
    """Several clients always want more than the key gives. Each one retries exactly when
    told, so over a long run the key admits rate x elapsed, give or take one burst."""
    policy, rate = case
    max_wait = booking_share * policy.tolerance_us // 3
    horizon = horizon_intervals * policy.interval_us
    cycles = [itertools.cycle([min(n, policy.burst) for n in sizes]) for sizes in client_batches]
    pending = [next(c) for c in cycles]
    queue = [(0, client) for client in range(len(cycles))]
    tat: int | None = None
    sent = 0
    while queue[0][0] <= horizon:
        now, client = heapq.heappop(queue)
        outcome = reserve(policy, tat, now, pending[client], max_wait)
        if outcome.granted:
            tat = outcome.tat_us
            if now + outcome.wait_us <= horizon:
                sent += pending[client]
            pending[client] = next(cycles[client])
        heapq.heappush(queue, (now + outcome.wait_us, client))
    elapsed_s = horizon / 1_000_000
    assert sent * policy.interval_us >= horizon  # no capacity lost
    assert sent * policy.interval_us <= horizon + policy.tolerance_us
    # (the rate form with a hair of slack for float rounding; the integer form is exact)
    assert rate * elapsed_s - 1 - 1e-9 <= sent <= rate * elapsed_s + policy.burst + 1e-9
