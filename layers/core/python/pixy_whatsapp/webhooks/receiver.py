"""Check a webhook request and keep its body on the inbound queue, nothing more.

Meta wants an answer within a few hundred milliseconds and retries anything but a 200,
so the receiver does the least that makes a 200 safe: verify the signature over the raw
bytes, then hand those bytes to SQS (through S3 when they are too large). Parsing,
deduplication and everything else happen behind the queue.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from pixy_whatsapp.webhooks.envelope import (
    ENVELOPE_VERSION,
    S3BodyPointer,
    WebhookEnvelope,
    body_digest,
    body_object_key,
)
from pixy_whatsapp.webhooks.exceptions import (
    BodyNotKept,
    HandshakeRejected,
    RejectReason,
    SignatureRejected,
)
from pixy_whatsapp.webhooks.handshake import subscription_challenge
from pixy_whatsapp.webhooks.signature import parse_signature_header, signature_matches

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

    from pixy_whatsapp.webhooks.secrets_cache import WebhookSecrets

# SQS takes messages up to 1 MiB (1,048,576 bytes, attributes included). The envelope is
# measured exactly before sending, so the margin only has to cover attributes added later.
# A queue configured with a smaller MaximumMessageSize needs its own limit passed in.
MAX_MESSAGE_BYTES = 1_000_000

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class KeptWebhook:
    """What was kept for one accepted POST."""

    message_id: str
    received_at: int
    size: int
    sha256: str
    s3_key: str | None
    """Set when the body went to S3 rather than inline in the message."""


def request_body_bytes(body: str | None, is_base64_encoded: bool) -> bytes:
    """The exact request bytes from an API Gateway event's `body` and `isBase64Encoded`.

    Powertools' `decoded_body` decodes to `str`, which would fail on (or alter) bytes that
    are not UTF-8; the signature needs the bytes themselves.
    """
    if not body:
        return b""
    if is_base64_encoded:
        return base64.b64decode(body, validate=True)
    # A text body is the UTF-8 decoding API Gateway made; surrogatepass keeps a malformed
    # one from raising, and its signature then simply fails.
    return body.encode("utf-8", "surrogatepass")


class WebhookReceiver:
    """The webhook endpoint's logic, given its AWS clients.

    >>> receiver = WebhookReceiver(
    ...     secrets=secrets, sqs_client=sqs, queue_url=queue_url,
    ...     s3_client=s3, bucket="pixy-webhook-bodies",
    ... )
    >>> receiver.verify_subscription(query)           # GET: the challenge to echo
    >>> receiver.receive(raw, header, received_at=ms)  # POST: KeptWebhook, or raises
    """

    def __init__(
        self,
        *,
        secrets: WebhookSecrets,
        sqs_client: SQSClient,
        queue_url: str,
        s3_client: S3Client,
        bucket: str,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
    ) -> None:
        self._secrets = secrets
        self._sqs = sqs_client
        self._queue_url = queue_url
        self._s3 = s3_client
        self._bucket = bucket
        self._max_message_bytes = max_message_bytes

    def verify_subscription(self, query: Mapping[str, str]) -> str:
        """The `hub.challenge` to echo, or `HandshakeRejected` (answer 403)."""
        try:
            return subscription_challenge(query, self._secrets.verify_token())
        except HandshakeRejected as rejected:
            if not rejected.wrong_token:
                raise
            fresh = self._secrets.refresh_verify_token()
            if fresh is None:
                raise
            return subscription_challenge(query, fresh)

    def receive(
        self, body: bytes, signature_header: str | None, *, received_at: int
    ) -> KeptWebhook:
        """Verify `body` against its signature header and keep it.

        Raises `SignatureRejected` (answer 401; nothing was read or kept),
        `SecretUnavailable` or `BodyNotKept` (answer 5xx so Meta retries).
        """
        digest = parse_signature_header(signature_header)
        if not signature_matches(body, digest, self._secrets.app_secret()):
            # The secret may have been rotated since it was cached; the refresh is rate
            # limited inside WebhookSecrets, so forged requests cannot drive it.
            fresh = self._secrets.refresh_app_secret()
            if fresh is None or not signature_matches(body, digest, fresh):
                raise SignatureRejected(RejectReason.BAD_SIGNATURE)
        return self._keep(body, received_at)

    def _keep(self, body: bytes, received_at: int) -> KeptWebhook:
        sha256 = body_digest(body)
        message = self._inline_message(body, sha256, received_at)
        s3_key: str | None = None
        if message is None:
            s3_key = body_object_key(sha256, received_at)
            self._put_object(body, s3_key, sha256)
            message = WebhookEnvelope(
                version=ENVELOPE_VERSION,
                received_at=received_at,
                size=len(body),
                sha256=sha256,
                s3=S3BodyPointer(bucket=self._bucket, key=s3_key),
            ).to_message()
        try:
            sent = self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=message)
        except (BotoCoreError, ClientError) as exc:
            raise BodyNotKept("could not enqueue the webhook body") from exc
        return KeptWebhook(
            message_id=sent["MessageId"],
            received_at=received_at,
            size=len(body),
            sha256=sha256,
            s3_key=s3_key,
        )

    def _inline_message(self, body: bytes, sha256: str, received_at: int) -> str | None:
        # Escaping can only grow the text, so a body already over the limit skips the work.
        if len(body) > self._max_message_bytes:
            return None
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            # Only S3 keeps bytes that are not UTF-8 exactly as they came.
            return None
        message = WebhookEnvelope(
            version=ENVELOPE_VERSION,
            received_at=received_at,
            size=len(body),
            sha256=sha256,
            body=text,
        ).to_message()
        # ASCII-only JSON: its length in characters is its length in bytes.
        if len(message) > self._max_message_bytes:
            return None
        return message

    def _put_object(self, body: bytes, key: str, sha256: str) -> None:
        try:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body,
                ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256)).decode("ascii"),
            )
        except (BotoCoreError, ClientError) as exc:
            raise BodyNotKept("could not store the webhook body in S3") from exc
        _log.info("webhook body offloaded to S3", extra={"s3_key": key, "size": len(body)})
