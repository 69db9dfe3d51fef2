"""Turning SQS records into send requests, or into a reason they cannot be one."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from pixy_whatsapp.outbound.contract import CONTRACT_VERSION, SendRequest

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef

# `SendRequest.id`'s pattern.
MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(slots=True)
class QueuedRecord:
    """One record of the batch, as the sender works on it."""

    record_id: str  # SQS messageId: the batchItemFailures identifier
    receipt_handle: str
    receive_count: int
    body: str
    request: SendRequest | None
    poison_reason: str | None = None
    poison_message_id: str | None = None  # our id, when a bad body still carried one

    @property
    def lane(self) -> tuple[str, str]:
        """Messages in one lane must reach Meta in queue order: same number, same recipient."""
        assert self.request is not None
        return (self.request.phone_number_id, self.request.recipient_key)


def _explain(error: ValidationError) -> str:
    parts = []
    for problem in error.errors()[:5]:
        location = ".".join(str(p) for p in problem["loc"]) or "body"
        parts.append(f"{location}: {problem['msg']}")
    more = len(error.errors()) - 5
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def parse_record(record: dict[str, Any]) -> QueuedRecord:
    """Never raises: a body that is not a valid SendRequest is returned as poison with why."""
    body = str(record.get("body", ""))
    attributes = record.get("attributes") or {}
    parsed = QueuedRecord(
        record_id=str(record["messageId"]),
        receipt_handle=str(record.get("receiptHandle", "")),
        receive_count=int(attributes.get("ApproximateReceiveCount", 1)),
        body=body,
        request=None,
    )
    try:
        raw = json.loads(body)
    except ValueError as exc:
        parsed.poison_reason = f"body is not JSON: {exc}"
        return parsed
    except RecursionError:
        parsed.poison_reason = "body is not JSON: nested too deeply to read"
        return parsed
    if not isinstance(raw, dict):
        parsed.poison_reason = "body is not a JSON object"
        return parsed
    # Only an id a message can have is marked failed: a longer one cut short could be
    # another message's id.
    if isinstance(raw.get("id"), str) and MESSAGE_ID.fullmatch(raw["id"]):
        parsed.poison_message_id = raw["id"]
    version = raw.get("version", CONTRACT_VERSION)
    if version != CONTRACT_VERSION:
        parsed.poison_reason = f"unsupported contract version {version!r}"
        return parsed
    try:
        parsed.request = SendRequest.model_validate(raw)
    except ValidationError as exc:
        parsed.poison_reason = f"invalid send request: {_explain(exc)}"
    except RecursionError:
        parsed.poison_reason = "invalid send request: nested too deeply to check"
    return parsed


# --- poison on its way to the DLQ ---------------------------------------------------------

# SQS refuses a message over the queue's MaximumMessageSize, attributes counted (name,
# type and value). The stack's DLQs take 1 MiB, four times their source queues' limit,
# so a body of any size the outbound queue took goes with its whole reason.
DLQ_MAX_MESSAGE_BYTES = 1_048_576
REASON_MAX_CHARS = 1024
_STRING = "String"


def _sqs_allowed(char: str) -> bool:
    """SQS text: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF."""
    code = ord(char)
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def sqs_text(text: str) -> str:
    """`text` with what SQS refuses in a string attribute written as `\\uXXXX`."""
    if all(_sqs_allowed(char) for char in text):
        return text
    return "".join(char if _sqs_allowed(char) else f"\\u{ord(char):04x}" for char in text)


def _utf8_prefix(text: str, max_bytes: int) -> str:
    """The longest prefix of `text` that is at most `max_bytes` in UTF-8."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[: max(max_bytes, 0)].decode("utf-8", "ignore")


def dead_letter_attributes(
    body: str, reason: str, source_message_id: str, max_bytes: int = DLQ_MAX_MESSAGE_BYTES
) -> dict[str, MessageAttributeValueTypeDef]:
    """The `reason` and `source_message_id` attributes a poison body goes to the DLQ with.

    The body goes as it came, so the attributes take the room it leaves: the reason is
    cut to fit, then the source id is left out; a body within a few bytes of the limit
    goes with no attribute at all (the reason is still logged).
    """
    room = max_bytes - len(body.encode("utf-8"))
    text = sqs_text(reason[:REASON_MAX_CHARS]).strip() or "unreadable"
    attributes: dict[str, MessageAttributeValueTypeDef] = {}
    source: MessageAttributeValueTypeDef = {"DataType": _STRING, "StringValue": source_message_id}
    source_size = len("source_message_id") + len(_STRING) + len(source_message_id.encode())
    reason_overhead = len("reason") + len(_STRING)
    # Keep the source id only when a useful reason (64 bytes of it) still fits beside it.
    if room - source_size - reason_overhead >= min(64, len(text.encode())):
        attributes["source_message_id"] = source
        room -= source_size
    fitted = _utf8_prefix(text, room - reason_overhead)
    if fitted:
        attributes["reason"] = {"DataType": _STRING, "StringValue": fitted}
    return attributes
