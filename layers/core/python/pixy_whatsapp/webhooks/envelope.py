"""The inbound queue message that carries one webhook body, and how to read it back.

One JSON object per webhook POST, version 1:

    {"version": 1, "received_at": 1764064800123, "size": 512,
     "sha256": "<64 lowercase hex digits: SHA-256 of the raw body>",
     "body": "<the raw body as text>"}

or, when the body does not fit in one SQS message (or is not valid UTF-8):

    {"version": 1, "received_at": 1764064800123, "size": 3000000,
     "sha256": "<...>",
     "s3": {"bucket": "<webhook bucket>", "key": "webhooks/2025/11/25/<sha256>"}}

- `received_at`: when API Gateway received the request, Unix epoch milliseconds.
- `body`: exactly the bytes Meta sent, decoded as UTF-8; encoding it as UTF-8 gives the
  bytes back. The message is written with every non-ASCII character escaped (`\\uXXXX`),
  which keeps it within the characters SQS accepts whatever the body holds.
- `s3`: where the exact bytes are stored instead. The key is the UTC date of `received_at`
  and the body's SHA-256, so a redelivery of the same body overwrites the same object.
- `size` and `sha256` describe the raw bytes; the reader checks both, and the inbound
  processor may use `sha256` to recognise a body it has already handled.

Readers ignore fields they do not know; a new `version` means an incompatible change.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pixy_whatsapp.webhooks.exceptions import EnvelopeError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ENVELOPE_VERSION: Literal[1] = 1
BODY_KEY_PREFIX = "webhooks/"


class S3BodyPointer(BaseModel):
    """Where a body too large for the queue is kept."""

    model_config = ConfigDict(frozen=True)

    bucket: str = Field(min_length=1)
    key: str = Field(min_length=1)


class WebhookEnvelope(BaseModel):
    """One webhook body as it travels on the inbound queue (see the module docstring)."""

    model_config = ConfigDict(frozen=True)

    version: Literal[1]
    received_at: int = Field(ge=0, description="API Gateway receipt time, epoch milliseconds")
    size: int = Field(ge=0, description="length of the raw body in bytes")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the raw body, hex")
    body: str | None = Field(default=None, description="the raw body, when it is inline")
    s3: S3BodyPointer | None = Field(default=None, description="the raw body, when offloaded")

    @model_validator(mode="after")
    def _one_body(self) -> WebhookEnvelope:
        if (self.body is None) == (self.s3 is None):
            raise ValueError("exactly one of 'body' and 's3' must be present")
        return self

    def to_message(self) -> str:
        """The SQS message body: compact JSON, ASCII only."""
        return json.dumps(
            self.model_dump(mode="json", exclude_none=True),
            ensure_ascii=True,
            separators=(",", ":"),
        )


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def body_object_key(sha256_hex: str, received_at: int) -> str:
    """S3 key of an offloaded body: `webhooks/YYYY/MM/DD/<sha256>` (UTC date of receipt)."""
    day = datetime.fromtimestamp(received_at / 1000, tz=UTC)
    return f"{BODY_KEY_PREFIX}{day:%Y/%m/%d}/{sha256_hex}"


def parse_envelope(envelope_json: str | bytes) -> WebhookEnvelope:
    """Validate a queue message body; `EnvelopeError` if it is not a version-1 envelope."""
    try:
        return WebhookEnvelope.model_validate_json(envelope_json)
    except ValidationError as exc:
        raise EnvelopeError(f"not a webhook envelope: {exc.error_count()} error(s)") from exc


def load_webhook_body(envelope_json: str, s3_client: S3Client) -> tuple[bytes, int]:
    """The raw webhook bytes and their receipt time (epoch ms) from an inbound queue message.

    Raises `EnvelopeError` for a message that is not an envelope or whose body does not
    match its recorded size and digest. S3 errors (`botocore` exceptions) propagate: a
    missing or unreadable object may be transient and is the caller's to retry.

        >>> raw, received_at = load_webhook_body(record["body"], s3_client)
        >>> payload = json.loads(raw)
    """
    envelope = parse_envelope(envelope_json)
    if envelope.body is not None:
        raw = envelope.body.encode("utf-8")
    else:
        assert envelope.s3 is not None  # guaranteed by the model validator
        response = s3_client.get_object(Bucket=envelope.s3.bucket, Key=envelope.s3.key)
        raw = response["Body"].read()
    if len(raw) != envelope.size or body_digest(raw) != envelope.sha256:
        raise EnvelopeError("webhook body does not match the size and digest in its envelope")
    return raw, envelope.received_at
