"""Turning Meta's error answers and httpx's failures into the client's exceptions."""

from __future__ import annotations

import json
from typing import Any

import httpx

from pixy_whatsapp.graph.exceptions import (
    GraphAmbiguousError,
    GraphApiError,
    GraphNotSentError,
    GraphTransportError,
)
from pixy_whatsapp.graph.redaction import scrub

# Failures raised before any byte of the request could leave this process:
# no connection was obtained (DNS, TCP, TLS, proxy tunnel, or waiting for a
# pooled connection). Anything later may have reached Meta.
_NEVER_SENT: tuple[type[httpx.HTTPError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
)

_EXCERPT_CHARS = 160


def transport_error(
    exc: httpx.HTTPError, *, operation: str, latency_ms: float, secret: str
) -> GraphTransportError:
    """Classify a failure that left us without a usable answer."""
    reason = scrub(str(exc), secret).strip()
    kind = type(exc).__name__ + (f": {reason}" if reason else "")
    if isinstance(exc, _NEVER_SENT):
        return GraphNotSentError(
            f"{operation}: request not sent ({kind})", operation=operation, latency_ms=latency_ms
        )
    return GraphAmbiguousError(
        f"{operation}: outcome unknown, the request may have reached Meta ({kind})",
        operation=operation,
        latency_ms=latency_ms,
    )


def api_error(
    *,
    operation: str,
    http_status: int,
    content: bytes,
    headers: httpx.Headers,
    latency_ms: float,
    secret: str,
) -> GraphApiError:
    """Read Meta's `{"error": {...}}` body; any other body still gives a `GraphApiError`."""
    body = json_object(content)
    error = body.get("error") if body is not None else None
    # The trace id to give Meta support when the body has none (a proxy's error page).
    trace_header = headers.get("x-fb-trace-id")
    if not isinstance(error, dict):
        return GraphApiError(
            operation=operation,
            http_status=http_status,
            code=None,
            message=_excerpt(content, headers.get("content-type"), secret),
            fbtrace_id=trace_header,
            latency_ms=latency_ms,
        )
    error_data = _error_data(error.get("error_data"))
    transient = error.get("is_transient")
    return GraphApiError(
        operation=operation,
        http_status=http_status,
        code=_as_int(error.get("code")),
        subcode=_as_int(error.get("error_subcode")),
        error_type=_text(error.get("type"), secret),
        message=_text(error.get("message"), secret),
        details=_text(error_data.get("details"), secret),
        fbtrace_id=_text(error.get("fbtrace_id"), secret) or trace_header,
        is_transient=transient if isinstance(transient, bool) else None,
        user_title=_text(error.get("error_user_title"), secret),
        user_message=_text(error.get("error_user_msg"), secret),
        latency_ms=latency_ms,
    )


def json_object(content: bytes) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is not one."""
    try:
        value = json.loads(content)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _error_data(value: object) -> dict[str, Any]:
    # Older Graph endpoints send error_data as a JSON-encoded string.
    if isinstance(value, str):
        decoded = json_object(value.encode())
        return decoded if decoded is not None else {"details": value}
    return value if isinstance(value, dict) else {}


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _text(value: object, secret: str) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return scrub(text, secret)


def _excerpt(content: bytes, content_type: str | None, secret: str) -> str:
    text = " ".join(content.decode("utf-8", errors="replace").split())
    text = scrub(text, secret)
    if len(text) > _EXCERPT_CHARS:
        text = text[:_EXCERPT_CHARS] + "..."
    kind = content_type or "no content type"
    return f"not a Graph error body ({kind})" + (f": {text}" if text else "")
