"""The simulator's own endpoints under `/_sim/`: state for tests, knobs for run time.

GET  /_sim/state               counts, subscriptions, latest sends
GET  /_sim/accepted            every accepted send
GET  /_sim/config              the settings in force
POST /_sim/config              change settings: {"faults": [...], "latency": {...}, ...}
POST /_sim/revoke-token        {"token": "...", "seconds": 5}  (seconds optional)
POST /_sim/restore-token       {"token": "..."}
POST /_sim/drop-subscription   {"waba_id": "..."}  (drift behind the client's back)
POST /_sim/inbound             {"phone_number_id", "from", "text", "name"?}
POST /_sim/reset               forget records and limiter state
"""

from __future__ import annotations

import json
import time
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from infra.local.graph_simulator.simulation import Simulation


def admin_routes(simulation: Simulation) -> list[Route]:
    async def state(request: Request) -> Response:
        return JSONResponse(simulation.state())

    async def accepted(request: Request) -> Response:
        return JSONResponse(
            [
                {
                    "wamid": message.wamid,
                    "phone_number_id": message.phone_number_id,
                    "waba_id": message.waba_id,
                    "recipient": message.recipient,
                    "biz_opaque_callback_data": message.biz_opaque_callback_data,
                    "accepted_at": message.accepted_at,
                    "fault": message.fault,
                    "body": message.body,
                }
                for message in simulation.records.accepted
            ]
        )

    async def config(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(simulation.config.model_dump(mode="json"))
        changes = await _json_body(request)
        if changes is None:
            return _bad_request("expected a JSON object of settings")
        try:
            updated = simulation.update_config(changes)
        except ValidationError as error:
            return JSONResponse({"errors": json.loads(error.json())}, 422)
        return JSONResponse(updated.model_dump(mode="json"))

    async def revoke_token(request: Request) -> Response:
        body = await _json_body(request)
        if body is None or not isinstance(body.get("token"), str):
            return _bad_request('expected {"token": "...", "seconds": optional number}')
        seconds = body.get("seconds")
        if seconds is not None and not isinstance(seconds, int | float):
            return _bad_request("seconds must be a number")
        simulation.accounts.revoke(body["token"], time.monotonic(), seconds)
        return JSONResponse({"success": True})

    async def restore_token(request: Request) -> Response:
        body = await _json_body(request)
        if body is None or not isinstance(body.get("token"), str):
            return _bad_request('expected {"token": "..."}')
        simulation.accounts.restore(body["token"])
        return JSONResponse({"success": True})

    async def drop_subscription(request: Request) -> Response:
        body = await _json_body(request)
        if body is None or not isinstance(body.get("waba_id"), str):
            return _bad_request('expected {"waba_id": "..."}')
        return JSONResponse({"success": simulation.accounts.unsubscribe(body["waba_id"])})

    async def inbound(request: Request) -> Response:
        body = await _json_body(request)
        fields = ("phone_number_id", "from", "text")
        if body is None or not all(isinstance(body.get(name), str) for name in fields):
            return _bad_request('expected {"phone_number_id", "from", "text", "name"?}')
        try:
            wamid = simulation.inbound_text(
                body["phone_number_id"],
                body["from"],
                body["text"],
                str(body.get("name", "Test User")),
            )
        except KeyError as error:
            return _bad_request(str(error))
        return JSONResponse({"wamid": wamid})

    async def reset(request: Request) -> Response:
        simulation.reset_records()
        return JSONResponse({"success": True})

    return [
        Route("/_sim/state", state, methods=["GET"]),
        Route("/_sim/accepted", accepted, methods=["GET"]),
        Route("/_sim/config", config, methods=["GET", "POST"]),
        Route("/_sim/revoke-token", revoke_token, methods=["POST"]),
        Route("/_sim/restore-token", restore_token, methods=["POST"]),
        Route("/_sim/drop-subscription", drop_subscription, methods=["POST"]),
        Route("/_sim/inbound", inbound, methods=["POST"]),
        Route("/_sim/reset", reset, methods=["POST"]),
    ]


async def _json_body(request: Request) -> dict[str, Any] | None:
    try:
        value = json.loads(await request.body() or b"{}")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _bad_request(message: str) -> Response:
    return JSONResponse({"error": message}, 400)
