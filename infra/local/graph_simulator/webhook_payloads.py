"""Webhook bodies in Meta's shape, encoded and signed the way Meta does it."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

from infra.local.graph_simulator.records import AcceptedMessage

SIGNATURE_HEADER = "X-Hub-Signature-256"


def status_object(
    message: AcceptedMessage,
    status: str,
    timestamp: int,
    *,
    pricing: Mapping[str, Any] | None = None,
    errors: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": message.wamid, "status": status, "timestamp": str(timestamp)}
    if message.wa_id is not None:
        entry["recipient_id"] = message.wa_id
    else:
        entry["recipient_user_id"] = message.recipient
    # Meta echoes the field only when the business set it.
    if message.biz_opaque_callback_data is not None:
        entry["biz_opaque_callback_data"] = message.biz_opaque_callback_data
    if pricing is not None:
        entry["pricing"] = dict(pricing)
    if errors:
        entry["errors"] = [dict(error) for error in errors]
    return entry


def pricing_for(
    message: AcceptedMessage, categories: Mapping[str, str], default: str
) -> dict[str, Any]:
    # Since July 2025 only templates are billed; other sends ride the open service window.
    if message.message_type == "template":
        template = message.body.get("template")
        name = template.get("name") if isinstance(template, Mapping) else None
        category = categories.get(name, default) if isinstance(name, str) else default
        return {"billable": True, "pricing_model": "PMP", "type": "regular", "category": category}
    return {
        "billable": False,
        "pricing_model": "PMP",
        "type": "free_customer_service",
        "category": "service",
    }


def inbound_text_message(wamid: str, from_wa_id: str, text: str, timestamp: int) -> dict[str, Any]:
    return {
        "from": from_wa_id,
        "id": wamid,
        "timestamp": str(timestamp),
        "type": "text",
        "text": {"body": text},
    }


def messages_webhook(
    waba_id: str,
    phone_number_id: str,
    display_phone_number: str,
    *,
    statuses: Sequence[Mapping[str, Any]] = (),
    messages: Sequence[Mapping[str, Any]] = (),
    contacts: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": display_phone_number,
            "phone_number_id": phone_number_id,
        },
    }
    if contacts:
        value["contacts"] = [dict(contact) for contact in contacts]
    if messages:
        value["messages"] = [dict(message) for message in messages]
    if statuses:
        value["statuses"] = [dict(status) for status in statuses]
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "changes": [{"field": "messages", "value": value}]}],
    }


def encode_like_graph(payload: Mapping[str, Any]) -> bytes:
    """Serialize as Graph does: non-ASCII as \\uXXXX and slashes escaped.

    A receiver that re-serializes the parsed JSON before checking the signature gets a
    different byte string and a mismatch, here as against Meta; only the raw bytes verify.
    """
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"))
    # "/" can only occur inside JSON strings, where "\/" is a valid escape of it.
    return text.replace("/", "\\/").encode("ascii")


def signature_header(body: bytes, app_secret: str) -> str:
    digest = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"
