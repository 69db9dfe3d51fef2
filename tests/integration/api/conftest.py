"""The API Lambda, cold-started inside moto with the environment the stack gives it."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from types import ModuleType

import boto3
import pytest
from moto import mock_aws
from pixy_whatsapp.settings import Settings

from .support import ApiClient, Deployment, create_queues, create_tables

HANDLER_MODULE = "functions.api.handler"


@pytest.fixture(scope="session")
def boto_session(aws_region: str) -> boto3.Session:
    # One session per run parses the service models once instead of once per test.
    return boto3.Session(region_name=aws_region)


@pytest.fixture
def deployment(boto_session: boto3.Session) -> Iterator[Deployment]:
    with mock_aws():
        # moto clears boto3's default session for each mock; hand it the shared one.
        boto3.DEFAULT_SESSION = boto_session
        sqs = boto3.client("sqs")
        dynamodb = boto3.client("dynamodb")
        create_tables(dynamodb, messages="pixy-test-messages", control="pixy-test-control")
        queues = create_queues(sqs)
        settings = Settings(
            stage="test",
            messages_table="pixy-test-messages",
            control_table="pixy-test-control",
            contacts_table="pixy-test-contacts",
            wabas_table="pixy-test-wabas",
            idempotency_table="pixy-test-idempotency",
            outbound_queue_url=queues["outbound"],
            outbound_dlq_url=queues["outbound_dlq"],
            inbound_queue_url=queues["inbound"],
            inbound_dlq_url=queues["inbound_dlq"],
            webhook_bucket="pixy-test-webhook-bodies",
            event_bus="pixy-test-bus",
            app_secret_name="pixy/test/meta-app-secret",
            verify_token_name="pixy/test/webhook-verify-token",
            waba_secret_prefix="pixy/test/waba/",
        )
        yield Deployment(sqs=sqs, dynamodb=dynamodb, settings=settings)


@pytest.fixture
def handler_module(deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The handler module, freshly imported: each test gets its own cold start."""
    for name, value in deployment.settings.to_env().items():
        monkeypatch.setenv(name, value)
    if HANDLER_MODULE in sys.modules:
        module = importlib.reload(sys.modules[HANDLER_MODULE])
    else:
        module = importlib.import_module(HANDLER_MODULE)
    yield module
    module.services.close()


@pytest.fixture
def api(handler_module: ModuleType) -> ApiClient:
    return ApiClient(handler_module.handler)
