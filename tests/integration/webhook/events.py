"""API Gateway HTTP API (payload format 2.0) events and a Lambda context, as Lambda gets them."""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode


def http_api_event(
    method: str,
    path: str = "/webhook",
    *,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    base64_body: bool = False,
    stage: str = "$default",
    time_epoch: int | None = None,
) -> dict[str, Any]:
    """One request as API Gateway hands it to Lambda.

    Header names are passed through as given (API Gateway lower-cases them; pass mixed
    case to check that the handler does not depend on that). A text body must be UTF-8.
    """
    now = time_epoch if time_epoch is not None else time.time_ns() // 1_000_000
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    all_headers = {
        "host": "abc123.execute-api.us-east-1.amazonaws.com",
        "user-agent": "facebookexternalua",
        "x-forwarded-proto": "https",
        **(headers or {}),
    }
    if body is not None:
        all_headers.setdefault("content-length", str(len(body)))
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": raw_path,
        "rawQueryString": urlencode(query or {}),
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "173.252.127.1",
                "userAgent": all_headers["user-agent"],
            },
            "requestId": uuid.uuid4().hex[:16] + "=",
            "routeKey": f"{method} {path}",
            "stage": stage,
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now / 1000)),
            "timeEpoch": now,
        },
        "isBase64Encoded": base64_body,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if body is not None:
        event["body"] = base64.b64encode(body).decode() if base64_body else body.decode("utf-8")
    return event


@dataclass
class LambdaContextStub:
    """The attributes of the Lambda context object that Powertools reads."""

    function_name: str = "pixy-webhook"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:pixy-webhook"
    log_group_name: str = "/aws/lambda/pixy-webhook"
    log_stream_name: str = "2025/11/25/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000
