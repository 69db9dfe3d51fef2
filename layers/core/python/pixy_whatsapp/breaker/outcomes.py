"""Per-environment failure counting: consecutive failures and a sliding failure rate."""

from __future__ import annotations

from collections import deque

from pixy_whatsapp.breaker.settings import BreakerSettings


class OutcomeWindow:
    """Call outcomes of one breaker in this environment, in one-second buckets.

    `version` is the breaker version the counts were collected under: counts from
    before a breaker was reopened and closed again elsewhere must not trip it anew.
    """

    def __init__(self, settings: BreakerSettings, version: int | None) -> None:
        self._settings = settings
        self.version = version
        self.consecutive = 0
        self._buckets: deque[list[int]] = deque()  # [second, calls, failures]

    def _bucket(self, now_s: float) -> list[int]:
        second = int(now_s)
        horizon = second - self._settings.window_s
        while self._buckets and self._buckets[0][0] <= horizon:
            self._buckets.popleft()
        if not self._buckets or self._buckets[-1][0] != second:
            self._buckets.append([second, 0, 0])
        return self._buckets[-1]

    def success(self, now_s: float) -> None:
        self.consecutive = 0
        self._bucket(now_s)[1] += 1

    def failure(self, now_s: float) -> None:
        self.consecutive += 1
        bucket = self._bucket(now_s)
        bucket[1] += 1
        bucket[2] += 1

    def totals(self, now_s: float) -> tuple[int, int]:
        self._bucket(now_s)
        return sum(b[1] for b in self._buckets), sum(b[2] for b in self._buckets)

    def tripped(self, now_s: float) -> str | None:
        """Why the breaker should open, or None."""
        if self.consecutive >= self._settings.consecutive_failures:
            return f"{self.consecutive} consecutive failures"
        calls, failures = self.totals(now_s)
        if calls >= self._settings.window_min_calls and (
            failures >= self._settings.failure_rate * calls
        ):
            return f"{failures} of {calls} calls failed in {self._settings.window_s:g} s"
        return None
