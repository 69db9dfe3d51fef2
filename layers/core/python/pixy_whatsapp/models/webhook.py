"""Receive side: Meta's webhook bodies, read tolerantly.

``parse_webhook(body)`` checks that the body is a WhatsApp Business webhook (``object`` is
``whatsapp_business_account`` and ``entry`` is a list) and returns a
:class:`WebhookPayload`; anything else raises :class:`WebhookParseError` with a one-line
reason. Past that check nothing is refused: every record keeps keys it does not know
(``model_dump`` returns them), message types and status values new to the spec pass
through as plain strings, and no field is required, because Meta omits some it once
always sent (phone numbers of username-only users, 2026: ``messages[].from``,
``contacts[].wa_id`` and ``statuses[].recipient_id`` may be missing; the business-scoped
``from_user_id``, ``contacts[].user_id`` and ``statuses[].recipient_user_id`` are there
instead). Timestamps are strings of Unix seconds, as Meta sends them.

Walking a payload:

- ``iter_changes(payload)`` -> ``(entry, change)`` for every change of every entry;
- ``iter_messages(payload)`` -> :class:`ReceivedMessage` (``waba_id``, ``phone_number_id``,
  ``message``, ``contact``): each inbound message with the contact that sent it;
- ``iter_statuses(payload)`` -> :class:`ReceivedStatus` (``waba_id``, ``phone_number_id``,
  ``status``): each delivery status of a message we sent;
- ``iter_errors(payload)`` -> :class:`ReceivedError`: every error object Meta reported,
  wherever it sits (``value.errors``, ``statuses[].errors``, ``messages[].errors``).

``waba_id`` is ``entry.id``; ``phone_number_id`` is ``value.metadata.phone_number_id``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from pixy_whatsapp.models import _generated_webhook as spec
from pixy_whatsapp.models.exceptions import WebhookParseError
from pixy_whatsapp.models.problems import json_path

WHATSAPP_OBJECT = "whatsapp_business_account"
# Meta's payloads nest about a dozen levels. pydantic keeps deeper unknown values but
# cannot dump them again past about 250 levels, so such a body is refused, not half-kept.
MAX_NESTING = 100

WebhookPayload = spec.WebhookPayload
WebhookEntry = spec.Entry
WebhookChange = spec.Change
WebhookValue = spec.ChangeValue
WebhookMetadata = spec.Metadata
WebhookContact = spec.ContactProfile
InboundMessage = spec.IncomingMessage
DeliveryStatus = spec.Statuses
StatusPricing = spec.Pricing
StatusConversation = spec.Conversation
StatusError = spec.StatusError
WebhookError = spec.ErrorObject


def parse_webhook(body: bytes | str | Mapping[str, Any]) -> WebhookPayload:
    """Read a webhook body (raw bytes, text or decoded JSON) into a :class:`WebhookPayload`."""
    document = _decode(body) if isinstance(body, bytes | str) else body
    if not isinstance(document, Mapping):
        raise WebhookParseError(f"body is not a JSON object (got {_json_kind(document)})")
    kind = document.get("object")
    if kind != WHATSAPP_OBJECT:
        found = "missing" if kind is None else repr(kind)
        raise WebhookParseError(f"`object` is {found}, not {WHATSAPP_OBJECT!r}")
    if "entry" not in document:
        raise WebhookParseError("`entry` is missing")
    if not isinstance(document["entry"], list):
        raise WebhookParseError(f"`entry` is not a list (got {_json_kind(document['entry'])})")
    if _nested_deeper_than(document, MAX_NESTING):
        raise WebhookParseError(f"body is nested deeper than {MAX_NESTING} levels")
    try:
        return WebhookPayload.model_validate(document)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        count = exc.error_count()
        more = f" (and {count - 1} more)" if count > 1 else ""
        raise WebhookParseError(f"{json_path(first['loc'])}: {first['msg']}{more}") from exc
    except (ValueError, RecursionError) as exc:
        # Only a decoded document a JSON parser would not produce gets here: an integer
        # too long to turn into text, nesting deeper than the interpreter goes.
        raise WebhookParseError(f"body cannot be read ({type(exc).__name__})") from exc


def _decode(body: bytes | str) -> Any:
    try:
        return json.loads(body)
    except UnicodeDecodeError as exc:
        raise WebhookParseError(f"body is not UTF-8 text ({exc.reason})") from exc
    except json.JSONDecodeError as exc:
        raise WebhookParseError(f"body is not JSON ({exc.msg} at char {exc.pos})") from exc
    except RecursionError as exc:
        raise WebhookParseError("body is nested too deeply to read") from exc
    except ValueError as exc:  # an integer longer than Python converts (4,300 digits)
        raise WebhookParseError(f"body has a number that cannot be read ({exc})") from exc


def _nested_deeper_than(document: Any, limit: int) -> bool:
    """Whether objects and arrays nest more than `limit` deep (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, Mapping):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _json_kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object"
    kinds = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return kinds.get(type(value), "a number")


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    waba_id: str | None
    phone_number_id: str | None
    message: InboundMessage
    contact: WebhookContact | None


