"""The inbound queue envelope: format, validation, and reading the exact bytes back."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pixy_whatsapp.webhooks import EnvelopeError, load_webhook_body, parse_envelope
from pixy_whatsapp.webhooks.envelope import (
    S3BodyPointer,
    WebhookEnvelope,
    body_object_key,
)

from .support import Aws

RECEIVED_AT = 1_764_064_800_123  # 2025-11-25T10:00:00.123Z


def inline(body: bytes, received_at: int = RECEIVED_AT) -> str:
    return WebhookEnvelope(
        version=1,
        received_at=received_at,
        size=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
        body=body.decode("utf-8"),
    ).to_message()


def test_an_inline_envelope_has_the_documented_fields() -> None:
    message = json.loads(inline(b'{"object":"whatsapp_business_account"}'))
    assert message == {
        "version": 1,
        "received_at": RECEIVED_AT,
        "size": 38,
        "sha256": hashlib.sha256(b'{"object":"whatsapp_business_account"}').hexdigest(),
        "body": '{"object":"whatsapp_business_account"}',
    }


@given(text=st.text())
def test_any_utf8_body_comes_back_byte_for_byte(text: str) -> None:
    body = text.encode("utf-8")
    message = inline(body)
    assert message.isascii()  # SQS refuses some code points (U+FFFE, U+FFFF, controls)
    assert load_webhook_body(message, s3_client=None) == (body, RECEIVED_AT)  # type: ignore[arg-type]


def test_code_points_sqs_refuses_are_escaped() -> None:
    body = "\x00\x01\x1f \ufffe\uffff \U0001f600 \u2028".encode()
    message = inline(body)
    assert message.isascii()
    assert load_webhook_body(message, s3_client=None)[0] == body  # type: ignore[arg-type]


def test_an_s3_pointer_is_followed(aws: Aws) -> None:
    body = b"\xff\xfe not utf-8 \x00"
    aws.s3.put_object(Bucket=aws.bucket, Key="webhooks/2025/11/25/x", Body=body)
    message = WebhookEnvelope(
        version=1,
        received_at=RECEIVED_AT,
        size=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
        s3=S3BodyPointer(bucket=aws.bucket, key="webhooks/2025/11/25/x"),
    ).to_message()
    assert load_webhook_body(message, aws.s3) == (body, RECEIVED_AT)


def test_an_s3_object_that_changed_is_refused(aws: Aws) -> None:
    body = b'{"a":1}'
    aws.s3.put_object(Bucket=aws.bucket, Key="k", Body=b'{"a":2}')
    message = WebhookEnvelope(
        version=1,
        received_at=RECEIVED_AT,
        size=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
        s3=S3BodyPointer(bucket=aws.bucket, key="k"),
    ).to_message()
    with pytest.raises(EnvelopeError, match="digest"):
        load_webhook_body(message, aws.s3)


def test_the_object_key_is_the_utc_day_and_the_digest() -> None:
    digest = "ab" * 32
    assert body_object_key(digest, RECEIVED_AT) == f"webhooks/2025/11/25/{digest}"
    # One millisecond before midnight UTC is still the previous day.
    assert body_object_key(digest, 1_764_028_799_999) == f"webhooks/2025/11/24/{digest}"


def good() -> dict[str, object]:
    return json.loads(inline(b"{}"))  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "message",
    [
        pytest.param("not json", id="not-json"),
        pytest.param("[]", id="not-an-object"),
        pytest.param(json.dumps({**good(), "version": 2}), id="future-version"),
        pytest.param(json.dumps({k: v for k, v in good().items() if k != "version"}), id="no-ver"),
        pytest.param(json.dumps({k: v for k, v in good().items() if k != "body"}), id="no-body"),
        pytest.param(
            json.dumps({**good(), "s3": {"bucket": "b", "key": "k"}}), id="body-and-pointer"
        ),
        pytest.param(json.dumps({**good(), "sha256": "XYZ"}), id="bad-digest-format"),
        pytest.param(json.dumps({**good(), "received_at": -1}), id="negative-time"),
    ],
)
def test_a_message_that_is_not_an_envelope_is_refused(message: str) -> None:
    with pytest.raises(EnvelopeError):
        parse_envelope(message)


def test_an_inline_body_that_does_not_match_its_digest_is_refused() -> None:
    message = {**good(), "body": "{ }", "size": 3}
    with pytest.raises(EnvelopeError, match="digest"):
        load_webhook_body(json.dumps(message), s3_client=None)  # type: ignore[arg-type]


def test_unknown_fields_are_ignored() -> None:
    message = {**good(), "added_later": True}
    assert load_webhook_body(json.dumps(message), s3_client=None) == (  # type: ignore[arg-type]
        b"{}",
        RECEIVED_AT,
    )
