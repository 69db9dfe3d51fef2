"""The inbound Lambda, cold-started in moto, fed an SQS event built from real queue messages."""

from __future__ import annotations

import importlib
import sys
import uuid
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest
from pixy_whatsapp.webhooks import S3BodyPointer, WebhookEnvelope

from .payloads import T0, message_webhook, raw, status, status_webhook, text_message
from .support import BUCKET, RECEIVED_AT, World, envelope, of_type

HANDLER_MODULE = "functions.inbound.handler"


@dataclass
class LambdaContextStub:
    """The attributes of the Lambda context object that Powertools reads."""

    function_name: str = "pixy-inbound"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:pixy-inbound"
    log_group_name: str = "/aws/lambda/pixy-inbound"
    log_stream_name: str = "2026/01/01/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


@pytest.fixture
def inbound(world: World, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The handler module, freshly imported inside moto: each test gets its own cold start."""
    for name, value in world.settings.to_env().items():
        monkeypatch.setenv(name, value)
    if HANDLER_MODULE in sys.modules:
        return importlib.reload(sys.modules[HANDLER_MODULE])
    return importlib.import_module(HANDLER_MODULE)


def sqs_event(world: World, bodies: list[str]) -> tuple[dict[str, Any], list[str]]:
    """Send ``bodies`` to the inbound queue and receive them as Lambda's poller would."""
    url = world.settings.inbound_queue_url
    for body in bodies:
        world.sqs.send_message(QueueUrl=url, MessageBody=body)
    arn = world.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    received = world.sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]
    )["Messages"]
    assert len(received) == len(bodies)
    by_body = {m["Body"]: m for m in received}
    records: list[dict[str, Any]] = [
        {
            "messageId": by_body[body]["MessageId"],
            "receiptHandle": by_body[body]["ReceiptHandle"],
            "body": body,
            "attributes": by_body[body]["Attributes"],
            "messageAttributes": {},
            "md5OfBody": by_body[body]["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": arn,
            "awsRegion": "us-east-1",
        }
        for body in bodies
    ]
    return {"Records": records}, [r["messageId"] for r in records]


def test_only_the_record_that_failed_is_reported(world: World, inbound: ModuleType) -> None:
    message_id = world.sent_message(wamid="wamid.H1")
    status_body = envelope(raw(status_webhook(status("wamid.H1", "delivered", T0))))
    unparseable = envelope(b"<html>not a webhook</html>")
    # An offloaded body whose object cannot be read: a fault that may clear, so retried.
    unreadable = WebhookEnvelope(
        version=1,
        received_at=RECEIVED_AT,
        size=10,
        sha256="0" * 64,
        s3=S3BodyPointer(bucket=BUCKET, key="webhooks/gone"),
    ).to_message()
    inbound_body = envelope(raw(message_webhook(text_message("wamid.H2", "hi", T0))))
    event, ids = sqs_event(world, [status_body, unparseable, unreadable, inbound_body])

    response = inbound.handler(event, LambdaContextStub())

    assert response == {"batchItemFailures": [{"itemIdentifier": ids[2]}]}
    record = world.messages.get(message_id)
    assert record is not None
    assert record.status.value == "delivered"
    (parked,) = world.parked()
    assert parked["Body"] == unparseable
    assert parked["MessageAttributes"]["source_message_id"]["StringValue"] == ids[1]
    events = world.published()
    assert len(of_type(events, "message.status")) == 1
    assert len(of_type(events, "message.received")) == 1


def test_a_batch_without_failures_reports_none(world: World, inbound: ModuleType) -> None:
    event, _ = sqs_event(
        world,
        [envelope(raw(message_webhook(text_message(f"wamid.H{i}", "hi", T0)))) for i in (3, 4)],
    )
    assert inbound.handler(event, LambdaContextStub()) == {"batchItemFailures": []}
    assert len(of_type(world.published(), "message.received")) == 2
