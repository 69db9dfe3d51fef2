"""Turning SQS records into send requests, or into a reason they cannot be one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from pixy_whatsapp.outbound.contract import CONTRACT_VERSION, SendRequest


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
    if not isinstance(raw, dict):
        parsed.poison_reason = "body is not a JSON object"
        return parsed
    if isinstance(raw.get("id"), str) and raw["id"]:
        parsed.poison_message_id = raw["id"][:64]
    version = raw.get("version", CONTRACT_VERSION)
    if version != CONTRACT_VERSION:
        parsed.poison_reason = f"unsupported contract version {version!r}"
        return parsed
    try:
        parsed.request = SendRequest.model_validate(raw)
    except ValidationError as exc:
        parsed.poison_reason = f"invalid send request: {_explain(exc)}"
    return parsed
