"""The inbound processor wired to moto: tables, queues, S3 and an EventBridge bus."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from pixy_whatsapp.observability import metrics

from .support import World, create_world


@pytest.fixture(scope="session")
def boto_session(aws_region: str) -> boto3.Session:
    # One session per run parses the service models once instead of once per test.
    return boto3.Session(region_name=aws_region)


@pytest.fixture
def world(boto_session: boto3.Session) -> Iterator[World]:
    with mock_aws():
        boto3.DEFAULT_SESSION = boto_session
        clients = (
            boto_session.client("dynamodb"),
            boto_session.client("sqs"),
            boto_session.client("s3"),
            boto_session.client("events"),
        )
        settings, sink_url = create_world(*clients)
        yield World(*clients, settings=settings, sink_url=sink_url)


@pytest.fixture
def fresh_metrics() -> Iterator[None]:
    """An empty shared Metrics object, so a test sees only what it caused."""
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()
