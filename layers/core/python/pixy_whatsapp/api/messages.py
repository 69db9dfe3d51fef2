"""Taking messages in (`POST /v1/messages`) and showing them (`GET /v1/messages/{id}`).

Per request:

- two messages with the same id, or the same deduplication id (the queue would drop
  the second), are duplicates of the first;
- a message whose id the messages table already knows is a duplicate: it is not
  queued again;
- the others are queued, ten at a time, then recorded as `queued`, all before the
  answer, so a caller can read every message back at once;
- a message SQS refuses is tried again at once; if it still fails it is recorded as
  failed (`enqueue_failed`), and the request's messages to the same recipient in later
  batches are held back and failed with it. (Only when SQS takes part of a batch can
  a later message of that batch to the same recipient get ahead of a refused one.)

Queue first, record second: a function stopped between the two leaves a message on
the queue without a record, which the sender creates when it claims the message, and
a retry of the request finds the id unknown and queues it again, which the queue's
deduplication id and the sender's record (it never sends an id twice) make harmless.
The other order would leave a record that no queue message will ever move, and the
retry would be told "duplicate" for a message that is never sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from aws_lambda_powertools.metrics import MetricUnit

from pixy_whatsapp.api.item_checks import plain_json, storable_metadata
from pixy_whatsapp.api.models import MessageAcceptance, MessageView, Outcome, StatusChange
from pixy_whatsapp.metric_names import MESSAGES_ENQUEUED
from pixy_whatsapp.observability import logger, metrics
from pixy_whatsapp.outbound import DEFAULT_SHARD_COUNT, EnqueueResult, SendRequest, enqueue
from pixy_whatsapp.statuses import MessageError, MessageStatus, MessageStore, now_ms

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from pixy_whatsapp.statuses import MessageRecord

ENQUEUE_FAILED = "enqueue_failed"
_BATCH = 10

T = TypeVar("T")
R = TypeVar("R")


def _at(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC)


def _recipient(request: SendRequest) -> tuple[str, str]:
    return request.phone_number_id, request.recipient_key


class MessageService:
    """The send API's use cases over the messages table and the outbound queue."""

    def __init__(
        self,
        store: MessageStore,
        sqs: SQSClient,
        queue_url: str,
        *,
        shard_count: int = DEFAULT_SHARD_COUNT,
        retention_days: int,
        workers: int = 10,
        clock_ms: Callable[[], int] = now_ms,
    ) -> None:
        self._store = store
        self._sqs = sqs
        self._queue_url = queue_url
        self._shard_count = shard_count
        self._clock_ms = clock_ms
        self.retention_days = retention_days
        # Up to 100 writes per request: in parallel they take a round trip's
        # time instead of a hundred. The pool lives as long as the Lambda environment.
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="messages")

    def close(self) -> None:
        """Let the worker threads go (tests; a Lambda environment just ends)."""
        self._pool.shutdown(wait=False)

    def _map(self, work: Callable[[T], R], items: Iterable[T]) -> list[R]:
        items = list(items)
        if len(items) <= 1:
            return [work(item) for item in items]
        return list(self._pool.map(work, items))

    # --- POST /v1/messages -------------------------------------------------------------

    def accept(self, requests: Sequence[SendRequest]) -> list[MessageAcceptance]:
        """Queue and record `requests`; one answer per request, in their order."""
        now = self._clock_ms()
        stamped = [r.model_copy(update={"enqueued_at": _at(now)}) for r in requests]
        answers: dict[int, MessageAcceptance] = {}
        candidates = self._first_of_each(stamped, answers)

        known = self._store.read_many(stamped[i].id for i in candidates)
        fresh: list[int] = []
        for i in candidates:
            if stamped[i].id not in known:
                fresh.append(i)
            else:
                answers[i] = MessageAcceptance(
                    id=stamped[i].id, status=Outcome.DUPLICATE, reason="id already known"
                )

        failures = self._queue([stamped[i] for i in fresh])
        self._map(lambda i: self._record(stamped[i], now, failures.get(stamped[i].id)), fresh)
        for i in fresh:
            error = failures.get(stamped[i].id)
            answers[i] = (
                MessageAcceptance(id=stamped[i].id, status=Outcome.QUEUED)
                if error is None
                else MessageAcceptance(
                    id=stamped[i].id, status=Outcome.FAILED, reason=ENQUEUE_FAILED, detail=error
                )
            )

        queued = len(fresh) - len(failures)
        if queued:
            metrics.add_metric(name=MESSAGES_ENQUEUED, unit=MetricUnit.Count, value=queued)
        logger.info(
            "messages taken",
            extra={
                "requested": len(stamped),
                "queued": queued,
                "failed": len(failures),
                "duplicates": len(stamped) - len(fresh),
            },
        )
        return [answers[i] for i in range(len(stamped))]

    @staticmethod
    def _first_of_each(
        requests: Sequence[SendRequest], answers: dict[int, MessageAcceptance]
    ) -> list[int]:
        """Indexes of the requests to take; the repeats are answered as duplicates."""
        by_id: dict[str, int] = {}
        by_dedup: dict[str, int] = {}
        taken: list[int] = []
        for i, request in enumerate(requests):
            dedup = request.deduplication_id()
            if request.id in by_id:
                reason = f"same id as messages[{by_id[request.id]}]"
            elif dedup in by_dedup:
                reason = (
                    f"same deduplication id as messages[{by_dedup[dedup]}]: "
                    "the queue would drop it (set distinct idempotency keys to send both)"
                )
            else:
                by_id[request.id] = by_dedup[dedup] = i
                taken.append(i)
                continue
            answers[i] = MessageAcceptance(id=request.id, status=Outcome.DUPLICATE, reason=reason)
        return taken

    def _record(self, request: SendRequest, at_ms: int, failure: str | None) -> None:
        storable = request.model_copy(update={"metadata": storable_metadata(request.metadata)})
        # False when the sender claimed the message first: its record is already further on.
        self._store.record_queued(storable, at_ms=at_ms)
        if failure is not None:
            self._store.apply_status(
                request.id,
                MessageStatus.FAILED,
                self._clock_ms(),
                error=MessageError(reason=ENQUEUE_FAILED, details=failure, source="api"),
            )

    def _queue(self, requests: Sequence[SendRequest]) -> dict[str, str]:
        """Queue in order; the reason for each message that did not make it, by id."""
        failures: dict[str, str] = {}
        blocked: dict[tuple[str, str], str] = {}
        for start in range(0, len(requests), _BATCH):
            batch: list[SendRequest] = []
            for request in requests[start : start + _BATCH]:
                earlier = blocked.get(_recipient(request))
                if earlier is None:
                    batch.append(request)
                else:
                    failures[request.id] = (
                        f"held back: message {earlier} to the same recipient was not queued"
                    )
            results = self._enqueue(batch)
            # Refused ones go again at once, before any later batch, to keep their order.
            retried = self._enqueue([r for r in batch if not results[r.id].ok])
            results.update(retried)
            for request in batch:
                result = results[request.id]
                if not result.ok:
                    failures[request.id] = result.error or "not queued"
                    blocked.setdefault(_recipient(request), request.id)
        if failures:
            logger.error(
                "messages not queued", extra={"failures": failures, "queue": self._queue_url}
            )
        return failures

    def _enqueue(self, batch: Sequence[SendRequest]) -> dict[str, EnqueueResult]:
        if not batch:
            return {}
        results = enqueue(self._sqs, self._queue_url, batch, shard_count=self._shard_count)
        return {result.id: result for result in results}

    # --- GET /v1/messages/{id} ----------------------------------------------------------

    def view(self, message_id: str) -> MessageView | None:
        record = self._store.get(message_id)
        return None if record is None else _view(record)


def _view(record: MessageRecord) -> MessageView:
    return MessageView(
        id=record.id,
        status=record.status,
        waba_id=record.waba_id,
        phone_number_id=record.phone_number_id,
        category=record.category,
        wamid=record.wamid,
        client_reference=record.client_reference,
        metadata=plain_json(record.metadata),
        attempts=record.attempts,
        error=record.error,
        last_error=record.last_error,
        pricing=plain_json(record.pricing) if record.pricing is not None else None,
        enqueued_at=_at(record.enqueued_at_ms) if record.enqueued_at_ms is not None else None,
        history=[StatusChange(status=e.status, at=_at(e.at_ms)) for e in record.history],
    )
