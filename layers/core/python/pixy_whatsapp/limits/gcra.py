"""The generic cell rate algorithm (GCRA): one number per key, no refill process.

A key's whole state is its theoretical arrival time (TAT): the time at which the key
would be exactly empty again if nothing else were admitted. Each admitted token pushes
it one emission interval `T` further; a reservation conforms while the pushed TAT stays
within `burst * T` of now. That is a token bucket of `burst` tokens refilled at
`1/T` per second, stored as a single timestamp.

Times are integer microseconds so that intervals such as 12.5 ms (80 per second) add up
exactly; the interval is rounded up, so rounding can only make the limiter slower, never
faster than the configured rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from pixy_whatsapp.limits.exceptions import InvalidLimit, ReservationTooLarge

US_PER_S = 1_000_000


@dataclass(frozen=True, slots=True)
class GcraPolicy:
    """`1/interval_us` tokens per microsecond, with up to `burst` tokens at once."""

    interval_us: int
    burst: int

    def __post_init__(self) -> None:
        if self.interval_us < 1:
            raise InvalidLimit(f"emission interval must be at least 1 us, got {self.interval_us}")
        if self.burst < 1:
            raise InvalidLimit(f"burst must be at least 1, got {self.burst}")

    @classmethod
    def per(cls, count: float, seconds: float = 1.0, *, burst: int) -> GcraPolicy:
        """`count` tokens every `seconds` (e.g. `per(1, 6, burst=5)`: one per 6 s)."""
        if count <= 0 or seconds <= 0:
            raise InvalidLimit(f"rate must be positive, got {count} per {seconds} s")
        # Fractions keep 1-per-6-s at exactly 6,000,000 us instead of a float's 6,000,000.000001.
        exact = Fraction(seconds) * US_PER_S / Fraction(count)
        return cls(interval_us=math.ceil(exact), burst=burst)

    @property
    def tolerance_us(self) -> int:
        """How far ahead of now the TAT may run: the burst, in time."""
        return self.burst * self.interval_us

    @property
    def rate_per_s(self) -> float:
        return US_PER_S / self.interval_us


@dataclass(frozen=True, slots=True)
class GcraOutcome:
    """The answer to one reservation.

    granted: `tat_us` is the new TAT to store; `wait_us` is how long the caller must
    wait before using the tokens (0 unless the reservation was booked ahead).
    refused: `tat_us` is the TAT unchanged (nothing consumed); `wait_us` is how long
    until the same reservation would be granted with no wait, if nobody else takes
    tokens meanwhile.
    """

    granted: bool
    tat_us: int | None
    wait_us: int


def reserve(
    policy: GcraPolicy, tat_us: int | None, now_us: int, tokens: int, max_wait_us: int = 0
) -> GcraOutcome:
    """Reserve `tokens` at once at `now_us` against a key whose TAT is `tat_us`.

    `max_wait_us` > 0 books tokens that only become usable within that time, so a
    caller that is going to sleep anyway holds its place instead of racing again.
    """
    if tokens < 1:
        raise InvalidLimit(f"a reservation needs at least one token, got {tokens}")
    if tokens > policy.burst:
        raise ReservationTooLarge(tokens, policy.burst)
    # A TAT in the past means the key is full: idle time beyond the burst is not banked.
    start = now_us if tat_us is None else max(tat_us, now_us)
    new_tat = start + tokens * policy.interval_us
    wait = max(0, new_tat - policy.tolerance_us - now_us)
    if wait <= max(0, max_wait_us):
        return GcraOutcome(granted=True, tat_us=new_tat, wait_us=wait)
    return GcraOutcome(granted=False, tat_us=tat_us, wait_us=wait)


def penalty_tat(policy: GcraPolicy | None, tat_us: int | None, now_us: int, pause_us: int) -> int:
    """The TAT that admits nothing for `pause_us`, then resumes at the sustained rate.

    The burst is spent as well: after being told to slow down, the key earns its burst
    back over time instead of firing it the moment the pause ends.
    """
    tolerance = policy.tolerance_us if policy is not None else 0
    floor = now_us + max(0, pause_us) + tolerance
    return floor if tat_us is None else max(tat_us, floor)
