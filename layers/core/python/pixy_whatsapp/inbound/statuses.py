"""Status webhooks: onto the messages table, monotonically, and out as events.

A status is tied to our message by ``biz_opaque_callback_data`` (our message id, set on
every send) first and by its wamid second. The id works even when the sender never
recorded the wamid (it died, or its call to Meta timed out and the message was left
``sending``): the first status that comes back resolves that ambiguous send.

The messages table is the guard of the record: ``apply_status`` refuses a status it has
seen (DUPLICATE) and records one that is behind the message's current status without
moving it back (LATE). Events go out for CURRENT and LATE results; a guard in the
idempotency table (``status#{message_id}#{status}``) makes their publication happen once,
also when the first attempt applied the status but failed before publishing: its retry
finds the status a DUPLICATE with no completed guard, and publishes then.
"""

from __future__ import annotations

from typing import Any

from pixy_whatsapp.contacts import ContactStore
from pixy_whatsapp.events import (
    MessageFailed,
    MessageStatusChanged,
    MetaError,
    event_id,
)
from pixy_whatsapp.events.details import DetailType
from pixy_whatsapp.inbound.conversions import (
    digest,
    dump,
    epoch_ms,
    for_dynamodb,
    meta_error,
    plain,
    utc,
)
from pixy_whatsapp.inbound.outbox import Outbox
from pixy_whatsapp.inbound.telemetry import InboundTelemetry
from pixy_whatsapp.models import DeliveryStatus, ReceivedStatus
from pixy_whatsapp.observability import logger, mask_phone
from pixy_whatsapp.statuses import (
    RANK,
    ApplyResult,
    MessageError,
    MessageRecord,
    MessageStatus,
    MessageStore,
)

OPTED_OUT_CODE = 131050
OPT_OUT_SOURCE = "meta_131050"
# Statuses Meta reports that the messages table tracks; others (played, deleted, ...) are
# passed on as events only.
_TRACKED = {s.value: s for s in MessageStatus if RANK[s] >= RANK[MessageStatus.ACCEPTED]}


def _first_time(record: MessageRecord, status: MessageStatus) -> int | None:
    return next((e.at_ms for e in record.history if e.status is status), None)


