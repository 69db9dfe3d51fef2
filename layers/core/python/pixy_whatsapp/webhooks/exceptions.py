"""Errors raised by the webhook receiver, grouped by what the HTTP answer must be."""

from __future__ import annotations

from enum import StrEnum


class RejectReason(StrEnum):
    """Why a request was refused.

    The values are metric dimension values, so the set stays small and fixed.
    """

    MISSING_SIGNATURE = "missing_signature"
    MALFORMED_SIGNATURE = "malformed_signature"
    BAD_SIGNATURE = "bad_signature"
    HANDSHAKE = "handshake"


class WebhookError(Exception):
    """Base class of every error in `pixy_whatsapp.webhooks`."""


class SignatureRejected(WebhookError):
    """The POST is not signed by Meta with our app secret: answer 401, keep nothing."""

    def __init__(self, reason: RejectReason) -> None:
        super().__init__(f"webhook signature rejected: {reason.value}")
        self.reason = reason


class HandshakeRejected(WebhookError):
    """The GET verification request is not Meta's, or is for another token: answer 403."""

    def __init__(self, detail: str, *, wrong_token: bool = False) -> None:
        super().__init__(f"webhook verification rejected: {detail}")
        self.reason = RejectReason.HANDSHAKE
        self.detail = detail
        # Only a token that differs from ours can be cured by re-reading the stored token.
        self.wrong_token = wrong_token


class WebhookUnavailable(WebhookError):
    """We could not check or keep the webhook: answer 5xx so Meta delivers it again."""


class SecretUnavailable(WebhookUnavailable):
    """The app secret or verify token could not be read, or is empty."""


class BodyNotKept(WebhookUnavailable):
    """The body could not be written to the inbound queue (or to S3 for a large body)."""


class EnvelopeError(WebhookError):
    """A queue message is not a webhook envelope this code can read back."""
