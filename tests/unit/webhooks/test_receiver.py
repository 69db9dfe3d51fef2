"""WebhookReceiver on moto: a verified body is kept (inline or via S3), nothing else is."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from pixy_whatsapp.webhooks import (
    BodyNotKept,
    RejectReason,
    SignatureRejected,
    WebhookReceiver,
    WebhookSecrets,
    load_webhook_body,
    request_body_bytes,
)

from .support import BUCKET, Aws, FakeClock

RECEIVED_AT = 1_764_064_800_123
BODY = b'{"object":"whatsapp_business_account","entry":[]}'


def signed(body: bytes, secret: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def small_receiver(aws: Aws, secrets: WebhookSecrets, max_message_bytes: int) -> WebhookReceiver:
    return WebhookReceiver(
        secrets=secrets,
        sqs_client=aws.sqs,
        queue_url=aws.queue_url,
        s3_client=aws.s3,
        bucket=BUCKET,
        max_message_bytes=max_message_bytes,
    )


def test_a_signed_body_goes_inline_to_the_queue(aws: Aws, receiver: WebhookReceiver) -> None:
    kept = receiver.receive(BODY, signed(BODY, aws.app_secret), received_at=RECEIVED_AT)

    [message] = aws.queued()
    assert json.loads(message)["body"] == BODY.decode()
    assert load_webhook_body(message, aws.s3) == (BODY, RECEIVED_AT)
    assert kept.s3_key is None
    assert kept.size == len(BODY)
    assert kept.sha256 == hashlib.sha256(BODY).hexdigest()
    assert aws.stored_keys() == []


@pytest.mark.parametrize("header", [None, "sha256=zz", "sha256=" + "0" * 64])
def test_a_rejected_body_is_not_kept(
    aws: Aws, receiver: WebhookReceiver, header: str | None
) -> None:
    with pytest.raises(SignatureRejected):
        receiver.receive(BODY, header, received_at=RECEIVED_AT)
    assert aws.queued() == []
    assert aws.stored_keys() == []


def test_an_empty_signed_body_is_kept(aws: Aws, receiver: WebhookReceiver) -> None:
    receiver.receive(b"", signed(b"", aws.app_secret), received_at=RECEIVED_AT)
    [message] = aws.queued()
    assert load_webhook_body(message, aws.s3) == (b"", RECEIVED_AT)


def test_the_largest_inline_envelope_stays_inline_and_one_more_byte_goes_to_s3(
    aws: Aws, secrets: WebhookSecrets
) -> None:
    body = b'{"pad":"' + b"x" * 200 + b'"}'
    probe = small_receiver(aws, secrets, max_message_bytes=10_000)
    probe.receive(body, signed(body, aws.app_secret), received_at=RECEIVED_AT)
    [message] = aws.queued()
    exact = len(message.encode())

    at_limit = small_receiver(aws, secrets, max_message_bytes=exact)
    kept = at_limit.receive(body, signed(body, aws.app_secret), received_at=RECEIVED_AT)
    assert kept.s3_key is None

    over = small_receiver(aws, secrets, max_message_bytes=exact - 1)
    kept = over.receive(body, signed(body, aws.app_secret), received_at=RECEIVED_AT)
    assert kept.s3_key == f"webhooks/2025/11/25/{hashlib.sha256(body).hexdigest()}"


def test_escaping_that_outgrows_the_limit_sends_the_body_to_s3(
    aws: Aws, secrets: WebhookSecrets
) -> None:
    # 300 bytes of emoji become 75 twelve-character escapes: 900 characters of JSON.
    body = "\U0001f600".encode() * 75
    receiver = small_receiver(aws, secrets, max_message_bytes=600)
    kept = receiver.receive(body, signed(body, aws.app_secret), received_at=RECEIVED_AT)
    assert kept.s3_key is not None
    [message] = aws.queued()
    assert "body" not in json.loads(message)
    assert load_webhook_body(message, aws.s3) == (body, RECEIVED_AT)


def test_a_body_that_is_not_utf8_is_kept_exactly_in_s3(aws: Aws, receiver: WebhookReceiver) -> None:
    body = b'{"text":"\xff\xfe"}'
    kept = receiver.receive(body, signed(body, aws.app_secret), received_at=RECEIVED_AT)
    assert kept.s3_key is not None
    [message] = aws.queued()
    assert load_webhook_body(message, aws.s3) == (body, RECEIVED_AT)


def test_a_three_megabyte_body_goes_to_s3_with_a_pointer(
    aws: Aws, receiver: WebhookReceiver
) -> None:
    body = b'{"entry":["' + b"a" * (3 * 1024 * 1024) + b'"]}'
    kept = receiver.receive(body, signed(body, aws.app_secret), received_at=RECEIVED_AT)

    [message] = aws.queued()
    pointer = json.loads(message)
    assert pointer["s3"] == {"bucket": BUCKET, "key": kept.s3_key}
    assert pointer["size"] == len(body)
    assert len(message) < 1024
    assert aws.stored_keys() == [kept.s3_key]
    assert load_webhook_body(message, aws.s3) == (body, RECEIVED_AT)


def test_the_same_body_twice_is_one_object(aws: Aws, receiver: WebhookReceiver) -> None:
    body = b"x" * 2_000_000
    for _ in range(2):
        receiver.receive(body, signed(body, aws.app_secret), received_at=RECEIVED_AT)
    assert len(aws.stored_keys()) == 1
    assert len(aws.queued()) == 2


def test_a_failed_enqueue_is_reported_not_swallowed(aws: Aws, receiver: WebhookReceiver) -> None:
    aws.sqs.delete_queue(QueueUrl=aws.queue_url)
    with pytest.raises(BodyNotKept):
        receiver.receive(BODY, signed(BODY, aws.app_secret), received_at=RECEIVED_AT)


def test_a_failed_s3_write_is_reported_and_nothing_is_enqueued(
    aws: Aws, receiver: WebhookReceiver
) -> None:
    aws.s3.delete_bucket(Bucket=BUCKET)
    body = b"y" * 1_100_000
    with pytest.raises(BodyNotKept):
        receiver.receive(body, signed(body, aws.app_secret), received_at=RECEIVED_AT)
    assert aws.queued() == []


def test_a_rotated_app_secret_is_picked_up_at_once(aws: Aws, receiver: WebhookReceiver) -> None:
    receiver.receive(BODY, signed(BODY, aws.app_secret), received_at=RECEIVED_AT)
    aws.rotate_app_secret("the-new-app-secret")

    receiver.receive(BODY, signed(BODY, b"the-new-app-secret"), received_at=RECEIVED_AT)
    with pytest.raises(SignatureRejected):
        receiver.receive(BODY, signed(BODY, aws.app_secret), received_at=RECEIVED_AT)
    assert len(aws.queued()) == 2


def test_forged_signatures_cannot_drive_secret_reads(
    aws: Aws, receiver: WebhookReceiver, clock: FakeClock
) -> None:
    receiver.receive(BODY, signed(BODY, aws.app_secret), received_at=RECEIVED_AT)
    for attempt in range(200):
        clock.advance(0.1)
        with pytest.raises(SignatureRejected) as rejected:
            receiver.receive(BODY, signed(BODY, b"forged-%d" % attempt), received_at=RECEIVED_AT)
        assert rejected.value.reason is RejectReason.BAD_SIGNATURE
    # One cold read, then one forced read per 60 s over 20 s of forged traffic.
    assert len(aws.secret_reads) == 2


def test_malformed_headers_never_read_the_secret(aws: Aws, receiver: WebhookReceiver) -> None:
    for header in (None, "", "sha1=abc", "sha256=" + "g" * 64):
        with pytest.raises(SignatureRejected):
            receiver.receive(BODY, header, received_at=RECEIVED_AT)
    assert aws.secret_reads == []


@pytest.mark.parametrize(
    ("body", "is_base64", "expected"),
    [
        pytest.param(None, False, b"", id="absent"),
        pytest.param("", True, b"", id="empty-base64"),
        pytest.param('{"a":"é"}', False, '{"a":"é"}'.encode(), id="text"),
        pytest.param(base64.b64encode(b"\xff\x00raw").decode(), True, b"\xff\x00raw", id="b64"),
    ],
)
def test_request_body_bytes(body: str | None, is_base64: bool, expected: bytes) -> None:
    assert request_body_bytes(body, is_base64) == expected
