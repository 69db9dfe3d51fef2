"""The HTTP API on localhost: each request becomes API Gateway's HTTP API (payload 2.0)
event and goes to the same handler Lambda runs.

Routes are the CDK stack's: ``GET /webhook`` and ``POST /webhook`` to the webhook
function, ``ANY /v1/{proxy+}`` to the api function (IAM-authorised in AWS; open here, and
the event carries a made-up local IAM identity). Anything else is API Gateway's
``404 {"message":"Not Found"}``; a handler that raises is its ``500 {"message":"Internal
Server Error"}``.

Local-only routes, which AWS does not have, live under ``/_local/``: ``GET
/_local/metrics`` (the EMF aggregate, read by ``pixy-whatsapp report --local``), ``GET
/_local/health`` and ``POST /_local/schedules/{key}`` (run a schedule now).

Example::

    api = HttpApi(pools, emf=aggregator, port=0, ...)
    api.start()
    httpx.post(f"{api.url}/v1/messages", json=...)
    api.stop()
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig
from hypercorn.typing import ASGIFramework
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from infra.local.stack.emf import EmfAggregator
from infra.local.stack.lambda_runtime import FunctionPool, HandlerMissing
from infra.topology import FunctionKey

_log = logging.getLogger("pixy.local.http")

WEBHOOK_PATH = "/webhook"
V1_PREFIX = "/v1/"
V1_ROUTE_KEY = "ANY /v1/{proxy+}"
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
_TEXT_SUFFIXES = ("+json", "+xml")
_START_TIMEOUT_S = 10.0
# API Gateway gives up on an integration after 30 s.
INTEGRATION_TIMEOUT_S = 30.0

LOCAL_IDENTITY = {
    "accessKey": "LOCALACCESSKEY",
    "accountId": "123456789012",
    "callerId": "local-developer",
    "principalOrgId": None,
    "userArn": "arn:aws:iam::123456789012:user/local-developer",
    "userId": "local-developer",
    "cognitoIdentity": None,
}
"""What the IAM authoriser would put in the event; locally nobody is checked."""


@dataclass(frozen=True)
class MatchedRoute:
    function: FunctionKey
    route_key: str
    path_parameters: dict[str, str] | None
    iam: bool


def match_route(method: str, path: str) -> MatchedRoute | None:
    """The CDK stack's route for a request, or None (API Gateway's 404)."""
    if path == WEBHOOK_PATH and method in ("GET", "POST"):
        return MatchedRoute(FunctionKey.WEBHOOK, f"{method} {WEBHOOK_PATH}", None, iam=False)
    if path.startswith(V1_PREFIX) and len(path) > len(V1_PREFIX):
        proxy = path[len(V1_PREFIX) :]
        return MatchedRoute(FunctionKey.API, V1_ROUTE_KEY, {"proxy": proxy}, iam=True)
    return None


def _is_text(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind.startswith(_TEXT_TYPES) or kind.endswith(_TEXT_SUFFIXES)


def build_event(
    *,
    method: str,
    path: str,
    raw_query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
    route: MatchedRoute,
    account_id: str,
    now: float | None = None,
) -> dict[str, Any]:
    """API Gateway HTTP API's payload 2.0 event for one request."""
    at = time.time() if now is None else now
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        lower = name.lower()
        if lower == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        joined[lower] = f"{joined[lower]},{value}" if lower in joined else value
    host = joined.get("host", "localhost")
    request_context: dict[str, Any] = {
        "accountId": account_id,
        "apiId": "local",
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0],
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": joined.get("user-agent", ""),
        },
        "requestId": uuid.uuid4().hex[:16],
        "routeKey": route.route_key,
        "stage": "$default",
        "time": datetime.fromtimestamp(at, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(at * 1000),
    }
    if route.iam:
        request_context["authorizer"] = {"iam": dict(LOCAL_IDENTITY)}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": joined,
        "requestContext": request_context,
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if raw_query:
        event["queryStringParameters"] = _query_parameters(raw_query)
    if route.path_parameters:
        event["pathParameters"] = dict(route.path_parameters)
    if body:
        text: str | None = None
        if _is_text(joined.get("content-type", "")):
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                text = None
        if text is None:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
        else:
            event["body"] = text
    return event


def _query_parameters(raw_query: str) -> dict[str, str]:
    from urllib.parse import parse_qsl

    parameters: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        parameters[name] = f"{parameters[name]},{value}" if name in parameters else value
    return parameters


def to_response(result: Any) -> Response:
    """Lambda's answer as API Gateway (payload 2.0) turns it into an HTTP response."""
    if isinstance(result, Mapping) and "statusCode" in result:
        body = result.get("body") or ""
        raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode("utf-8")
        response = Response(content=raw, status_code=int(result["statusCode"]))
        for name, value in (result.get("headers") or {}).items():
            response.headers[str(name)] = str(value)
        for name, values in (result.get("multiValueHeaders") or {}).items():
            for value in values:
                response.headers.append(str(name), str(value))
        for cookie in result.get("cookies") or ():
            response.headers.append("set-cookie", str(cookie))
        if "content-type" not in response.headers and raw:
            response.headers["content-type"] = "application/json"
        return response
    # Payload 2.0 without a statusCode: API Gateway assumes 200 and a JSON body.
    if isinstance(result, str):
        return Response(content=result, status_code=200, media_type="application/json")
    return Response(content=json.dumps(result), status_code=200, media_type="application/json")


