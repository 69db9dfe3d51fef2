"""Lambda's SQS event source mapping, locally: receive, invoke, delete what succeeded.

Each poller has up to ``concurrency`` workers (the mapping's *maximum concurrency*); each
worker long-polls its queue for up to ``batch_size`` messages, turns them into the event
Lambda builds (``Records`` with ``messageId``, ``receiptHandle``, ``body``, ``attributes``
such as ``ApproximateReceiveCount`` and ``MessageGroupId``, ``messageAttributes``,
``md5OfBody``, ``eventSource``, ``eventSourceARN``, ``awsRegion``), invokes the function
and then, as Lambda does with ``ReportBatchItemFailures``:

- the handler raised: nothing is deleted; every message comes back when its visibility
  timeout ends (or sooner, if the handler changed it);
- the environment died under it (process isolation, killed or timed out): the same, and
  the batch is not counted as handed back (``expedite()`` leaves it to its timeout);
- it answered ``batchItemFailures``: the others are deleted; an identifier that is empty
  or not in the batch makes the whole batch a failure, as Lambda treats it;
- anything else: the whole batch succeeded and is deleted.

Everything else is SQS's (moto's) own: FIFO group locking (a group with a message in
flight is not handed out), visibility, ``ApproximateReceiveCount`` and redrive to the DLQ
after ``maxReceiveCount``.

Example::

    poller = QueuePoller(pool, clients, queue_url=url, queue_arn=arn, batch_size=10,
                         concurrency=4)
    poller.start(); ...; poller.stop()
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from infra.local.stack.lambda_runtime import EnvironmentCrashed, FunctionPool, HandlerMissing
from infra.local.stack.resources import AwsClients

_log = logging.getLogger("pixy.local.pollers")

DEFAULT_WAIT_SECONDS = 1
"""Long-poll wait: short, so stopping takes about a second (moto wakes up once a second)."""
FIFO_IDLE_SLEEP_S = (0.05, 0.5)
"""FIFO queues are short-polled, with a pause after an empty receive that doubles from
the first figure to the second while the queue stays empty.

