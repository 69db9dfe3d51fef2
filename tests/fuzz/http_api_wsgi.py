"""A WSGI application that stands in for API Gateway's HTTP API in front of one Lambda handler.

Each WSGI request becomes the payload 2.0 event API Gateway would hand the function (route
`ANY /v1/{proxy+}`, IAM identity, headers lower-cased and repeated ones joined with commas,
text bodies as text and anything else base64) and the function's answer becomes the HTTP
response. A handler that raises is answered as API Gateway answers it, `500 {"message":
"Internal Server Error"}`, and the exception is kept in `errors` for the test to show.

Example::

    app = HttpApiWsgi(handler)
    schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", app)
"""

from __future__ import annotations

import base64
import io
import json
import traceback
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from infra.local.stack.http_api import V1_PREFIX, MatchedRoute, build_event
from infra.topology import FunctionKey
from tests.integration.webhook.events import LambdaContextStub

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
StartResponse = Callable[..., Any]

V1_ROUTE_KEY = "ANY /v1/{proxy+}"


def _wsgi_text(value: str) -> str:
    """A WSGI string (bytes as latin-1) as the UTF-8 text API Gateway would pass on."""
    return value.encode("latin-1").decode("utf-8", "replace")


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").lower()
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key.replace("_", "-").lower()
        else:
            continue
        if value == "" and name in ("content-type", "content-length"):
            continue
        text = _wsgi_text(str(value))
        headers[name] = f"{headers[name]},{text}" if name in headers else text
    return headers


def http_api_event(environ: dict[str, Any]) -> dict[str, Any]:
    """API Gateway's HTTP API (payload 2.0) event for one WSGI request, built as the local
    stack builds it, every path routed to the one function."""
    path = _wsgi_text(str(environ.get("PATH_INFO") or "/"))
    headers = _headers(environ)
    length = int(headers.get("content-length") or 0)
    proxy = path.removeprefix(V1_PREFIX) if path.startswith(V1_PREFIX) else None
    return build_event(
        method=str(environ["REQUEST_METHOD"]).upper(),
        path=path,
        raw_query=_wsgi_text(str(environ.get("QUERY_STRING") or "")),
        headers=list(headers.items()),
        body=environ["wsgi.input"].read(length) if length else b"",
        source_ip="127.0.0.1",
        route=MatchedRoute(
            FunctionKey.API, V1_ROUTE_KEY, {"proxy": proxy} if proxy else None, iam=True
        ),
        account_id="123456789012",
    )


class HttpApiWsgi:
    """The WSGI face of one HTTP API Lambda handler (see the module's docstring)."""

    def __init__(self, handler: Handler | None = None, function_name: str = "pixy-api") -> None:
        self.handler = handler
        self._function_name = function_name
        self.errors: list[str] = []
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if self.handler is None:
            raise RuntimeError("no handler installed: the fixture that starts the API is missing")
        self.calls += 1
        event = http_api_event(environ)
        try:
            result = self.handler(event, LambdaContextStub(function_name=self._function_name))
        except Exception:
            self.errors.append(f"{event['requestContext']['http']}\n{traceback.format_exc()}")
            start_response("500 Internal Server Error", [("Content-Type", "application/json")])
            return [b'{"message":"Internal Server Error"}']
        status = int(result.get("statusCode", 200))
        raw_body = result.get("body") or ""
        body = (
            base64.b64decode(raw_body)
            if result.get("isBase64Encoded")
            else str(raw_body).encode("utf-8")
        )
        headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers.extend((str(name), str(v)) for v in values)
        headers.extend(("Set-Cookie", str(c)) for c in result.get("cookies") or ())
        if not any(name.lower() == "content-type" for name, _ in headers) and body:
            headers.append(("Content-Type", "application/json"))
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        start_response(f"{status} {phrase}".strip(), headers)
        return [body]

    def get_json(self, path: str) -> Any:
        """GET `path` and read the answer as JSON (for fixtures, outside the fuzz)."""
        answer: list[str] = []
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "wsgi.input": io.BytesIO(),
        }
        body = b"".join(self(environ, lambda status, headers: answer.append(status)))
        assert answer[0].startswith("200"), (answer, body[:300])
        return json.loads(body)


def explains_itself(status: int, body: bytes) -> str | None:
    """Why a 4xx body does not say what was wrong, or None when it does.

    Accepted: `{"error": <non-empty text>, "details": [{"path", "message"}, ...]}` (the
    WABA routes' body adds `code` and Meta's fields to the same two).
    """
    try:
        document = json.loads(body)
    except ValueError:
        return f"{status} body is not JSON: {body[:200]!r}"
    if not isinstance(document, dict):
        return f"{status} body is not a JSON object: {document!r:.200}"
    error = document.get("error")
    if not isinstance(error, str) or not error.strip():
        return f"{status} body has no non-empty `error`: {document!r:.300}"
    details = document.get("details")
    if not isinstance(details, list):
        return f"{status} body has no `details` list: {document!r:.300}"
    for detail in details:
        if not (
            isinstance(detail, dict)
            and isinstance(detail.get("message"), str)
            and detail["message"].strip()
            and isinstance(detail.get("path"), str)
        ):
            return f"{status} detail without a path and a message: {detail!r:.300}"
    return None
