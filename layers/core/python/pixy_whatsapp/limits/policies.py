"""The limits the sender enforces, and why these numbers.

Phone number: Meta allows 80 messages per second per business number by default and
up to 1,000 after an automatic upgrade; the inbound processor records the upgrade as a
per-number override. Meta does not say over what window it measures, so the default
assumes the strictest reading, any 1 s window, and keeps every such window at or under
the allowance as Meta receives it: the sustained rate is the allowance minus the burst
and minus a jitter margin (66 mps sustained with a burst of 10 at 80 mps; 900 with a
burst of 50 at 1,000 mps). The burst is 50 ms of rate but at least one SQS batch (10),
so one conditional write reserves a whole batch. The margin, 50 ms of rate, is for the
time between a booked slot and the send's arrival at Meta, which varies from one
environment to the next (the reservation's round trip, the event loop, the network):
with arrivals up to that late, a window can hold 50 ms more of the sustained rate than
was booked in it. Measured against a simulator counting any 1 s window, the margin was
what stopped the last 130429s (`benchmarks/peak_rate.py`). On low allowances (20 mps for
numbers shared with the WhatsApp Business app) the burst is capped at a quarter of a
window's allowance, and callers reserve at most `burst` at once. Set `number_window_s=None` to
spend the whole allowance and rely on Meta's 130429 (`Limiter.penalize`) instead.
Inbound messages count toward Meta's figure too; the limiter only sees outbound ones.

Recipient pair: Meta's sustained pair limit is one message per 6 s. Meta tolerates
bursts of up to 45 that "borrow" from later quota, but reports of 131056 at 10-15
messages a minute show the real tolerance can be far lower. A burst of 5 covers a
typical short conversational sequence (a template and a few follow-ups) without delay,
is a ninth of the documented allowance, and is earned back within 30 s. Over any
minute it admits at most 15, the upper end of what has been seen to pass.

WABA: Meta publishes no send limit per account (80007 and 4 concern management
endpoints and the app's call budget), so none is enforced by default. A WABA key still
honours `penalize`: reserving it checks the penalty and writes nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from pixy_whatsapp.limits.exceptions import InvalidLimit
from pixy_whatsapp.limits.gcra import GcraPolicy

DEFAULT_NUMBER_MPS = 80.0
MAX_NUMBER_MPS = 1_000.0
SQS_BATCH = 10


def _default_pair() -> GcraPolicy:
    return GcraPolicy.per(1, 6.0, burst=5)


@dataclass(frozen=True, slots=True)
class LimitSettings:
    number_mps: float = DEFAULT_NUMBER_MPS
    # Seconds of rate a number may send at once, floored at `number_min_burst`.
    number_burst_s: float = 0.05
    number_min_burst: int = SQS_BATCH
    # The window no more than `mps * window` may be admitted in; None: no such promise.
    number_window_s: float | None = 1.0
    # Seconds by which a send may arrive after its booked slot, kept free in every window.
    number_jitter_s: float = 0.05
    pair: GcraPolicy = field(default_factory=_default_pair)
    waba: GcraPolicy | None = None

    def __post_init__(self) -> None:
        check_mps(self.number_mps)
        if self.number_burst_s < 0 or self.number_min_burst < 1 or self.number_jitter_s < 0:
            raise InvalidLimit(
                "number burst and jitter must be non-negative, the burst's minimum at least 1"
            )
        if self.number_window_s is not None and self.number_window_s <= 0:
            raise InvalidLimit(f"number_window_s must be positive, got {self.number_window_s}")

    def number_policy(self, mps: float | None = None) -> GcraPolicy:
        """The policy for a number allowed `mps` (its override), or the default."""
        allowance = self.number_mps if mps is None else check_mps(mps)
        # Rounded before the ceiling so float noise (80 * 0.1 = 8.000000000000002) adds no token.
        burst = max(self.number_min_burst, math.ceil(round(allowance * self.number_burst_s, 6)))
        if self.number_window_s is None:
            return GcraPolicy.per(allowance, 1.0, burst=burst)
        per_window = allowance * self.number_window_s
        burst = max(1, min(burst, math.floor(per_window / 4)))
        # Over any window the limiter admits at most rate * window + burst, and arrivals
        # up to `jitter` late can put rate * jitter more into a window: keep both at the
        # allowance by sustaining what the window leaves after the burst and that margin.
        # (Below a few messages a window that cannot hold; half the allowance is the floor.)
        margin = math.ceil(round(allowance * self.number_jitter_s, 6))
        sustained = max(per_window - burst - margin, per_window / 2)
        return GcraPolicy.per(sustained, self.number_window_s, burst=burst)


def check_mps(mps: float) -> float:
    if not 0 < mps <= MAX_NUMBER_MPS:
        raise InvalidLimit(f"messages per second must be in (0, {MAX_NUMBER_MPS:g}], got {mps}")
    return float(mps)