class HttpApi:
    """Starlette behind hypercorn, on its own thread and loop."""

    def __init__(
        self,
        pools: Mapping[FunctionKey, FunctionPool],
        *,
        emf: EmfAggregator,
        account_id: str,
        host: str = "127.0.0.1",
        port: int = 0,
        health: Callable[[], dict[str, Any]] | None = None,
        run_schedule: Callable[[str], Any] | None = None,
    ) -> None:
        self._pools = pools
        self._emf = emf
        self._account_id = account_id
        self._host = host
        self._port = port
        self._health = health
        self._run_schedule = run_schedule
        self._executor: ThreadPoolExecutor | None = None
        self._socket: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self.requests = 0

    # -- where -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("the HTTP API is not started")
        port: int = self._socket.getsockname()[1]
        return port

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    # -- the app ---------------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/_local/metrics", self._metrics, methods=["GET"]),
                Route("/_local/health", self._health_route, methods=["GET"]),
                Route("/_local/schedules/{key}", self._schedule_route, methods=["POST"]),
                Route("/{path:path}", self._lambda_route, methods=_METHODS),
            ]
        )

    async def _metrics(self, request: Request) -> Response:
        since = request.query_params.get("since")
        snapshot = self._emf.snapshot(since=float(since) if since else None)
        snapshot["functions"] = {
            str(key): pool.stats.as_dict() for key, pool in self._pools.items()
        }
        return JSONResponse(snapshot)

    async def _health_route(self, request: Request) -> Response:
        payload: dict[str, Any] = {}
        if self._health is not None:
            # It asks moto for queue depths: off the event loop.
            payload = await asyncio.get_running_loop().run_in_executor(self._executor, self._health)
        return JSONResponse({"status": "ok", **payload})

    async def _schedule_route(self, request: Request) -> Response:
        if self._run_schedule is None:
            return JSONResponse({"message": "no schedules"}, status_code=404)
        key = request.path_params["key"]
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(self._executor, self._run_schedule, key)
        except KeyError:
            return JSONResponse({"message": f"no schedule {key!r}"}, status_code=404)
        except Exception as error:  # the handler's failure, reported as Invoke does
            return JSONResponse(
                {"errorType": type(error).__name__, "errorMessage": str(error)}, 500
            )
        return JSONResponse({"schedule": key, "result": result})

    async def _lambda_route(self, request: Request) -> Response:
        self.requests += 1
        method = request.method
        path = request.url.path
        route = match_route(method, path)
        if route is None or route.function not in self._pools:
            return JSONResponse({"message": "Not Found"}, status_code=404)
        body = await request.body()
        event = build_event(
            method=method,
            path=path,
            raw_query=request.url.query,
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
            body=body,
            source_ip=request.client.host if request.client else "127.0.0.1",
            route=route,
            account_id=self._account_id,
        )
        pool = self._pools[route.function]
        loop = asyncio.get_running_loop()
        try:
            result = await asyncio.wait_for(
                loop.run_in_executor(self._executor, pool.invoke, event),
                INTEGRATION_TIMEOUT_S,
            )
        except TimeoutError:
            return JSONResponse({"message": "Service Unavailable"}, status_code=503)
        except HandlerMissing as missing:
            _log.warning("%s", missing)
            return JSONResponse({"message": "Internal Server Error"}, status_code=500)
        except Exception:
            return JSONResponse({"message": "Internal Server Error"}, status_code=500)
        return to_response(result)

    # -- running ---------------------------------------------------------------------------

    def bind(self) -> None:
        """Open the listening socket, so the URL is known before serving starts."""
        if self._socket is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self._host, self._port))
            sock.listen(1024)
            self._socket = sock

    def start(self) -> None:
        """Serve; the functions' pools must be complete by now (they size the workers)."""
        self.bind()
        sock = self._socket
        assert sock is not None
        # One thread per environment the HTTP functions may have, as Lambda scales them.
        workers = sum(pool.max_environments for pool in self._pools.values()) + 2
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="http-api")
        started = threading.Event()
        failure: list[BaseException] = []

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stopping = asyncio.Event()
            config = HypercornConfig()
            config.bind = [f"fd://{sock.dup().detach()}"]
            config.graceful_timeout = 1.0
            config.accesslog = None
            config.errorlog = logging.getLogger("pixy.local.http.hypercorn")
            config.include_server_header = False
            serving = asyncio.create_task(
                serve(
                    cast(ASGIFramework, self.app()),
                    config,
                    shutdown_trigger=self._stopping.wait,
                    mode="asgi",
                )
            )
            await asyncio.sleep(0)
            started.set()
            await serving

        def thread_main() -> None:
            try:
                asyncio.run(main())
            except BaseException as error:
                failure.append(error)
                started.set()

        self._thread = threading.Thread(target=thread_main, name="local-http-api", daemon=True)
        self._thread.start()
        if not started.wait(_START_TIMEOUT_S) or failure:
            raise RuntimeError("the local HTTP API did not start") from (
                failure[0] if failure else None
            )

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(_START_TIMEOUT_S)
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
        if self._socket is not None:
            self._socket.close()
            self._socket = None
