"""Async client for Meta's Graph API (WhatsApp Cloud API endpoints).

Usage::

    from pydantic import SecretStr
    from pixy_whatsapp.graph import GraphAmbiguousError, GraphClient

    graph = GraphClient()  # once per process
    result = await graph.send_message(
        "106540352242922",
        {"to": "+16505551234", "type": "text", "text": {"body": "hi"}},
        SecretStr(token),
        biz_opaque_callback_data=request_id,
    )
    result.wamid, result.latency_ms
"""

from pixy_whatsapp.graph.client import MAX_CALLBACK_DATA_CHARS, GraphClient
from pixy_whatsapp.graph.exceptions import (
    GraphAmbiguousError,
    GraphApiError,
    GraphError,
    GraphNotSentError,
    GraphTransportError,
    GraphUnreadableResponseError,
)
from pixy_whatsapp.graph.pagination import DEFAULT_MAX_RESTARTS, INVALID_CURSOR_CODE
from pixy_whatsapp.graph.results import SendResult, SentContact, SubscribedApp
from pixy_whatsapp.graph.settings import (
    DEFAULT_API_VERSION,
    DEFAULT_BASE_URL,
    GraphClientSettings,
    GraphConnectionLimits,
    GraphTimeouts,
)

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RESTARTS",
    "INVALID_CURSOR_CODE",
    "MAX_CALLBACK_DATA_CHARS",
    "GraphAmbiguousError",
    "GraphApiError",
    "GraphClient",
    "GraphClientSettings",
    "GraphConnectionLimits",
    "GraphError",
    "GraphNotSentError",
    "GraphTimeouts",
    "GraphTransportError",
    "GraphUnreadableResponseError",
    "SendResult",
    "SentContact",
    "SubscribedApp",
]
