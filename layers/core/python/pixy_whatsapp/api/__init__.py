"""The `/v1` HTTP API: send messages, read their status, report health.

`build_app` gives the Powertools resolver the `api` Lambda serves; the logic behind
the routes (`MessageService`, `HealthService`) takes its AWS clients as arguments.
"""

from pixy_whatsapp.api.app import OPENAPI_PATH, ApiResolver, ApiServices, build_app, openapi_json
from pixy_whatsapp.api.health import HealthService, QueueUrls
from pixy_whatsapp.api.messages import ENQUEUE_FAILED, MessageService

__all__ = [
    "ENQUEUE_FAILED",
    "OPENAPI_PATH",
    "ApiResolver",
    "ApiServices",
    "HealthService",
    "MessageService",
    "QueueUrls",
    "build_app",
    "openapi_json",
]
