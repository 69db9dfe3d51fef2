"""The `/v1` API as one Powertools resolver: routes, error answers and its OpenAPI document.

Example::

    services = ApiServices.from_settings(settings, dynamodb=ddb_client, sqs=sqs_client)
    app = build_app(lambda: services)
    app.resolve(event, context)          # an API Gateway HTTP API (payload 2.0) event
"""

from __future__ import annotations

import base64
import binascii
import importlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from pixy_whatsapp import __version__
from pixy_whatsapp.api import health_routes, messages_routes
from pixy_whatsapp.api.error_responses import (
    INVALID_REQUEST,
    error_proxy_response,
    register_error_handlers,
    unsupported_media_type,
)
from pixy_whatsapp.api.health import HealthService, QueueUrls
from pixy_whatsapp.api.messages import MessageService
from pixy_whatsapp.api.models import ErrorBody, ErrorDetail
from pixy_whatsapp.breaker import BreakerSettings, CircuitBreaker, DynamoDBBreakerStore
from pixy_whatsapp.limits import DynamoDBLimitStore, LimitSettings
from pixy_whatsapp.statuses import MessageStore

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

    from pixy_whatsapp.settings import Settings

TITLE = "pixy-whatsapp"
OPENAPI_PATH = "/v1/openapi.json"
WABAS_ROUTES = "pixy_whatsapp.api.wabas_routes"

_DESCRIPTION = """\
Send WhatsApp messages through the outbound queue and follow what became of them.

Every route is behind AWS IAM at API Gateway: sign requests with Signature Version 4
(service `execute-api`). Every 4xx answer is `{"error": ..., "details": [{"path",
"message"}]}`; a client's input never causes a 5xx."""


@dataclass(frozen=True, slots=True)
class ApiServices:
    messages: MessageService
    health: HealthService

    @classmethod
    def from_settings(
        cls, settings: Settings, *, dynamodb: DynamoDBClient, sqs: SQSClient
    ) -> ApiServices:
        limit_settings = LimitSettings(number_mps=settings.default_mps)
        return cls(
            messages=MessageService(
                MessageStore(
                    dynamodb, settings.messages_table, retention_days=settings.message_ttl_days
                ),
                sqs,
                settings.outbound_queue_url,
                shard_count=settings.shard_count,
                retention_days=settings.message_ttl_days,
            ),
            health=HealthService(
                sqs,
                QueueUrls(
                    outbound=settings.outbound_queue_url,
                    outbound_dlq=settings.outbound_dlq_url,
                    inbound=settings.inbound_queue_url,
                    inbound_dlq=settings.inbound_dlq_url,
                ),
                CircuitBreaker(
                    DynamoDBBreakerStore(dynamodb, settings.control_table),
                    BreakerSettings(cache_ttl_s=settings.breaker_cache_seconds),
                ),
                DynamoDBLimitStore(dynamodb, settings.control_table),
                limit_settings,
            ),
        )

    def close(self) -> None:
        self.messages.close()
        self.health.close()


def _finite(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"the number {text[:20]} is too large")
    return number


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def parse_json_body(text: str) -> Any:
    """`json.loads` that refuses what it would otherwise accept but cannot round-trip.

    Everything it refuses is reported as a JSON syntax error (400), never a 500: NaN
    and Infinity (not JSON), numbers too large for a float, integers over Python's
    digit limit, and nesting too deep for the parser's recursion.
    """
    try:
        return json.loads(text, parse_float=_finite, parse_constant=_no_constants)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", text, 0) from None
    except ValueError as error:
        raise json.JSONDecodeError(str(error), text, 0) from None


