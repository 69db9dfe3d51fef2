"""The limits the sender enforces, and why these numbers.

Phone number: Meta allows 80 messages per second per business number by default and
up to 1,000 after an automatic upgrade; the inbound processor records the upgrade as a
per-number override. The burst is a tenth of a second of rate, but never less than one
SQS batch (10), so one conditional write can reserve a whole batch. The burst is also
the slack that absorbs scheduling jitter between Lambda environments: GCRA does not
bank idle time beyond it. Over any 1 s window the limiter admits at most rate + burst
(90 at 80 mps, 1,100 at 1,000 mps); Meta does not publish its measuring window, and
its 130429 answer slows the number down (`Limiter.penalize`) if it disagrees.

Recipient pair: Meta's sustained pair limit is one message per 6 s. Meta tolerates
bursts of up to 45 that "borrow" from later quota, but reports of 131056 at 10-15
messages a minute show the real tolerance can be far lower. A burst of 5 covers a
typical short conversational sequence (a template and a few follow-ups) without delay,
is a ninth of the documented allowance, and costs 30 s of quiet afterwards. Over any
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
    # Seconds of rate a number may send at once; floored at `number_min_burst`.
    number_burst_s: float = 0.1
    number_min_burst: int = SQS_BATCH
    pair: GcraPolicy = field(default_factory=_default_pair)
    waba: GcraPolicy | None = None

    def __post_init__(self) -> None:
        check_mps(self.number_mps)
        if self.number_burst_s < 0 or self.number_min_burst < 1:
            raise InvalidLimit("number burst must be non-negative with a minimum of at least 1")

    def number_policy(self, mps: float | None = None) -> GcraPolicy:
        """The policy for a number sending at `mps` (its override), or the default."""
        rate = self.number_mps if mps is None else check_mps(mps)
        # Rounded before the ceiling so float noise (80 * 0.1 = 8.000000000000002) adds no token.
        burst = max(self.number_min_burst, math.ceil(round(rate * self.number_burst_s, 6)))
        return GcraPolicy.per(rate, 1.0, burst=burst)


def check_mps(mps: float) -> float:
    if not 0 < mps <= MAX_NUMBER_MPS:
        raise InvalidLimit(f"messages per second must be in (0, {MAX_NUMBER_MPS:g}], got {mps}")
    return float(mps)
