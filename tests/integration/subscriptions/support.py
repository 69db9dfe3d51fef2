"""Accounts, tables, settings and EMF reading shared by the subscription tests."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, cast

from aws_lambda_powertools.utilities.typing import LambdaContext
from pixy_whatsapp.settings import Settings

from infra.local.graph_simulator import PhoneNumber, SimulatorConfig

# Three WABAs, one number and one token each, as Meta's ids look: digits.
WABA_A, WABA_B, WABA_C = "2001", "2002", "2003"
NUMBER_A, NUMBER_B, NUMBER_C = "1001", "1002", "1003"
TOKEN_A, TOKEN_B, TOKEN_C = "token-a-0123456789", "token-b-0123456789", "token-c-0123456789"
ROTATED_TOKEN_A = "token-a-rotated-0123"
APP_ID = "100000000000001"

SECRET_PREFIX = "pixy/test/waba/"
VERIFY_TOKEN_NAME = "pixy/test/verify-token"
VERIFY_TOKEN = "verify-me-0123456789"
OVERRIDE_URL = "https://hooks.example.test/whatsapp"

TABLES = {"wabas": "wabas", "control": "control", "messages": "messages"}


def simulator_config(**changes: Any) -> SimulatorConfig:
    """Nothing subscribed at start: registering is what subscribes."""
    config = SimulatorConfig(
        phone_numbers={
            NUMBER_A: PhoneNumber(waba_id=WABA_A),
            NUMBER_B: PhoneNumber(waba_id=WABA_B),
            NUMBER_C: PhoneNumber(waba_id=WABA_C),
        },
        tokens={
            TOKEN_A: (WABA_A, NUMBER_A),
            ROTATED_TOKEN_A: (WABA_A, NUMBER_A),
            TOKEN_B: (WABA_B, NUMBER_B),
            TOKEN_C: (WABA_C, NUMBER_C),
        },
        app_id=APP_ID,
        subscribed_at_start=False,
    )
    return config.model_copy(update=changes)


def settings_for(graph_base_url: str, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "stage": "test",
        "messages_table": TABLES["messages"],
        "control_table": TABLES["control"],
        "contacts_table": "contacts",
        "wabas_table": TABLES["wabas"],
        "idempotency_table": "idempotency",
        "outbound_queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/outbound.fifo",
        "outbound_dlq_url": "https://sqs.us-east-1.amazonaws.com/123456789012/outbound-dlq.fifo",
        "inbound_queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/inbound",
        "inbound_dlq_url": "https://sqs.us-east-1.amazonaws.com/123456789012/inbound-dlq",
        "webhook_bucket": "webhooks",
        "event_bus": "events",
        "app_secret_name": "pixy/test/app-secret",
        "verify_token_name": VERIFY_TOKEN_NAME,
        "waba_secret_prefix": SECRET_PREFIX,
        "graph_base_url": graph_base_url,
        "graph_timeout_seconds": 2.0,
        "shadow_delivery_minutes": 30,
    }
    values.update(changes)
    return Settings.model_validate(values)


def create_tables(ddb: Any) -> None:
    for name in TABLES.values():
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )


def minutes_ago(minutes: float) -> int:
    return time.time_ns() // 1_000_000 - int(minutes * 60_000)


@dataclass(frozen=True)
class Emitted:
    """What the EMF lines printed to stdout say."""

    blobs: list[dict[str, Any]]

    @classmethod
    def parse(cls, stdout: str) -> Emitted:
        blobs = []
        for line in stdout.splitlines():
            line = line.strip()
            if not line.startswith("{"):
                continue
            blob = json.loads(line)
            if "_aws" in blob:
                blobs.append(blob)
        return cls(blobs)

    def total(self, name: str) -> float | None:
        """The sum of every value emitted for `name`; None when never emitted."""
        values: list[float] = []
        for blob in self.blobs:
            declared = {
                metric["Name"]
                for directive in blob["_aws"]["CloudWatchMetrics"]
                for metric in directive["Metrics"]
            }
            if name in declared:
                value = blob[name]
                values.extend(value if isinstance(value, list) else [value])
        return sum(values) if values else None

    def dimensions(self, name: str) -> list[list[str]]:
        return [
            dimension_set
            for blob in self.blobs
            for directive in blob["_aws"]["CloudWatchMetrics"]
            if any(metric["Name"] == name for metric in directive["Metrics"])
            for dimension_set in directive["Dimensions"]
        ]


def http_api_event(
    method: str, path: str, *, body: Any = None, query: dict[str, str] | None = None
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) request, as the api function receives it."""
    raw_query = "&".join(f"{key}={value}" for key, value in (query or {}).items())
    headers = {"host": "api.example.test", "content-type": "application/json"}
    return {
        "version": "2.0",
        "routeKey": "ANY /v1/{proxy+}",
        "rawPath": path,
        "rawQueryString": raw_query,
        "queryStringParameters": query or None,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example.test",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "10.0.0.1",
                "userAgent": "tests",
            },
            "requestId": "req-1",
            "routeKey": "ANY /v1/{proxy+}",
            "stage": "$default",
            "timeEpoch": int(time.time() * 1000),
        },
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


@dataclass(frozen=True)
class FakeLambdaContext:
    function_name: str = "pixy-whatsapp-test-subscriptions"
    function_version: str = "$LATEST"
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:pixy-whatsapp-test-subscriptions"
    )
    memory_limit_in_mb: int = 256
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    log_group_name: str = "/aws/lambda/pixy-whatsapp-test-subscriptions"
    log_stream_name: str = "stream"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def lambda_context() -> LambdaContext:
    """The attributes Powertools reads from Lambda's context object."""
    return cast("LambdaContext", FakeLambdaContext())
