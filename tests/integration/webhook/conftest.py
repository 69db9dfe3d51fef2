"""The webhook Lambda, cold-started inside moto with the environment the stack gives it."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pixy_whatsapp.settings import Settings

from .events import LambdaContextStub
from .support import APP_SECRET, VERIFY_TOKEN, Deployment

HANDLER_MODULE = "functions.webhook.handler"


@pytest.fixture(scope="session")
def boto_session(aws_region: str) -> boto3.Session:
    # One session per run parses the service models once instead of once per test.
    return boto3.Session(region_name=aws_region)


@pytest.fixture
def deployment(boto_session: boto3.Session) -> Iterator[Deployment]:
    with mock_aws():
        # moto clears boto3's default session for each mock; hand it the shared one.
        boto3.DEFAULT_SESSION = boto_session
        secretsmanager = boto3.client("secretsmanager")
        sqs = boto3.client("sqs")
        s3 = boto3.client("s3")
        app_secret = secretsmanager.create_secret(
            Name="pixy/test/meta-app-secret", SecretString=APP_SECRET.decode()
        )
        verify_token = secretsmanager.create_secret(
            Name="pixy/test/webhook-verify-token", SecretString=VERIFY_TOKEN
        )
        inbound = sqs.create_queue(QueueName="pixy-test-inbound")["QueueUrl"]
        s3.create_bucket(Bucket="pixy-test-webhook-bodies")
        settings = Settings(
            stage="test",
            messages_table="pixy-test-messages",
            control_table="pixy-test-control",
            contacts_table="pixy-test-contacts",
            wabas_table="pixy-test-wabas",
            idempotency_table="pixy-test-idempotency",
            outbound_queue_url="https://sqs.us-east-1.amazonaws.com/123456789012/out.fifo",
            outbound_dlq_url="https://sqs.us-east-1.amazonaws.com/123456789012/out-dlq.fifo",
            inbound_queue_url=inbound,
            inbound_dlq_url="https://sqs.us-east-1.amazonaws.com/123456789012/in-dlq",
            webhook_bucket="pixy-test-webhook-bodies",
            event_bus="pixy-test-bus",
            app_secret_name=app_secret["Name"],
            verify_token_name=verify_token["Name"],
            waba_secret_prefix="pixy/test/waba/",
        )
        yield Deployment(secretsmanager=secretsmanager, sqs=sqs, s3=s3, settings=settings)


@pytest.fixture
def webhook(deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The handler module, freshly imported: each test gets its own cold start."""
    for name, value in deployment.settings.to_env().items():
        monkeypatch.setenv(name, value)
    if HANDLER_MODULE in sys.modules:
        return importlib.reload(sys.modules[HANDLER_MODULE])
    return importlib.import_module(HANDLER_MODULE)


Invoke = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture
def invoke(webhook: ModuleType) -> Invoke:
    def call(event: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = webhook.handler(event, LambdaContextStub())
        return response

    return call
