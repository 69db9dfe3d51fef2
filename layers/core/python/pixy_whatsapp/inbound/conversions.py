"""Small conversions between Meta's webhook values, DynamoDB values and event fields."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pixy_whatsapp.errors import classify
from pixy_whatsapp.events import MetaError
from pixy_whatsapp.models import StatusError, WebhookError
from pixy_whatsapp.models.bases import PayloadRecord


def epoch_ms(timestamp: str | int | float | None) -> int | None:
    """Meta's Unix-seconds timestamp (a string in most webhooks) as epoch milliseconds."""
    if timestamp is None or isinstance(timestamp, bool):
        return None
    try:
        seconds = float(timestamp)
    except ValueError:
        return None
    return int(seconds * 1000) if seconds >= 0 else None


def utc(at_ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(at_ms / 1000, tz=UTC) if at_ms is not None else None


def plain(value: Any) -> Any:
    """DynamoDB's Decimals back to the ints and floats the client sent."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(item) for item in value]
    return value


def for_dynamodb(value: Any) -> Any:
    """JSON-like data with its floats as Decimals, which boto3's serializer requires."""
    return json.loads(json.dumps(value), parse_float=Decimal)


def dump(record: PayloadRecord | None) -> dict[str, Any] | None:
    """A webhook record as Meta delivered it, unknown keys included."""
    if record is None:
        return None
    data: dict[str, Any] = record.model_dump(mode="json", by_alias=True)
    return data


def digest(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def meta_error(error: WebhookError | StatusError) -> MetaError:
    """A webhook error object with our classification of its code."""
    verdict = classify(error.code)
    return MetaError(
        code=error.code,
        title=error.title,
        message=error.message,
        details=error.error_data.details if error.error_data else None,
        href=error.href,
        error_class=verdict.error_class.value,
        reason=verdict.reason,
    )
