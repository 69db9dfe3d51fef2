"""The Graph API routes the simulator serves, in front of `Simulation`."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from infra.local.graph_simulator import graph_errors
from infra.local.graph_simulator.connection import ConnectionReset, DelayedResponse
from infra.local.graph_simulator.simulation import Answer, Simulation

_VERSION = re.compile(r"v\d+\.\d+")


def graph_routes(simulation: Simulation) -> list[Route]:
    async def messages(request: Request) -> Response:
        raw = await request.body()
        if not _VERSION.fullmatch(request.path_params["version"]):
            return respond(Answer.error(graph_errors.unknown_path(request.url.path)))
        answer = simulation.send(request.path_params["phone_number_id"], bearer_token(request), raw)
        return respond(answer)

    async def subscribed_apps(request: Request) -> Response:
        raw = await request.body()
        if not _VERSION.fullmatch(request.path_params["version"]):
            return respond(Answer.error(graph_errors.unknown_path(request.url.path)))
        params = dict(request.query_params)
        params.update(_body_params(raw, request.headers.get("content-type", "")))
        answer = simulation.subscribed_apps(
            request.method, request.path_params["waba_id"], bearer_token(request), params
        )
        return respond(answer)

    return [
        Route("/{version}/{phone_number_id}/messages", messages, methods=["POST"]),
        Route(
            "/{version}/{waba_id}/subscribed_apps",
            subscribed_apps,
            methods=["GET", "POST", "DELETE"],
        ),
    ]


async def unknown_path(request: Request) -> Response:
    await request.body()
    return respond(Answer.error(graph_errors.unknown_path(request.url.path)))


def respond(answer: Answer) -> Response:
    if answer.reset or answer.body is None:
        return ConnectionReset(answer.delay)
    headers = {}
    if answer.status == 401:
        headers["WWW-Authenticate"] = 'OAuth "Facebook Platform" "invalid_token"'
    body = JSONResponse(answer.body, answer.status, headers=headers)
    return DelayedResponse(body, answer.delay) if answer.delay > 0 else body


def bearer_token(request: Request) -> str | None:
    # Graph also takes the token as a query parameter; clients here should not, but may.
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.query_params.get("access_token") or None


def _body_params(raw: bytes, content_type: str) -> dict[str, str]:
    if not raw:
        return {}
    if "application/x-www-form-urlencoded" in content_type:
        return dict(parse_qsl(raw.decode("utf-8", "replace")))
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(key): str(item) for key, item in value.items() if item is not None}
