"""`POST /v1/messages` and `GET /v1/messages/{message_id}`."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from pixy_whatsapp.api.exceptions import MessageNotFound
from pixy_whatsapp.api.messages import MessageService
from pixy_whatsapp.api.models import (
    MAX_MESSAGES_PER_REQUEST,
    ErrorBody,
    MessageView,
    Outcome,
    SendMessagesRequest,
    SendMessagesResponse,
)

MESSAGE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"

_SEND_DESCRIPTION = f"""\
Takes 1 to {MAX_MESSAGES_PER_REQUEST} messages. Every message is checked first: if any is
invalid the answer is 422 (400 for a body that is not JSON) naming each problem at its
path, such as `messages[3].message.text.body`, and nothing is recorded or queued.

Otherwise each message gets an entry, in the request's order: `queued` (on the queue and
recorded), `duplicate` (its id is already known, or it repeats an earlier message of the
request: not sent twice) or `failed` (the queue refused it twice; it is recorded as failed
with reason `enqueue_failed`, and the request's later messages to the same recipient fail
with it rather than go ahead of it; send them again under new ids).

Give each message an `id` to make retries safe: sending the same request again then
answers `duplicate` for every id already taken.

The answer is 202 when no message failed and 207 (multi-status) when some did."""


def _error(description: str) -> OpenAPIResponse:
    return {
        "description": description,
        "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}},
    }


def _body(description: str, model: type[object]) -> OpenAPIResponse:
    return {
        "description": description,
        "content": {content_types.APPLICATION_JSON: {"model": model}},
    }


def build_router(messages: Callable[[], MessageService]) -> APIGatewayHttpRouter:
    """The message routes; `messages` gives the service when a request comes in."""
    router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

    @router.post(
        "/v1/messages",
        summary="Send messages",
        description=_SEND_DESCRIPTION,
        tags=["messages"],
        operation_id="sendMessages",
        status_code=HTTPStatus.ACCEPTED,
        responses={
            202: _body("every message queued or a known duplicate", SendMessagesResponse),
            207: _body("some messages could not be queued", SendMessagesResponse),
            400: _error("the body is not JSON"),
            415: _error("the body is not application/json"),
            422: _error("a message is invalid: nothing was done"),
        },
    )
    def send_messages(body: SendMessagesRequest) -> Response[SendMessagesResponse]:
        accepted = messages().accept([item.send_request() for item in body.messages])
        failed = any(answer.status is Outcome.FAILED for answer in accepted)
        return Response(
            status_code=HTTPStatus.MULTI_STATUS if failed else HTTPStatus.ACCEPTED,
            content_type=content_types.APPLICATION_JSON,
            body=SendMessagesResponse(messages=accepted),
        )

    @router.get(
        "/v1/messages/<message_id>",
        summary="A message's status",
        description="Its status, each status's first time, Meta's id (wamid) once accepted, "
        "and Meta's error code when it failed.",
        tags=["messages"],
        operation_id="getMessage",
        responses={
            200: _body("the message", MessageView),
            404: _error("no message with this id"),
            422: _error("not a possible message id"),
        },
    )
    def get_message(
        message_id: Annotated[str, Path(pattern=MESSAGE_ID_PATTERN, description="our message id")],
    ) -> MessageView:
        service = messages()
        view = service.view(message_id)
        if view is None:
            raise MessageNotFound(message_id, service.retention_days)
        return view

    return router
