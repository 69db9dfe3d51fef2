"""`GET /v1/health`."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from pixy_whatsapp.api.health import OK, HealthService
from pixy_whatsapp.api.models import ErrorBody, HealthResponse

GRAPH_ID_PATTERN = r"^[0-9]{1,32}$"


def build_router(health: Callable[[], HealthService]) -> APIGatewayHttpRouter:
    """The health route; `health` gives the service when a request comes in."""
    router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

    @router.get(
        "/v1/health",
        summary="Queue depths, and a number's and a WABA's send state",
        description="Depths of the outbound and inbound queues and their dead-letter "
        "queues. With `phone_number_id`: that number's breaker and its send limit (messages "
        "per second, from Meta's override or the default). With `waba_id`: the WABA's "
        "breaker. 200 when every queue answered, 503 when one did not.",
        tags=["operations"],
        operation_id="getHealth",
        responses={
            200: {
                "description": "every queue answered",
                "content": {content_types.APPLICATION_JSON: {"model": HealthResponse}},
            },
            503: {
                "description": "a queue could not be read",
                "content": {content_types.APPLICATION_JSON: {"model": HealthResponse}},
            },
            422: {
                "description": "a query parameter is not an id",
                "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}},
            },
        },
    )
    def get_health(
        phone_number_id: Annotated[
            str | None, Query(pattern=GRAPH_ID_PATTERN, description="business phone number id")
        ] = None,
        waba_id: Annotated[
            str | None, Query(pattern=GRAPH_ID_PATTERN, description="WhatsApp Business Account id")
        ] = None,
    ) -> Response[HealthResponse]:
        report = health().report(phone_number_id=phone_number_id, waba_id=waba_id)
        return Response(
            status_code=HTTPStatus.OK if report.status == OK else HTTPStatus.SERVICE_UNAVAILABLE,
            content_type=content_types.APPLICATION_JSON,
            body=report,
        )

    return router
