"""Meta WhatsApp Cloud API payloads: what we send and what Meta's webhooks bring.

The classes come from Meta's OpenAPI spec (``_generated_*.py``, regenerated with
``make models``); the modules here add what the spec leaves out.

Sending (:mod:`~pixy_whatsapp.models.send`)::

    from pixy_whatsapp.models import OutboundMessage, dump_message, validate_message

    class SendRequest(BaseModel):
        message: OutboundMessage          # strict: union by `type`, plus Meta's rules

    validate_message({"messaging_product": "whatsapp", "to": "+1650...", "type": "text",
                      "text": {}})        # -> [MessageProblem("$.text.body", "is required")]

- ``OutboundMessage``: pydantic type of a message object (embed it in your models);
- ``parse_message(payload) -> OutboundMessage`` (raises ``MessageValidationError``);
- ``dump_message(message) -> dict``: the JSON body for Graph, exactly the keys set;
- ``validate_message(payload) -> list[MessageProblem]``: ``path`` (``$.text.body``) and
  ``message``; empty means valid (read receipts are accepted too);
- ``SendMessageResponse``, ``GraphErrorBody`` (``.error.code``, ``.error.error_data``),
  ``ReadReceipt``.

Receiving (:mod:`~pixy_whatsapp.models.webhook`, tolerant: unknown keys, message types and
status values are kept; nothing is required)::

    payload = parse_webhook(raw_body)     # raises WebhookParseError(reason)
    for received in iter_messages(payload):   # .waba_id .phone_number_id .message .contact
        ...
    for received in iter_statuses(payload):   # .waba_id .phone_number_id .status
        ...
    summarize_webhook(payload)            # WebhookSummary(fields, messages, statuses, ...)

- ``iter_changes``, ``iter_messages``, ``iter_statuses``, ``iter_errors`` walk a payload;
- ``read_update(change)`` types template status and phone number quality updates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pixy_whatsapp._lazy import lazy_exports
from pixy_whatsapp.models.exceptions import MessageValidationError, WebhookParseError
from pixy_whatsapp.models.problems import MessageProblem

if TYPE_CHECKING:
    from pixy_whatsapp.models.send import (
        GraphError,
        GraphErrorBody,
        MessageVariant,
        OutboundMessage,
        ReadReceipt,
        SendMessageResponse,
        dump_message,
        parse_message,
        validate_message,
    )
    from pixy_whatsapp.models.summary import WebhookSummary, summarize_webhook
    from pixy_whatsapp.models.updates import (
        PhoneNumberQualityUpdate,
        TemplateStatusUpdate,
        read_update,
    )
    from pixy_whatsapp.models.webhook import (
        DeliveryStatus,
        InboundMessage,
        ReceivedError,
        ReceivedMessage,
        ReceivedStatus,
        StatusError,
        WebhookChange,
        WebhookContact,
        WebhookEntry,
        WebhookError,
        WebhookMetadata,
        WebhookPayload,
        WebhookValue,
        iter_changes,
        iter_errors,
        iter_messages,
        iter_statuses,
        parse_webhook,
    )

# The send and webhook models are each tens of milliseconds of a cold start, and each
# function needs one side only: a name is imported from its module when first asked for.
_HOMES = {
    "send": (
        "GraphError",
        "GraphErrorBody",
        "MessageVariant",
        "OutboundMessage",
        "ReadReceipt",
        "SendMessageResponse",
        "dump_message",
        "parse_message",
        "validate_message",
    ),
    "summary": ("WebhookSummary", "summarize_webhook"),
    "updates": ("PhoneNumberQualityUpdate", "TemplateStatusUpdate", "read_update"),
    "webhook": (
        "DeliveryStatus",
        "InboundMessage",
        "ReceivedError",
        "ReceivedMessage",
        "ReceivedStatus",
        "StatusError",
        "WebhookChange",
        "WebhookContact",
        "WebhookEntry",
        "WebhookError",
        "WebhookMetadata",
        "WebhookPayload",
        "WebhookValue",
        "iter_changes",
        "iter_errors",
        "iter_messages",
        "iter_statuses",
        "parse_webhook",
    ),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}


__getattr__, __dir__ = lazy_exports(globals(), _MODULE_OF)

__all__ = [
    "DeliveryStatus",
    "GraphError",
    "GraphErrorBody",
    "InboundMessage",
    "MessageProblem",
    "MessageValidationError",
    "MessageVariant",
    "OutboundMessage",
    "PhoneNumberQualityUpdate",
    "ReadReceipt",
    "ReceivedError",
    "ReceivedMessage",
    "ReceivedStatus",
    "SendMessageResponse",
    "StatusError",
    "TemplateStatusUpdate",
    "WebhookChange",
    "WebhookContact",
    "WebhookEntry",
    "WebhookError",
    "WebhookMetadata",
    "WebhookParseError",
    "WebhookPayload",
    "WebhookSummary",
    "WebhookValue",
    "dump_message",
    "iter_changes",
    "iter_errors",
    "iter_messages",
    "iter_statuses",
    "parse_message",
    "parse_webhook",
    "read_update",
    "summarize_webhook",
    "validate_message",
]