class StatusHandler:
    def __init__(
        self, messages: MessageStore, contacts: ContactStore, telemetry: InboundTelemetry
    ) -> None:
        self._messages = messages
        self._contacts = contacts
        self._telemetry = telemetry

    def handle(self, received: ReceivedStatus, outbox: Outbox) -> None:
        status = received.status
        if not status.status:
            self._telemetry.status_ignored()
            logger.warning("status webhook without a status value", extra={"wamid": status.id})
            return
        record = self._find(status)
        tracked = _TRACKED.get(status.status)
        if record is None or tracked is None:
            self._telemetry.status_ignored()
            self._pass_on(received, record, outbox)
            return
        self._apply(received, record, tracked, outbox)

    def _find(self, status: DeliveryStatus) -> MessageRecord | None:
        record = None
        if status.biz_opaque_callback_data:
            record = self._messages.get(status.biz_opaque_callback_data)
        if record is None and status.id:
            message_id = self._messages.find_by_wamid(status.id)
            record = self._messages.get(message_id) if message_id else None
        if record is not None and record.wamid and status.id and record.wamid != status.id:
            # Two sends of one request reached Meta (a resend after an ambiguous attempt):
            # both report under our id; the record keeps the first wamid it learned.
            logger.warning(
                "status for a second wamid of one message",
                extra={"message_id": record.id, "wamid": status.id, "recorded": record.wamid},
            )
        return record

    def _apply(
        self,
        received: ReceivedStatus,
        record: MessageRecord,
        status: MessageStatus,
        outbox: Outbox,
    ) -> None:
        raw = received.status
        at_ms = epoch_ms(raw.timestamp) or outbox.received_at_ms
        errors = [meta_error(error) for error in raw.errors or []]
        pricing = dump(raw.pricing)
        result = self._messages.apply_status(
            record.id,
            status,
            at_ms,
            wamid=raw.id,
            error=_message_error(errors) if status is MessageStatus.FAILED else None,
            pricing=for_dynamodb(pricing) if pricing else None,
        )
        if result is not ApplyResult.DUPLICATE:
            self._count(record, status, at_ms, errors)
        if not outbox.claim(f"status#{record.id}#{status.value}"):
            return
        if result is ApplyResult.CURRENT:
            late, message_status = False, status.value
        else:
            # LATE, or a DUPLICATE whose events never went out: the record read before
            # applying says where the message stands.
            late = record.status is not status
            message_status = record.status.value
        opted_out = status is MessageStatus.FAILED and self._opt_out(received, record, at_ms)
        self._emit(received, record, outbox, at_ms, errors, late, message_status, opted_out)

    def _count(
        self, record: MessageRecord, status: MessageStatus, at_ms: int, errors: list[MetaError]
    ) -> None:
        self._telemetry.status_applied()
        if status is MessageStatus.DELIVERED:
            accepted_at = _first_time(record, MessageStatus.ACCEPTED)
            if accepted_at is not None:
                # Meta's timestamps are whole seconds, ours are milliseconds: a fast delivery
                # can look earlier than the acceptance. Zero is the honest floor.
                self._telemetry.delivery_latency(max(0, at_ms - accepted_at))
        elif status is MessageStatus.FAILED:
            self._telemetry.message_failed(errors[0].error_class if errors else "unknown")

    def _pass_on(
        self, received: ReceivedStatus, record: MessageRecord | None, outbox: Outbox
    ) -> None:
        """A status we cannot apply: published once, with what we know."""
        raw = received.status
        value = str(raw.status)
        if record is not None:
            key = f"status#{record.id}#{value}"
        elif raw.id:
            key = f"status#wamid#{raw.id}#{value}"
        else:
            key = f"status#sha:{digest(dump(raw))}"
        if not outbox.claim(key):
            return
        logger.info(
            "status passed on without being applied",
            extra={"wamid": raw.id, "status": value, "known_message": record is not None},
        )
        at_ms = epoch_ms(raw.timestamp) or outbox.received_at_ms
        errors = [meta_error(error) for error in raw.errors or []]
        opted_out = value == MessageStatus.FAILED.value and self._opt_out(received, record, at_ms)
        message_status = record.status.value if record is not None else None
        self._emit(received, record, outbox, at_ms, errors, False, message_status, opted_out)

    def _opt_out(self, received: ReceivedStatus, record: MessageRecord | None, at_ms: int) -> bool:
        """Meta's 131050: the user stopped marketing messages from this business."""
        raw = received.status
        if not any(error.code == OPTED_OUT_CODE for error in raw.errors or []):
            return False
        if raw.recipient_type == "group":
            return False
        waba_id = received.waba_id or (record.waba_id if record else None)
        # The key the sender checks is the recipient as the send request named it.
        recipients = {
            r
            for r in (record.recipient if record else None, raw.recipient_id, raw.recipient_user_id)
            if r
        }
        if not waba_id or not recipients:
            logger.warning("131050 for a recipient that cannot be identified")
            return False
        for recipient in sorted(recipients):
            self._contacts.set_opt_out(
                waba_id, recipient, opted_out=True, at_ms=at_ms, source=OPT_OUT_SOURCE
            )
        self._telemetry.opted_out()
        logger.info(
            "recipient opted out of marketing (131050)",
            extra={"recipients": [mask_phone(r) for r in sorted(recipients)]},
        )
        return True

    def _emit(
        self,
        received: ReceivedStatus,
        record: MessageRecord | None,
        outbox: Outbox,
        at_ms: int,
        errors: list[MetaError],
        late: bool,
        message_status: str | None,
        opted_out: bool,
    ) -> None:
        raw = received.status
        value = str(raw.status)
        fact = f"{record.id}#{value}" if record is not None else f"wamid#{raw.id}#{value}"
        common: dict[str, Any] = {
            "waba_id": received.waba_id or (record.waba_id if record else None),
            "phone_number_id": received.phone_number_id
            or (record.phone_number_id if record else None),
            "occurred_at": utc(at_ms),
            "received_at": utc(outbox.received_at_ms),
            "payload": dump(raw),
            "wamid": raw.id or (record.wamid if record else None),
            "recipient_id": raw.recipient_id,
            "recipient_user_id": raw.recipient_user_id,
        }
        if record is not None:
            common |= {
                "message_id": record.id,
                "known": True,
                "client_reference": record.client_reference,
                "metadata": plain(record.metadata),
                "category": record.category,
            }
        outbox.add(
            MessageStatusChanged(
                event_id=event_id(DetailType.MESSAGE_STATUS, fact),
                status=value,
                late=late,
                message_status=message_status,
                pricing=dump(raw.pricing),
                conversation=dump(raw.conversation),
                error=errors[0] if errors else None,
                **common,
            )
        )
        if value == MessageStatus.FAILED.value:
            error = errors[0] if errors else _UNEXPLAINED
            outbox.add(
                MessageFailed(
                    event_id=event_id(DetailType.MESSAGE_FAILED, fact),
                    error=error,
                    errors=errors,
                    opted_out=opted_out,
                    **common,
                )
            )


_UNEXPLAINED = MetaError(
    error_class="unknown", reason="Meta reported the message failed without giving an error"
)


def _message_error(errors: list[MetaError]) -> MessageError:
    first = errors[0] if errors else _UNEXPLAINED
    return MessageError(
        reason=first.reason or "failed",
        code=first.code,
        title=first.title or first.message,
        details=first.details,
        error_class=first.error_class,
        source="webhook",
    )
