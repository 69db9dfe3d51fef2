"""What the sender needs from the limiter and the breaker.

Kept as protocols so the sender's logic is the same whether the state lives in
DynamoDB (Lambda, local stack) or in memory (unit tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class LimitKind(StrEnum):
    NUMBER = "number"
    PAIR = "pair"
    WABA = "waba"


@dataclass(frozen=True, slots=True)
class Reservation:
    granted: bool
    # granted: how long to wait before the first send; refused: when to try again
    wait_s: float = 0.0


class Limiter(Protocol):
    def reserve(self, kind: LimitKind, key: str, tokens: int, *, max_wait_s: float) -> Reservation:
        """Reserve `tokens` sends on `key` at once, or say how long until it could."""
        ...

    def penalize(self, kind: LimitKind, key: str, seconds: float) -> None:
        """Meta said slow down: admit nothing more on `key` for `seconds`."""
        ...


class BreakerScopeKind(StrEnum):
    NUMBER = "number"
    WABA = "waba"


@dataclass(frozen=True, slots=True)
class BreakerVerdict:
    allowed: bool
    retry_after_s: float = 0.0
    state: str = "closed"


class Breaker(Protocol):
    def check(
        self, scope: BreakerScopeKind, scope_id: str, *, secret_version: str | None = None
    ) -> BreakerVerdict: ...

    def record_success(self, scope: BreakerScopeKind, scope_id: str) -> None: ...

    def record_failure(self, scope: BreakerScopeKind, scope_id: str) -> None: ...

    def hold_open(
        self, scope: BreakerScopeKind, scope_id: str, *, secret_version: str | None, reason: str
    ) -> None:
        """Open until the secret changes or an operator resets it (credentials, account)."""
        ...
