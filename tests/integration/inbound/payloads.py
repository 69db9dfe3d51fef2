"""Webhook bodies as Meta sends them, built for the inbound processor tests."""

from __future__ import annotations

import json
from typing import Any

WABA = "110000000000001"
NUMBER_ID = "120000000000001"
DISPLAY_NUMBER = "15550001111"
USER = "15557654321"
BSUID = "PT.1300000000000000001"
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z, Unix seconds as Meta sends them


def _metadata() -> dict[str, str]:
    return {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": NUMBER_ID}


def webhook(*changes: dict[str, Any], time: int | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": WABA, "changes": list(changes)}
    if time is not None:
        entry["time"] = time
    return {"object": "whatsapp_business_account", "entry": [entry]}


def messages_change(**value: Any) -> dict[str, Any]:
    return {
        "field": "messages",
        "value": {"messaging_product": "whatsapp", "metadata": _metadata(), **value},
    }


def status(
    wamid: str,
    value: str,
    at: int,
    *,
    callback: str | None = None,
    recipient: str | None = USER,
    errors: list[dict[str, Any]] | None = None,
    pricing: dict[str, Any] | None = None,
) -> dict[str, Any]:
    record: dict[str, Any] = {"id": wamid, "status": value, "timestamp": str(at)}
    if recipient is not None:
        record["recipient_id"] = recipient
    if callback is not None:
        record["biz_opaque_callback_data"] = callback
    if errors is not None:
        record["errors"] = errors
    if pricing is not None:
        record["pricing"] = pricing
    return record


def meta_error(code: int, title: str = "Meta error") -> dict[str, Any]:
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": f"details of {code}"},
    }


def status_webhook(*statuses: dict[str, Any]) -> dict[str, Any]:
    return webhook(messages_change(statuses=list(statuses)))


def text_message(
    wamid: str,
    body: str,
    at: int = T0,
    *,
    sender: str | None = USER,
    user_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "id": wamid,
        "timestamp": str(at),
        "type": "text",
        "text": {"body": body},
        **extra,
    }
    if sender is not None:
        message["from"] = sender
    if user_id is not None:
        message["from_user_id"] = user_id
    return message


def message_webhook(
    *messages: dict[str, Any], sender: str | None = USER, user_id: str | None = None
) -> dict[str, Any]:
    contact: dict[str, Any] = {"profile": {"name": "Ana Costa"}}
    if sender is not None:
        contact["wa_id"] = sender
    if user_id is not None:
        contact["user_id"] = user_id
    return webhook(messages_change(contacts=[contact], messages=list(messages)))


def field_webhook(field: str, value: dict[str, Any], time: int = T0) -> dict[str, Any]:
    return webhook({"field": field, "value": value}, time=time)


def raw(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()
