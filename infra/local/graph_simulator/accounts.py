"""The account state Meta keeps: which tokens work, and which WABAs are subscribed.

Changed both by Graph calls (subscribed_apps) and by test hooks (revoke a token, drop a
subscription behind the client's back), from any thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from infra.local.graph_simulator.config import SimulatorConfig


class TokenVerdict(StrEnum):
    VALID = "valid"
    UNKNOWN = "unknown"
    REVOKED = "revoked"
    NOT_PERMITTED = "not_permitted"


@dataclass(frozen=True, slots=True)
class Subscription:
    """The app's subscription to one WABA."""

    override_callback_uri: str | None = None
    verify_token: str | None = None


class Accounts:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # token -> revoked until (monotonic seconds); None: until restored
        self._revoked: dict[str, float | None] = {}
        self._subscriptions: dict[str, Subscription] = {}

    def check_token(
        self, config: SimulatorConfig, token: str | None, object_ids: Iterable[str], now: float
    ) -> TokenVerdict:
        if not token:
            return TokenVerdict.UNKNOWN
        with self._lock:
            if token in self._revoked:
                until = self._revoked[token]
                if until is None or now < until:
                    return TokenVerdict.REVOKED
                del self._revoked[token]
        if config.accept_any_token:
            return TokenVerdict.VALID
        grants = config.tokens.get(token)
        if grants is None:
            return TokenVerdict.UNKNOWN
        if any(object_id in grants for object_id in object_ids):
            return TokenVerdict.VALID
        return TokenVerdict.NOT_PERMITTED

    def revoke(self, token: str, now: float, seconds: float | None = None) -> None:
        with self._lock:
            self._revoked[token] = None if seconds is None else now + seconds

    def restore(self, token: str) -> None:
        with self._lock:
            self._revoked.pop(token, None)

    def revoked_count(self, now: float) -> int:
        with self._lock:
            return sum(1 for until in self._revoked.values() if until is None or now < until)

    def subscribe(self, waba_id: str, subscription: Subscription) -> None:
        with self._lock:
            self._subscriptions[waba_id] = subscription

    def unsubscribe(self, waba_id: str) -> bool:
        with self._lock:
            return self._subscriptions.pop(waba_id, None) is not None

    def subscription(self, waba_id: str) -> Subscription | None:
        with self._lock:
            return self._subscriptions.get(waba_id)

    def subscriptions(self) -> dict[str, Subscription]:
        with self._lock:
            return dict(self._subscriptions)
