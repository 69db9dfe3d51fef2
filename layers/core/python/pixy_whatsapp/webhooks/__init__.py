"""Receiving Meta's webhooks: verification handshake, signature check, hand-off to SQS.

The webhook Lambda uses `WebhookReceiver`; the inbound processor reads each queue
message back into the exact bytes Meta sent with `load_webhook_body`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pixy_whatsapp._lazy import lazy_exports
from pixy_whatsapp.webhooks.envelope import (
    ENVELOPE_VERSION,
    S3BodyPointer,
    WebhookEnvelope,
    load_webhook_body,
    parse_envelope,
)
from pixy_whatsapp.webhooks.exceptions import (
    BodyNotKept,
    EnvelopeError,
    HandshakeRejected,
    RejectReason,
    SecretUnavailable,
    SignatureRejected,
    WebhookError,
    WebhookUnavailable,
)

if TYPE_CHECKING:
    from pixy_whatsapp.webhooks.receiver import (
        MAX_MESSAGE_BYTES,
        KeptWebhook,
        WebhookReceiver,
        request_body_bytes,
    )
    from pixy_whatsapp.webhooks.secrets_cache import WebhookSecrets
    from pixy_whatsapp.webhooks.signature import SIGNATURE_HEADER, sign_body, verify_signature

# Loaded on first use: the inbound processor only reads envelopes back, and the
# receiver's side would bring Powertools' parameters utility into its cold start.
_LAZY = {
    "MAX_MESSAGE_BYTES": "receiver",
    "KeptWebhook": "receiver",
    "WebhookReceiver": "receiver",
    "request_body_bytes": "receiver",
    "WebhookSecrets": "secrets_cache",
    "SIGNATURE_HEADER": "signature",
    "sign_body": "signature",
    "verify_signature": "signature",
}


__getattr__, __dir__ = lazy_exports(globals(), _LAZY)

__all__ = [
    "ENVELOPE_VERSION",
    "MAX_MESSAGE_BYTES",
    "SIGNATURE_HEADER",
    "BodyNotKept",
    "EnvelopeError",
    "HandshakeRejected",
    "KeptWebhook",
    "RejectReason",
    "S3BodyPointer",
    "SecretUnavailable",
    "SignatureRejected",
    "WebhookEnvelope",
    "WebhookError",
    "WebhookReceiver",
    "WebhookSecrets",
    "WebhookUnavailable",
    "load_webhook_body",
    "parse_envelope",
    "request_body_bytes",
    "sign_body",
    "verify_signature",
]
