"""When a breaker opens, for how long, and how long its state may be cached."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    """Thresholds apply per execution environment: failures are counted in memory.

    Opens after `consecutive_failures` transient failures in a row, or when at least
    `window_min_calls` calls in the last `window_s` seconds failed at `failure_rate`
    or more. Stays open `cooldown_s`, growing by `cooldown_factor` each time a probe
    fails, up to `max_cooldown_s`.
    """

    consecutive_failures: int = 5
    window_s: float = 60.0
    window_min_calls: int = 20
    failure_rate: float = 0.5
    cooldown_s: float = 30.0
    cooldown_factor: float = 2.0
    max_cooldown_s: float = 600.0
    # Longer than one Graph API call can take, so a slow probe is not doubled.
    probe_lease_s: float = 30.0
    cache_ttl_s: float = 2.0
    # Retry hints for callers turned away (they become SQS visibility delays).
    half_open_retry_s: float = 5.0
    held_retry_s: float = 60.0
    unavailable_retry_s: float = 5.0

    def __post_init__(self) -> None:
        if self.consecutive_failures < 1 or self.window_min_calls < 1:
            raise ValueError("failure thresholds must be at least 1")
        if not 0 < self.failure_rate <= 1:
            raise ValueError(f"failure_rate must be in (0, 1], got {self.failure_rate}")
        if self.window_s <= 0 or self.cooldown_s <= 0 or self.probe_lease_s <= 0:
            raise ValueError("window, cool-down and probe lease must be positive")
        if self.cooldown_factor < 1 or self.max_cooldown_s < self.cooldown_s:
            raise ValueError("the cool-down may only grow, up to max_cooldown_s")
        if self.cache_ttl_s < 0:
            raise ValueError("cache_ttl_s must not be negative")

    def cooldown_ms(self, opens: int) -> int:
        """Cool-down after the `opens`-th consecutive opening (1 = first)."""
        # The exponent is capped so a breaker failing probes for weeks cannot overflow.
        seconds = self.cooldown_s * self.cooldown_factor ** min(max(0, opens - 1), 64)
        return round(min(seconds, self.max_cooldown_s) * 1_000)
