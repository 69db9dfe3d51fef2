"""Signed bodies that cannot be read are kept in the inbound DLQ with their reason."""

from __future__ import annotations

import hashlib

import pytest
from botocore.exceptions import ClientError
from pixy_whatsapp import metric_names as m
from pixy_whatsapp.inbound import RecordOutcome
from pixy_whatsapp.webhooks import S3BodyPointer, WebhookEnvelope

from .payloads import T0, raw, status, status_webhook
from .support import BUCKET, RECEIVED_AT, World, envelope, metric_values


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"this is not json", "unparseable: body is not JSON"),
        (b'{"object": "page", "entry": []}', "unparseable: `object` is 'page'"),
        (b'{"object": "whatsapp_business_account"}', "unparseable: `entry` is missing"),
        (b"", "unparseable: body is not JSON"),
    ],
)
def test_an_unparseable_body_is_parked_with_its_reason(
    world: World, fresh_metrics: None, body: bytes, reason: str
) -> None:
    queued = envelope(body)

    outcome = world.processor.process(queued, source_message_id="msg-1")

    assert outcome is RecordOutcome.PARKED
    (parked,) = world.parked()
    assert parked["Body"] == queued
    attributes = parked["MessageAttributes"]
    assert attributes["reason"]["StringValue"].startswith(reason)
    assert attributes["source_message_id"]["StringValue"] == "msg-1"
    assert metric_values(m.WEBHOOKS_UNPARSEABLE) == [1.0]
    assert world.published() == []


def test_a_queue_message_that_is_not_an_envelope_is_parked(world: World) -> None:
    outcome = world.processor.process('{"hello": "world"}', source_message_id="msg-2")
    assert outcome is RecordOutcome.PARKED
    (parked,) = world.parked()
    assert parked["Body"] == '{"hello": "world"}'
    assert parked["MessageAttributes"]["reason"]["StringValue"].startswith("envelope:")


def test_an_offloaded_body_is_read_from_s3(world: World) -> None:
    message_id = world.sent_message(wamid="wamid.S3")
    body = raw(status_webhook(status("wamid.S3", "delivered", T0)))
    digest = hashlib.sha256(body).hexdigest()
    world.s3.put_object(Bucket=BUCKET, Key=f"webhooks/{digest}", Body=body)
    pointer = WebhookEnvelope(
        version=1,
        received_at=RECEIVED_AT,
        size=len(body),
        sha256=digest,
        s3=S3BodyPointer(bucket=BUCKET, key=f"webhooks/{digest}"),
    ).to_message()

    assert world.processor.process(pointer) is RecordOutcome.HANDLED
    record = world.messages.get(message_id)
    assert record is not None
    assert record.status.value == "delivered"


def test_a_missing_offloaded_body_is_retried_not_parked(world: World) -> None:
    pointer = WebhookEnvelope(
        version=1,
        received_at=RECEIVED_AT,
        size=10,
        sha256="0" * 64,
        s3=S3BodyPointer(bucket=BUCKET, key="webhooks/missing"),
    ).to_message()
    with pytest.raises(ClientError):
        world.processor.process(pointer)
    assert world.parked() == []