@dataclass(frozen=True, slots=True)
class ReceivedStatus:
    waba_id: str | None
    phone_number_id: str | None
    status: DeliveryStatus


@dataclass(frozen=True, slots=True)
class ReceivedError:
    waba_id: str | None
    phone_number_id: str | None
    error: WebhookError | StatusError
    # Where Meta put it: the change value (account or app level), a status of a message
    # we sent, or an inbound message it could not process.
    source: Literal["value", "status", "message"]
    message_id: str | None


def iter_changes(payload: WebhookPayload) -> Iterator[tuple[WebhookEntry, WebhookChange]]:
    for entry in payload.entry or []:
        for change in entry.changes or []:
            yield entry, change


def _phone_number_id(value: WebhookValue) -> str | None:
    return value.metadata.phone_number_id if value.metadata else None


def iter_messages(payload: WebhookPayload) -> Iterator[ReceivedMessage]:
    for entry, change in iter_changes(payload):
        value = change.value
        if value is None:
            continue
        messages, contacts = value.messages or [], value.contacts or []
        for message in messages:
            contact = _sender(message, contacts, alone=len(messages) == 1)
            yield ReceivedMessage(entry.id, _phone_number_id(value), message, contact)


def _sender(
    message: InboundMessage, contacts: list[WebhookContact], *, alone: bool
) -> WebhookContact | None:
    """The contact whose phone number or user id sent ``message``.

    Meta lists the senders beside the messages; when a lone message has a lone contact
    they belong together even if the ids to match them are missing.
    """
    for contact in contacts:
        if message.from_ and contact.wa_id == message.from_:
            return contact
        if message.from_user_id and contact.user_id == message.from_user_id:
            return contact
    return contacts[0] if alone and len(contacts) == 1 else None


def iter_statuses(payload: WebhookPayload) -> Iterator[ReceivedStatus]:
    for entry, change in iter_changes(payload):
        value = change.value
        if value is None:
            continue
        for status in value.statuses or []:
            yield ReceivedStatus(entry.id, _phone_number_id(value), status)


def iter_errors(payload: WebhookPayload) -> Iterator[ReceivedError]:
    for entry, change in iter_changes(payload):
        value = change.value
        if value is None:
            continue
        phone_number_id = _phone_number_id(value)
        for error in value.errors or []:
            yield ReceivedError(entry.id, phone_number_id, error, "value", None)
        for status in value.statuses or []:
            for status_error in status.errors or []:
                yield ReceivedError(entry.id, phone_number_id, status_error, "status", status.id)
        for message in value.messages or []:
            for message_error in message.errors or []:
                yield ReceivedError(entry.id, phone_number_id, message_error, "message", message.id)
