"""What a caller asks the limiter for, what it gets back, and what to do about a wait."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from pixy_whatsapp.limits.keys import LimitKey

# SQS refuses a visibility timeout above 12 hours.
MAX_VISIBILITY_S = 43_200


@dataclass(frozen=True, slots=True)
class Reservation:
    """`tokens` sends on `key`, all at once.

    `max_wait_s` > 0 lets the limiter book tokens that become usable within that time
    (the grant's `wait_s` says when): worth it for a wait the caller would sleep anyway,
    since a booked reservation cannot be overtaken.
    """

    key: LimitKey
    tokens: int = 1
    max_wait_s: float = 0.0


class GrantReason(StrEnum):
    GRANTED = "granted"
    RATE = "rate"  # the key is at its limit (or paused by a penalty)
    CONTENDED = "contended"  # other writers kept winning the same item; try again shortly


@dataclass(frozen=True, slots=True)
class Grant:
    """The answer to one `Reservation`.

    granted: the tokens are consumed; send after `wait_s` (0 unless booked ahead).
    refused: nothing was consumed; `wait_s` is how long until the reservation could be
    granted at the earliest (a lower bound: others may take tokens meanwhile).
    `tat_ms` is the key's new theoretical arrival time (None for an unmetered key).
    """

    key: LimitKey
    tokens: int
    granted: bool
    wait_s: float
    reason: GrantReason
    tat_ms: float | None = None


@dataclass(frozen=True, slots=True)
class WaitPlan:
    """Either sleep `sleep_s` in the invocation, or hand the message back for `delay_s`."""

    sleep_s: float
    delay_s: int

    @property
    def deferred(self) -> bool:
        return self.delay_s > 0


def plan_wait(
    wait_s: float, *, max_sleep_s: float, max_delay_s: int = MAX_VISIBILITY_S
) -> WaitPlan:
    """Short waits are slept; longer ones become a whole-second SQS visibility delay.

    The delay is rounded up so the message never comes back before the key could admit it.
    """
    if wait_s <= 0:
        return WaitPlan(sleep_s=0.0, delay_s=0)
    if wait_s <= max_sleep_s:
        return WaitPlan(sleep_s=wait_s, delay_s=0)
    return WaitPlan(sleep_s=0.0, delay_s=min(max_delay_s, max(1, math.ceil(wait_s))))
