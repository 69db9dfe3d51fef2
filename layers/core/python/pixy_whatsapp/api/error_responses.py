"""Every 4xx as an `ErrorBody`: what went wrong, and each problem at its JSON path.

Powertools answers a failed validation with pydantic's locations and error types
only; callers get a sentence per problem instead, at a path they can find in
what they sent (`messages[3].message.text.body`, `query.waba_id`). Input values
are never echoed back: they may hold phone numbers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from pixy_whatsapp.api.exceptions import ApiError
from pixy_whatsapp.api.models import ErrorBody, ErrorDetail
from pixy_whatsapp.observability import logger

# Where Powertools puts a problem, and how a caller would name that place.
_SOURCES = {"body": "", "query": "query", "path": "path", "header": "header", "cookie": "cookie"}

# pydantic speaks to Python programmers; these read better next to a JSON path.
_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not allowed here",
    "model_attributes_type": "must be a JSON object",
    "model_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "list_type": "must be a JSON array",
}


# Answers made before or without a route (unreadable body, no such route) may be for a
# path whose documented 400/404 body is the WABA routes' one, which also requires `code`;
# they carry it (an extra key to `ErrorBody`), so they match every shape documented there.
INVALID_REQUEST = "invalid_request"
NOT_FOUND = "not_found"
METHOD_NOT_ALLOWED = "method_not_allowed"


def _dump(body: ErrorBody, code: str | None) -> str:
    if code is None:
        return body.model_dump_json()
    return json.dumps({**body.model_dump(mode="json"), "code": code})


def error_response(
    status: HTTPStatus | int, body: ErrorBody, code: str | None = None
) -> Response[str]:
    return Response(
        status_code=int(status),
        content_type=content_types.APPLICATION_JSON,
        body=_dump(body, code),
    )


def error_proxy_response(
    status: HTTPStatus, body: ErrorBody, code: str | None = None
) -> dict[str, Any]:
    """An answer in API Gateway's HTTP API format, for requests refused before routing."""
    return {
        "statusCode": int(status),
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": _dump(body, code),
        "isBase64Encoded": False,
    }


def json_path(location: Sequence[Any]) -> str:
    """`("body", "messages", 3, "to")` as `messages[3].to`; the body itself is `body`."""
    if not location:
        return "body"
    source, *rest = location
    prefix = _SOURCES.get(str(source))
    if prefix is None:  # not a request location: keep it all
        prefix, rest = str(source), list(rest)
    path = prefix
    for part in rest:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


def _message(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    return str(error.get("msg", "is invalid")).removeprefix("Value error, ")


def validation_details(errors: Iterable[Mapping[str, Any]]) -> list[ErrorDetail]:
    details: list[ErrorDetail] = []
    for error in errors:
        location = tuple(error.get("loc", ()))
        if error.get("type") == "json_invalid":
            # Powertools puts the character offset where a field name would be.
            reason = (error.get("ctx") or {}).get("error", "cannot be parsed")
            offset = location[1] if len(location) > 1 else None
            where = f" (at character {offset})" if isinstance(offset, int) and offset else ""
            details.append(ErrorDetail(path="body", message=f"is not valid JSON: {reason}{where}"))
            continue
        details.append(ErrorDetail(path=json_path(location), message=_message(error)))
    return details


def register_error_handlers(app: APIGatewayHttpResolver) -> None:
    """Answer validation failures, unknown routes and `ApiError`s with an `ErrorBody`."""

    def invalid_request(error: RequestValidationError) -> Response[str]:
        errors = list(error.errors())
        details = validation_details(errors)
        if any(e.get("type") == "json_invalid" for e in errors):
            status, summary = HTTPStatus.BAD_REQUEST, "the request body is not valid JSON"
            code: str | None = INVALID_REQUEST
        else:
            status = HTTPStatus.UNPROCESSABLE_ENTITY
            summary = (
                f"the request is invalid ({len(details)} problem"
                f"{'' if len(details) == 1 else 's'}); nothing was done"
            )
            code = None
        logger.info("request refused", extra={"status": int(status), "problems": len(details)})
        return error_response(status, ErrorBody(error=summary, details=details), code)

    def unsupported_type(error: RequestUnsupportedContentType) -> Response[str]:
        return error_response(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, unsupported_media_type())

    def api_error(error: ApiError) -> Response[str]:
        return error_response(
            error.status_code, ErrorBody(error=error.error, details=error.details)
        )

    def not_found(error: NotFoundError) -> Response[str]:
        event = app.current_event
        if error.msg != NotFoundError().msg:  # raised by a route, with its own reason
            return error_response(HTTPStatus.NOT_FOUND, ErrorBody(error=str(error.msg)))
        allowed = routes.allowed_methods(event.path)
        # A method the path takes still misses when the router refuses the path's
        # characters (`/v1/messages/%C2%84`): that stays a 404.
        if allowed and event.http_method.upper() not in allowed:
            response = error_response(
                HTTPStatus.METHOD_NOT_ALLOWED,
                ErrorBody(
                    error=f"{event.http_method} is not allowed on {event.path}",
                    details=[ErrorDetail(path="method", message=f"use {', '.join(allowed)}")],
                ),
                METHOD_NOT_ALLOWED,
            )
            response.headers["Allow"] = ", ".join(allowed)
            return response
        # A path no route takes can still look like a documented one (`/v1/wabas/%C2%84`).
        return error_response(
            HTTPStatus.NOT_FOUND,
            ErrorBody(
                error=f"no route for {event.http_method} {event.path}",
                details=[ErrorDetail(path="path", message="see GET /v1/openapi.json")],
            ),
            NOT_FOUND,
        )

    def service_error(error: ServiceError) -> Response[str]:
        text = error.msg if isinstance(error.msg, str) else json.dumps(error.msg)
        return error_response(error.status_code, ErrorBody(error=text))

    app.exception_handler(RequestValidationError)(invalid_request)
    app.exception_handler(RequestUnsupportedContentType)(unsupported_type)
    app.exception_handler(ApiError)(api_error)
    app.exception_handler(ServiceError)(service_error)
    routes = _RouteTable(app)
    app.not_found(not_found)


def unsupported_media_type() -> ErrorBody:
    return ErrorBody(
        error="unsupported content type",
        details=[ErrorDetail(path="header.content-type", message="must be application/json")],
    )


_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class _RouteTable:
    """Which methods each documented path takes, read from the app's own OpenAPI
    document the first time a request misses every route (a 405 instead of a 404)."""

    def __init__(self, app: APIGatewayHttpResolver) -> None:
        self._app = app
        self._paths: list[tuple[re.Pattern[str], list[str]]] | None = None

    def allowed_methods(self, path: str) -> list[str]:
        if self._paths is None:
            document = self._app.get_openapi_schema().model_dump(by_alias=True)
            self._paths = [
                (
                    _path_pattern(template),
                    sorted(m.upper() for m in _METHODS if operations.get(m) is not None),
                )
                for template, operations in (document.get("paths") or {}).items()
                if operations
            ]
        for pattern, methods in self._paths:
            if pattern.match(path):
                return methods
        return []


def _path_pattern(template: str) -> re.Pattern[str]:
    """`/v1/messages/{id}` as a pattern that takes any one segment for `{id}`."""
    segments = (
        "[^/]+" if part.startswith("{") and part.endswith("}") else re.escape(part)
        for part in template.split("/")
    )
    return re.compile("^" + "/".join(segments) + "$")
