"""Breaker states, the persisted record, and the answer `check` gives."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Scope(StrEnum):
    """What a breaker protects; the values match `pixy_whatsapp.errors.BreakerScope`."""

    NUMBER = "number"
    WABA = "waba"


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"  # cooling down; half-opens by itself afterwards
    HALF_OPEN = "half_open"  # one probe call is out
    HELD = "held"  # open until the credentials change or an operator resets it


class Verdict(StrEnum):
    ALLOW = "allow"
    PROBE = "probe"  # allowed, as the one trial call: report its outcome
    REJECT = "reject"
    UNKNOWN = "unknown"  # the store is unreachable: treat as not allowed, retry later


@dataclass(frozen=True, slots=True)
class Circuit:
    scope: Scope
    scope_id: str

    @property
    def pk(self) -> str:
        return f"breaker#{self.scope.value}#{self.scope_id}"


@dataclass(frozen=True, slots=True)
class BreakerRecord:
    """A breaker's shared state. `version` counts transitions (0: never written)."""

    state: BreakerState = BreakerState.CLOSED
    version: int = 0
    opens: int = 0  # openings since the last close; drives the growing cool-down
    changed_at_ms: int = 0
    open_until_ms: int | None = None
    probe_owner: str | None = None
    probe_until_ms: int | None = None
    secret_version: str | None = None  # the credentials a held breaker was opened on
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether to call Meta now for this scope.

    `allowed` covers ALLOW and PROBE; anything else comes with `retry_after_s`.
    UNKNOWN carries the last state this environment saw, if any, in `state`.
    """

    scope: Scope
    scope_id: str
    verdict: Verdict
    state: BreakerState | None
    retry_after_s: float = 0.0
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.verdict in (Verdict.ALLOW, Verdict.PROBE)
