"""Errors raised by `pixy_whatsapp.subscriptions`.

Each says what went wrong in words an operator can act on; when Meta refused, Meta's own
code and message travel with it (`meta_code`, `meta_message`), never the access token.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pixy_whatsapp.subscriptions.model import WabaRecord


class SubscriptionError(Exception):
    """Base class of every error in `pixy_whatsapp.subscriptions`."""


class InvalidRegistration(SubscriptionError, ValueError):
    """The request cannot be right whatever Meta says (bad id, callback URL or token)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class WabaNotFound(SubscriptionError, LookupError):
    """The WABA is not in the registry."""

    def __init__(self, waba_id: str) -> None:
        super().__init__(f"WABA {waba_id} is not registered")
        self.waba_id = waba_id


class FailureKind(StrEnum):
    """Why a registration or an unregistration did not go through."""

    META_REFUSED = "meta_refused"  # Meta answered with an error
    META_UNREACHABLE = "meta_unreachable"  # no usable answer (network, timeout)
    NOT_SUBSCRIBED = "not_subscribed"  # Meta said yes, but GET does not show the subscription
    TOKEN_NOT_STORED = "token_not_stored"  # noqa: S105 - a failure name, not a secret
    TOKEN_MISSING = "token_missing"  # noqa: S105 - a failure name, not a secret
    VERIFY_TOKEN_UNAVAILABLE = "verify_token_unavailable"  # noqa: S105 - likewise


class _Failure(SubscriptionError):
    def __init__(
        self,
        kind: FailureKind,
        reason: str,
        *,
        meta_code: int | None = None,
        meta_message: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.meta_code = meta_code
        self.meta_message = meta_message


class RegistrationFailed(_Failure):
    """The WABA is recorded with state `failed` and this reason; `record` is what was saved.

    The token stays stored, so the scheduled check keeps trying (and alarming) until the
    WABA is registered again with a working token or unregistered.
    """

    def __init__(
        self,
        kind: FailureKind,
        reason: str,
        record: WabaRecord | None,
        *,
        meta_code: int | None = None,
        meta_message: str | None = None,
    ) -> None:
        super().__init__(kind, reason, meta_code=meta_code, meta_message=meta_message)
        self.record = record


class UnregistrationFailed(_Failure):
    """Meta could not be told to stop; the WABA stays registered (use `force` to forget it)."""


class ShadowCheckUnavailable(SubscriptionError):
    """DynamoDB kept refusing the reads the shadow-delivery check needs."""
