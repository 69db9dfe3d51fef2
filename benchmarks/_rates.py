"""Arithmetic on acceptance times and CPU figures, shared by the rate benchmarks.

Times are seconds on one clock (the simulator's `accepted_at`, epoch seconds). Kept apart
from the benchmarks so it can be tested without servers.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence


def count_between(times: Sequence[float], start: float, end: float) -> int:
    """How many of the sorted `times` fall in [start, end)."""
    return bisect.bisect_left(times, end) - bisect.bisect_left(times, start)


def rate_between(times: Sequence[float], start: float, end: float) -> float:
    """Events per second over [start, end) of the sorted `times`."""
    if end <= start:
        return 0.0
    return count_between(times, start, end) / (end - start)


def max_in_window(times: Sequence[float], window: float) -> int:
    """The most sorted `times` inside any half-open window of `window` seconds.

    The simulator refuses a message when its number already accepted `mps` messages in
    the `window` seconds before it (`SlidingWindowCounter`): a run stays clear of 130429
    exactly when this stays at or under the cap.
    """
    most = 0
    first = 0
    for last, moment in enumerate(times):
        while moment - times[first] >= window:
            first += 1
        most = max(most, last - first + 1)
    return most


def per_second(times: Sequence[float], start: float, seconds: int) -> list[int]:
    """Counts of the sorted `times` in each whole second from `start`."""
    return [count_between(times, start + i, start + i + 1) for i in range(seconds)]


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in [0, 1]); NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * q
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def holds(rate: float, cap: float, throttled: int, tolerance: float) -> bool:
    """The goal: at least (1 - tolerance) of the cap, and not one 130429."""
    return throttled == 0 and rate >= cap * (1 - tolerance)


def environments_for(cap: float, cycle_s: float, batch: int = 10, headroom: float = 1.25) -> int:
    """Environments needed to offer `headroom` times the cap.

    One environment sends one batch per cycle (reservation, then the Graph round trip),
    so it offers `batch / cycle_s` messages a second at most.
    """
    if cap <= 0 or cycle_s <= 0 or batch < 1:
        raise ValueError("cap, cycle and batch must be positive")
    return max(1, math.ceil(cap * headroom * cycle_s / batch))


def cores_needed(rate: float, cpu_ms_per_message: dict[str, float]) -> dict[str, float]:
    """Cores each part would use at `rate` messages a second, from its CPU per message."""
    return {name: rate * ms / 1000 for name, ms in cpu_ms_per_message.items()}
