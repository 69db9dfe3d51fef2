"""Publishing event details to the EventBridge bus.

>>> publisher = EventBridgePublisher(boto3.client("events"), bus_name="pixy-events")
>>> publisher.publish([detail, ...])   # raises EventPublishError if some are refused twice

PutEvents takes at most 10 entries and 256 KiB per call and may refuse single entries
(throttling, an internal error) while accepting the rest. The refused entries are sent once
more; entries still refused raise, so the caller's work item (an SQS record) is retried and
the same events, with the same ``event_id``, are published again.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

from aws_lambda_powertools.metrics import MetricUnit

from pixy_whatsapp import metric_names as m
from pixy_whatsapp.events.details import EventDetail
from pixy_whatsapp.events.exceptions import EventPublishError, EventTooLarge
from pixy_whatsapp.observability import logger, metrics

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

DEFAULT_SOURCE = "pixy.whatsapp"
MAX_ENTRIES_PER_CALL = 10
MAX_CALL_BYTES = 256 * 1024
# EventBridge counts the Time field as 14 bytes whether or not it is given.
_TIME_BYTES = 14


class EventPublisher(Protocol):
    """Anything that delivers event details somewhere consumers can read them."""

    def publish(self, details: Sequence[EventDetail]) -> None: ...


def entry_size(entry: PutEventsRequestEntryTypeDef) -> int:
    """An entry's size as EventBridge counts it toward the per-call limit."""
    size = _TIME_BYTES
    for key in ("Source", "DetailType", "Detail"):
        value = entry.get(key)
        if isinstance(value, str):
            size += len(value.encode("utf-8"))
    for resource in entry.get("Resources", []):
        size += len(resource.encode("utf-8"))
    return size


class EventBridgePublisher:
    """`EventPublisher` on an EventBridge bus."""

    def __init__(
        self,
        client: EventBridgeClient,
        *,
        bus_name: str,
        source: str = DEFAULT_SOURCE,
        max_call_bytes: int = MAX_CALL_BYTES,
    ) -> None:
        self._client = client
        self._bus = bus_name
        self._source = source
        self._max_bytes = max_call_bytes

    def entry(self, detail: EventDetail) -> PutEventsRequestEntryTypeDef:
        return {
            "EventBusName": self._bus,
            "Source": self._source,
            "DetailType": detail.detail_type.value,
            "Detail": detail.to_json(),
        }

    def _fitting_entry(self, detail: EventDetail) -> PutEventsRequestEntryTypeDef:
        entry = self.entry(detail)
        if entry_size(entry) <= self._max_bytes:
            return entry
        # Meta's raw object is the only part that can be large; consumers still get every
        # field we read from it, and `payload_omitted` tells them to look in the logs.
        logger.warning(
            "event payload omitted to fit EventBridge's size limit",
            extra={"detail_type": detail.detail_type.value, "event_id": detail.event_id},
        )
        entry = self.entry(detail.without_payload())
        if entry_size(entry) > self._max_bytes:
            raise EventTooLarge(f"{detail.detail_type.value} {detail.event_id} is too large")
        return entry

    def publish(self, details: Sequence[EventDetail]) -> None:
        """Publish every detail, or raise `EventPublishError` (some may be out already)."""
        entries = [self._fitting_entry(detail) for detail in details]
        refused: list[PutEventsRequestEntryTypeDef] = []
        for chunk in self._chunks(entries):
            refused.extend(self._put(chunk)[0])
        codes: list[str] = []
        if refused:
            logger.info("retrying events EventBridge refused", extra={"count": len(refused)})
            still: list[PutEventsRequestEntryTypeDef] = []
            for chunk in self._chunks(refused):
                failed, failed_codes = self._put(chunk)
                still.extend(failed)
                codes.extend(failed_codes)
            refused = still
        published = len(entries) - len(refused)
        if published:
            metrics.add_metric(name=m.EVENTS_PUBLISHED, unit=MetricUnit.Count, value=published)
        if refused:
            raise EventPublishError(len(refused), codes)

    def _chunks(
        self, entries: Sequence[PutEventsRequestEntryTypeDef]
    ) -> Iterator[list[PutEventsRequestEntryTypeDef]]:
        chunk: list[PutEventsRequestEntryTypeDef] = []
        size = 0
        for entry in entries:
            entry_bytes = entry_size(entry)
            if chunk and (
                len(chunk) == MAX_ENTRIES_PER_CALL or size + entry_bytes > self._max_bytes
            ):
                yield chunk
                chunk, size = [], 0
            chunk.append(entry)
            size += entry_bytes
        if chunk:
            yield chunk

    def _put(
        self, chunk: list[PutEventsRequestEntryTypeDef]
    ) -> tuple[list[PutEventsRequestEntryTypeDef], list[str]]:
        """Send one chunk; the entries refused and their error codes."""
        response = self._client.put_events(Entries=chunk)
        if not response.get("FailedEntryCount"):
            return [], []
        failed: list[PutEventsRequestEntryTypeDef] = []
        codes: list[str] = []
        # Result entries are in request order, one per entry sent.
        for entry, result in zip(chunk, response["Entries"], strict=True):
            if result.get("ErrorCode"):
                failed.append(entry)
                codes.append(str(result["ErrorCode"]))
        return failed, codes
