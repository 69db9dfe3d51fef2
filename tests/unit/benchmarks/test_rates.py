"""The arithmetic the rate benchmarks report: windows, rates, verdicts, sizing."""

from __future__ import annotations

import math

import pytest

from benchmarks._rates import (
    cores_needed,
    count_between,
    environments_for,
    holds,
    max_in_window,
    per_second,
    percentile,
    rate_between,
)


def test_count_between_is_half_open() -> None:
    times = [0.0, 0.5, 1.0, 1.5, 2.0]
    assert count_between(times, 0.0, 1.0) == 2
    assert count_between(times, 1.0, 2.0) == 2
    assert count_between(times, 2.5, 3.0) == 0


def test_rate_between() -> None:
    times = [i / 10 for i in range(100)]  # 10 per second for 10 s
    assert rate_between(times, 2.0, 10.0) == pytest.approx(10.0)
    assert rate_between(times, 5.0, 5.0) == 0.0


def test_max_in_window_matches_the_simulators_rule() -> None:
    # The simulator counts what it accepted in the last `window` seconds, an answer
    # `window` seconds old no longer counting: 0.0 and 1.0 are never in one window.
    assert max_in_window([0.0, 1.0, 2.0], 1.0) == 1
    assert max_in_window([0.0, 0.999, 1.0], 1.0) == 2
    assert max_in_window([], 1.0) == 0


def test_a_late_burst_shares_its_window_with_one_more_steady_send() -> None:
    steady = [k / 10 for k in range(1, 11)]  # 0.1 .. 1.0
    on_time = sorted([0.0] * 5 + steady)
    late = sorted([0.05] * 5 + steady)
    assert max_in_window(on_time, 1.0) == 14
    assert max_in_window(late, 1.0) == 15


def test_per_second() -> None:
    times = [0.1, 0.2, 1.5, 2.9, 3.0]
    assert per_second(times, 0.0, 4) == [2, 1, 1, 1]


def test_percentile() -> None:
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([0.0, 10.0], 0.95) == pytest.approx(9.5)
    assert math.isnan(percentile([], 0.5))


@pytest.mark.parametrize(
    ("rate", "throttled", "expected"),
    [(950.0, 0, True), (949.9, 0, False), (999.0, 1, False), (1000.0, 0, True)],
)
def test_holds(rate: float, throttled: int, expected: bool) -> None:
    assert holds(rate, 1000, throttled, 0.05) is expected


def test_environments_for_offers_headroom_over_the_cap() -> None:
    # One environment: 10 messages every 150 ms, about 67 a second.
    assert environments_for(1000, 0.15) == 19
    assert environments_for(200, 0.15) == 4
    assert environments_for(1, 0.15) == 1
    with pytest.raises(ValueError, match="positive"):
        environments_for(0, 0.15)


def test_cores_needed() -> None:
    assert cores_needed(1000, {"moto": 15.0, "simulator": 0.5}) == {
        "moto": 15.0,
        "simulator": 0.5,
    }
