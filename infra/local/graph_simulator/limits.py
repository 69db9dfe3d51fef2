"""Meta's two send limits: throughput per phone number and the pair limit per recipient.

Each limit answers `allows` without spending anything and `spend` once the message is
accepted, so a message refused by one limit (or by a fault) costs nothing in the other.
The simulator calls both from its single event loop thread, with no await in between.
"""

from __future__ import annotations

from collections import deque


class SlidingWindowCounter:
    """Accepted messages per key over the last `window` seconds."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._times: dict[str, deque[float]] = {}

    def allows(self, key: str, limit: int, now: float) -> bool:
        times = self._times.get(key)
        if times is None:
            return True
        horizon = now - self.window
        while times and times[0] <= horizon:
            times.popleft()
        return len(times) < limit

    def spend(self, key: str, now: float) -> None:
        self._times.setdefault(key, deque()).append(now)

    def count(self, key: str, now: float) -> int:
        times = self._times.get(key, deque())
        return sum(1 for moment in times if moment > now - self.window)


class PairLimiter:
    """A GCRA per (phone number, recipient): one message per interval, bursts of `burst`."""

    # Recipients whose allowance is full again carry no information; drop them now and then.
    _PRUNE_ABOVE = 10_000

    def __init__(self) -> None:
        self._theoretical_arrival: dict[tuple[str, str], float] = {}

    def allows(self, key: tuple[str, str], interval: float, burst: int, now: float) -> bool:
        arrival = max(self._theoretical_arrival.get(key, now), now) + interval
        return arrival - now <= burst * interval

    def spend(self, key: tuple[str, str], interval: float, now: float) -> None:
        self._theoretical_arrival[key] = (
            max(self._theoretical_arrival.get(key, now), now) + interval
        )
        if len(self._theoretical_arrival) > self._PRUNE_ABOVE:
            self._theoretical_arrival = {
                pair: arrival
                for pair, arrival in self._theoretical_arrival.items()
                if arrival > now
            }

    def reset(self) -> None:
        self._theoretical_arrival.clear()