def _header(event: Mapping[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def refuse_unreadable_body(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """An answer for a body no route could read as JSON text; None to go on.

    Powertools would fail with a 500 on a base64 body that does not decode to UTF-8 and
    on a malformed multipart body, so such requests are answered before routing.
    """
    body = event.get("body")
    if not body:
        return None
    content_type = (_header(event, "content-type") or "").strip()
    if content_type and not content_type.lower().startswith(content_types.APPLICATION_JSON):
        return error_proxy_response(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, unsupported_media_type())
    if event.get("isBase64Encoded"):
        try:
            base64.b64decode(str(body), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return error_proxy_response(
                HTTPStatus.BAD_REQUEST,
                ErrorBody(
                    error="the request body is not UTF-8 text",
                    details=[ErrorDetail(path="body", message="must be JSON in UTF-8")],
                ),
                INVALID_REQUEST,
            )
    return None


class ApiResolver(APIGatewayHttpResolver):
    """An HTTP API resolver that refuses unreadable bodies before routing."""

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        refusal = refuse_unreadable_body(event)
        if refusal is not None:
            return refusal
        return super().resolve(event, context)


def openapi_json(app: APIGatewayHttpResolver) -> str:
    """The API's OpenAPI document, as served and as exported to docs/contract/."""
    document = json.loads(
        app.get_openapi_json_schema(title=TITLE, version=__version__, description=_DESCRIPTION)
    )
    return json.dumps(_with_error_bodies(document), separators=(",", ":"))


_POWERTOOLS_422 = "#/components/schemas/HTTPValidationError"
_ERROR_BODY_REF = "#/components/schemas/ErrorBody"


def _with_error_bodies(document: dict[str, Any]) -> dict[str, Any]:
    """Describe every 422 as the `ErrorBody` our handler answers with.

    Powertools documents a route's 422 as its own error shape unless the route says
    otherwise; this resolver answers every validation failure with an `ErrorBody`.
    """
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            answer = operation.get("responses", {}).get("422")
            content = (answer or {}).get("content", {}).get(content_types.APPLICATION_JSON, {})
            if content.get("schema", {}).get("$ref") == _POWERTOOLS_422:
                answer["description"] = "the request is invalid: each problem at its path"
                content["schema"] = {"$ref": _ERROR_BODY_REF}
    schemas = document.get("components", {}).get("schemas", {})
    text = json.dumps(document.get("paths", {}))
    if _POWERTOOLS_422 not in text:
        schemas.pop("HTTPValidationError", None)
        if '"#/components/schemas/ValidationError"' not in json.dumps(schemas):
            schemas.pop("ValidationError", None)
    return document


def _wabas_router() -> Router | None:
    """The WABA admin routes, when their module is part of this build."""
    try:
        module = importlib.import_module(WABAS_ROUTES)
    except ModuleNotFoundError as error:
        if error.name != WABAS_ROUTES:
            raise  # the module is there but something it imports is not: a real fault
        # Expected at pixy_whatsapp/api/wabas_routes.py (a Router named `router`).
        return None
    router = getattr(module, "router", None)
    if not isinstance(router, Router):
        raise TypeError(f"{WABAS_ROUTES}.router must be a Powertools Router")
    return router


def build_app(services: Callable[[], ApiServices]) -> ApiResolver:
    """The resolver with every `/v1` route; `services` is called per request, not here."""
    app = ApiResolver(
        enable_validation=True,
        # A response that does not match its model is our bug: a 500, never a 4xx.
        response_validation_error_http_code=HTTPStatus.INTERNAL_SERVER_ERROR,
        json_body_deserializer=parse_json_body,
    )
    register_error_handlers(app)
    app.include_router(messages_routes.build_router(lambda: services().messages))
    app.include_router(health_routes.build_router(lambda: services().health))
    wabas = _wabas_router()
    if wabas is not None:
        app.include_router(wabas)

    document: list[str] = []

    @app.get(OPENAPI_PATH, include_in_schema=False)
    def openapi() -> Response[str]:
        if not document:
            document.append(openapi_json(app))
        return Response(
            status_code=HTTPStatus.OK,
            content_type=content_types.APPLICATION_JSON,
            body=document[0],
        )

    return app