moto's long poll waits until the queue has *visible* messages; on a FIFO queue whose
visible messages all belong to groups already in flight, that is at once, so the receive
spins for its whole wait, using moto's single core while the consumers that would free
those groups wait for it. Lambda long-polls; locally, a short poll and a short pause
deliver the same batches without the spin."""
_BACKOFF_ON_ERROR_S = 1.0


@dataclass
class PollerStats:
    receives: int = 0
    empty_receives: int = 0
    batches: int = 0
    records: int = 0
    deleted: int = 0
    item_failures: int = 0
    batch_failures: int = 0
    crashed_batches: int = 0
    expedited_after_crash: int = 0
    receive_errors: int = 0
    busy_workers: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **amounts: int) -> None:
        with self._lock:
            for name, amount in amounts.items():
                setattr(self, name, getattr(self, name) + amount)

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return {
                name: value
                for name, value in vars(self).items()
                if not name.startswith("_") and isinstance(value, int)
            }


def lambda_record(message: dict[str, Any], *, queue_arn: str, region: str) -> dict[str, Any]:
    """One SQS message as Lambda's event source mapping hands it to the function."""
    body = str(message.get("Body", ""))
    attributes = {str(k): str(v) for k, v in (message.get("Attributes") or {}).items()}
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": body,
        "attributes": attributes,
        "messageAttributes": {
            name: _message_attribute(value)
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(body.encode()).hexdigest(),  # noqa: S324
        **(
            {"md5OfMessageAttributes": message["MD5OfMessageAttributes"]}
            if message.get("MD5OfMessageAttributes")
            else {}
        ),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": value.get("DataType", "String"),
    }
    if "StringValue" in value:
        converted["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        raw = value["BinaryValue"]
        converted["binaryValue"] = (
            base64.b64encode(raw).decode("ascii") if isinstance(raw, bytes) else str(raw)
        )
    return converted


def failed_ids(result: Any, batch_ids: set[str]) -> set[str] | None:
    """The ids to keep from a handler's answer; None when the whole batch failed."""
    if not isinstance(result, dict) or "batchItemFailures" not in result:
        return set()
    failures = result.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    kept: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in batch_ids:
            return None  # Lambda: an invalid answer fails the whole batch
        kept.add(str(identifier))
    return kept


class QueuePoller:
    """One event source mapping: a queue feeding one function."""

    def __init__(
        self,
        pool: FunctionPool,
        clients: AwsClients,
        *,
        queue_url: str,
        queue_arn: str,
        batch_size: int,
        concurrency: int,
        wait_seconds: int = DEFAULT_WAIT_SECONDS,
    ) -> None:
        self.pool = pool
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.batch_size = batch_size
        self.concurrency = max(1, concurrency)
        self.fifo = queue_url.endswith(".fifo")
        self.wait_seconds = 0 if self.fifo else wait_seconds
        self.region = clients.region
        self.stats = PollerStats()
        self._sqs: Any = clients.session.client(
            "sqs", endpoint_url=clients.endpoint_url, region_name=clients.region
        )
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []
        # Receipt handles of the records the function last handed back, by message id;
        # `expedite()` makes them visible at once (tests standing in for time passing).
        self._returned: dict[str, str] = {}
        self._returned_lock = threading.Lock()
        # Receipt handles of the records whose invocation died, and when (monotonic), until
        # they are received again.
        self._crashed: dict[str, tuple[str, float]] = {}

    @property
    def name(self) -> str:
        return f"{self.pool.spec.key}-poller"

    def start(self) -> None:
        self._stop.clear()
        for index in range(self.concurrency):
            worker = threading.Thread(target=self._run, name=f"{self.name}-{index}", daemon=True)
            worker.start()
            self._workers.append(worker)

    def stop(self, timeout_s: float = 60.0) -> None:
        """Stop receiving; batches already received finish and are settled first."""
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        for worker in self._workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        self._workers.clear()

    def expedite(self, *, crashed_older_than_s: float | None = None) -> int:
        """Make every record the function handed back visible now; returns how many.

        Stands in for the passing of a delay the function asked for (a held breaker defers
        for 15 minutes), the way a test fast-forwards a clock.

        With ``crashed_older_than_s`` (the queue's visibility timeout), the records of
        invocations that died at least that long ago and were not received since are made
        visible too: past their timeout they would be back unless the dead invocation had
        pushed their visibility out itself (that held breaker) before it died.
        """
        now = time.monotonic()
        with self._returned_lock:
            returned, self._returned = self._returned, {}
            crashed = []
            if crashed_older_than_s is not None:
                due = [
                    message_id
                    for message_id, (_, at) in self._crashed.items()
                    if now - at >= crashed_older_than_s
                ]
                crashed = [self._crashed.pop(message_id)[0] for message_id in due]
        changed = self._make_visible(list(returned.values()))
        after_crash = self._make_visible(crashed)
        self.stats.add(expedited_after_crash=after_crash)
        return changed + after_crash

    def _make_visible(self, handles: list[str]) -> int:
        entries = [
            {"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": 0}
            for index, handle in enumerate(handles)
        ]
        changed = 0
        for start in range(0, len(entries), 10):
            response = self._sqs.change_message_visibility_batch(
                QueueUrl=self.queue_url, Entries=entries[start : start + 10]
            )
            changed += len(response.get("Successful", []))
        return changed

    @property
    def handed_back(self) -> int:
        """Records the function handed back that have not been received again since."""
        with self._returned_lock:
            return len(self._returned)

    def _run(self) -> None:
        warned = False
        idle_sleep = FIFO_IDLE_SLEEP_S[0]
        while not self._stop.is_set():
            if not self.pool.available:
                # The function is not written yet: leave its messages in the queue.
                if not warned:
                    _log.warning("%s: %s does not exist; not polling", self.name, self.pool.path)
                    warned = True
                self._stop.wait(_BACKOFF_ON_ERROR_S)
                continue
            try:
                response = self._sqs.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=self.batch_size,
                    WaitTimeSeconds=self.wait_seconds,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
            except Exception:
                if self._stop.is_set():
                    return
                self.stats.add(receive_errors=1)
                _log.warning("%s: receive failed", self.name, exc_info=True)
                self._stop.wait(_BACKOFF_ON_ERROR_S)
                continue
            messages = response.get("Messages") or []
            self.stats.add(receives=1, empty_receives=int(not messages))
            if messages:
                idle_sleep = FIFO_IDLE_SLEEP_S[0]
                self._process(messages)
            elif self.wait_seconds == 0:
                self._stop.wait(idle_sleep)
                idle_sleep = min(idle_sleep * 2, FIFO_IDLE_SLEEP_S[1])

    def _process(self, messages: list[dict[str, Any]]) -> None:
        records = [
            lambda_record(message, queue_arn=self.queue_arn, region=self.region)
            for message in messages
        ]
        batch_ids = {record["messageId"] for record in records}
        self.stats.add(batches=1, records=len(records), busy_workers=1)
        try:
            result = self.pool.invoke({"Records": records})
        except HandlerMissing as missing:
            _log.error("%s: %s", self.name, missing)
            kept: set[str] | None = None
            self._stop.wait(_BACKOFF_ON_ERROR_S)
        except EnvironmentCrashed:
            # Nothing was handed back: the batch stays in flight until its visibility
            # timeout, and the handles remembered from earlier receives are stale now.
            self.stats.add(batch_failures=1, crashed_batches=1)
            self._remember(records, set())
            with self._returned_lock:
                for record in records:
                    self._crashed[record["messageId"]] = (record["receiptHandle"], time.monotonic())
            return
        except Exception:
            kept = None  # logged by the pool, with the traceback
        else:
            kept = failed_ids(result, batch_ids)
        finally:
            self.stats.add(busy_workers=-1)
        if kept is None:
            self.stats.add(batch_failures=1)
            self._remember(records, batch_ids)
            return
        self.stats.add(item_failures=len(kept))
        if kept:
            _log.info(
                "%s: %d of %d records handed back to the queue", self.name, len(kept), len(records)
            )
        self._remember(records, kept)
        done = [record for record in records if record["messageId"] not in kept]
        self._delete(done)

    def _remember(self, records: list[dict[str, Any]], ids: set[str]) -> None:
        with self._returned_lock:
            for record in records:
                self._crashed.pop(record["messageId"], None)
                if record["messageId"] in ids:
                    self._returned[record["messageId"]] = record["receiptHandle"]
                else:
                    self._returned.pop(record["messageId"], None)

    def _delete(self, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), 10):
            chunk = records[start : start + 10]
            entries = [
                {"Id": str(index), "ReceiptHandle": record["receiptHandle"]}
                for index, record in enumerate(chunk)
            ]
            try:
                response = self._sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except Exception:
                # Lambda does not retry deletes either: the messages come back after their
                # visibility timeout and the handler's idempotency takes care of them.
                _log.warning("%s: delete failed", self.name, exc_info=True)
                continue
            self.stats.add(deleted=len(response.get("Successful", [])))
            for failure in response.get("Failed", []):
                _log.warning("%s: could not delete a message: %s", self.name, failure)
