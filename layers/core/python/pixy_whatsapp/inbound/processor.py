"""One inbound-queue record: a webhook body Meta signed, read back and acted on.

For each record the processor

1. reads the raw body back from its envelope (inline, or from S3) and parses it with the
   tolerant webhook models; a body that is not a webhook (Meta signed it, and the webhook
   function already answered 200, so Meta will never send it again) is parked in the
   inbound DLQ with the reason as a message attribute, counted, and the record succeeds:
   it is kept for an operator, neither retried forever nor dropped;
2. applies every status, inbound message and update in it (see ``statuses``,
   ``messages``, ``updates``), claiming a guard in the idempotency table for each event
   it is about to publish;
3. publishes the events, then marks the guards done.

Any exception releases the guards and propagates: the record is reported as failed, SQS
delivers it again, and everything already applied is recognised as done (the messages
table's monotonic record, conditional contact writes) while the events not yet
published go out on that retry.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import TYPE_CHECKING

from pixy_whatsapp.events import EventPublisher
from pixy_whatsapp.inbound.conversions import dump
from pixy_whatsapp.inbound.directory import NumberDirectory
from pixy_whatsapp.inbound.exceptions import GuardBusy
from pixy_whatsapp.inbound.guards import GuardStore
from pixy_whatsapp.inbound.messages import MessageHandler
from pixy_whatsapp.inbound.outbox import Outbox
from pixy_whatsapp.inbound.statuses import StatusHandler
from pixy_whatsapp.inbound.telemetry import InboundTelemetry
from pixy_whatsapp.inbound.updates import ChangeAt, UpdateHandler
from pixy_whatsapp.models import (
    WebhookParseError,
    WebhookPayload,
    iter_messages,
    iter_statuses,
    parse_webhook,
)
from pixy_whatsapp.observability import logger
from pixy_whatsapp.webhooks import EnvelopeError, load_webhook_body

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

REASON_ATTRIBUTE = "reason"
BUSY_RETRY_SECONDS = 5
"""A record whose event another invocation is publishing comes back this soon, not after
the queue's whole visibility timeout: that invocation is usually done in milliseconds."""
SOURCE_MESSAGE_ATTRIBUTE = "source_message_id"
_MAX_ATTRIBUTE_CHARS = 1024


class RecordOutcome(StrEnum):
    HANDLED = "handled"
    PARKED = "parked"  # kept in the inbound DLQ with its reason


class InboundProcessor:
    def __init__(
        self,
        *,
        s3: S3Client,
        sqs: SQSClient,
        dlq_url: str,
        guards: GuardStore,
        directory: NumberDirectory,
        statuses: StatusHandler,
        messages: MessageHandler,
        updates: UpdateHandler,
        publisher: EventPublisher,
        telemetry: InboundTelemetry,
        queue_url: str | None = None,
        busy_retry_seconds: int = BUSY_RETRY_SECONDS,
    ) -> None:
        self._s3 = s3
        self._sqs = sqs
        self._dlq_url = dlq_url
        self._guards = guards
        self._directory = directory
        self._statuses = statuses
        self._messages = messages
        self._updates = updates
        self._publisher = publisher
        self._telemetry = telemetry
        self._queue_url = queue_url
        self._busy_retry_seconds = busy_retry_seconds

    def process(
        self,
        envelope_json: str,
        *,
        source_message_id: str | None = None,
        receipt_handle: str | None = None,
    ) -> RecordOutcome:
        """Handle one queue message body; raises (the record is retried) on any failure."""
        try:
            return self._process(envelope_json, source_message_id)
        except GuardBusy:
            self._retry_soon(receipt_handle)
            raise

    def _retry_soon(self, receipt_handle: str | None) -> None:
        if self._queue_url is None or not receipt_handle:
            return
        try:
            self._sqs.change_message_visibility(
                QueueUrl=self._queue_url,
                ReceiptHandle=receipt_handle,
                VisibilityTimeout=self._busy_retry_seconds,
            )
        except Exception:  # the queue's own visibility timeout applies instead
            logger.exception("could not bring a busy record back sooner")

    def _process(self, envelope_json: str, source_message_id: str | None) -> RecordOutcome:
        try:
            raw, received_at = load_webhook_body(envelope_json, self._s3)
            payload = parse_webhook(raw)
        except EnvelopeError as exc:
            self._park(envelope_json, f"envelope: {exc}", source_message_id)
            return RecordOutcome.PARKED
        except WebhookParseError as exc:
            self._park(envelope_json, f"unparseable: {exc.reason}", source_message_id)
            return RecordOutcome.PARKED
        outbox = Outbox(
            self._guards,
            received_at_ms=received_at,
            body_sha256=hashlib.sha256(raw).hexdigest(),
        )
        try:
            self._handle(payload, outbox)
            self._publisher.publish(outbox.events)
        except BaseException:
            self._guards.release(outbox.claimed)
            raise
        self._guards.complete(outbox.claimed)
        return RecordOutcome.HANDLED

    def _handle(self, payload: WebhookPayload, outbox: Outbox) -> None:
        for e, entry in enumerate(payload.entry or []):
            for c, change in enumerate(entry.changes or []):
                value = change.value
                if value is not None and value.metadata is not None:
                    self._directory.remember(
                        value.metadata.display_phone_number,
                        value.metadata.phone_number_id,
                        entry.id,
                    )
                self._updates.handle(ChangeAt(entry, change, f"{e}.{c}", dump(value) or {}), outbox)
        for status in iter_statuses(payload):
            self._statuses.handle(status, outbox)
        for message in iter_messages(payload):
            self._messages.handle(message, outbox)

    def _park(self, envelope_json: str, reason: str, source_message_id: str | None) -> None:
        attributes = {
            REASON_ATTRIBUTE: {"DataType": "String", "StringValue": reason[:_MAX_ATTRIBUTE_CHARS]}
        }
        if source_message_id:
            attributes[SOURCE_MESSAGE_ATTRIBUTE] = {
                "DataType": "String",
                "StringValue": source_message_id,
            }
        # The envelope, not the body, is what is kept: it holds the body or its S3 pointer,
        # and a redrive to the inbound queue processes it like any other record.
        self._sqs.send_message(
            QueueUrl=self._dlq_url,
            MessageBody=envelope_json or "<empty>",
            MessageAttributes=attributes,  # type: ignore[arg-type]
        )
        self._telemetry.body_parked()
        logger.error(
            "signed webhook body could not be read; parked in the inbound DLQ",
            extra={"reason": reason, "source_message_id": source_message_id},
        )
