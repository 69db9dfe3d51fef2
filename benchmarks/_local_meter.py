"""Metering the local stack: every AWS request, Lambda invocation and log byte it makes.

:class:`StackMeter` hooks into a :class:`~infra.local.stack.runner.LocalStack` through its
two optional hooks:

- ``aws_session_hook``: every boto3 session the stack builds clients from is shown to the
  meter before its first client, and a recorder (``benchmarks._aws_calls``, extended here
  with what billing needs: 64 KB chunks, SQS payloads, EventBridge entries, the queue or
  table of each call) is registered on its events. There are two such sessions: the
  stack's own, whose clients are the event source mappings' (the queue pollers), and
  boto3's default session, from which the handlers build theirs at cold start;
- ``FunctionPool.observe``: every finished invocation, with its function, event and
  handler wall time, in the invoking thread.

Log output is counted where the handlers write it: Powertools' logger stream (the JSON
lines), EMF blobs (a second sink next to the stack's own EMF aggregator), WARNING and
above reaching the root logger (what Lambda's runtime would print), each attributed to the
invocation running in the thread that wrote it. Lambda's own START / END / REPORT lines
are modelled (`_local_prices.lambda_platform_lines`), since no Lambda runs here.

Counters only grow; :meth:`StackMeter.snapshot` and :meth:`StackMeter.usage_between` give
what happened between two points (one measured phase).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import logging
import re
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from benchmarks._aws_calls import AwsCallRecorder
from benchmarks._local_prices import (
    EVENTBRIDGE_CHUNK_BYTES,
    HTTP_API_CHUNK_BYTES,
    SQS_CHUNK_BYTES,
    billed_ms,
    chunks,
    eventbridge_entry_bytes,
    lambda_platform_lines,
)
from infra.local.stack.emf import EmfAggregator, capture_emf

if TYPE_CHECKING:
    from infra.local.stack.runner import LocalStack
    from infra.topology import FunctionSpec

Key = tuple[str, ...]

# Loggers of the local stack itself and of the Graph API simulator: not Lambda output.
_NOT_LAMBDA_LOGGERS = ("pixy.local", "infra.", "benchmarks", "hypercorn", "werkzeug", "moto")
# The Python runtime's line for a `logging` record reaching the root logger.
_ROOT_LINE = "[{level}]\t2026-01-01T00:00:00.000Z\t{request_id}\t{message}\n"
_REQUEST_ID = "00000000-0000-0000-0000-000000000000"
_THREAD_NUMBER = re.compile(r"[-_]?\d+$")


# -- AWS requests -----------------------------------------------------------------------------


def _resource(service: str, operation: str, params: dict[str, Any]) -> str:
    """The queue, table, bus or bucket a call is about (the name, not the URL)."""
    if service == "sqs":
        return str(params.get("QueueUrl", "")).rsplit("/", 1)[-1]
    if service == "dynamodb":
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return ",".join(sorted(params.get("RequestItems", {})))
        if operation == "TransactWriteItems":
            tables = {
                str(next(iter(item.values())).get("TableName", ""))
                for item in params.get("TransactItems", [])
            }
            return ",".join(sorted(tables))
        return str(params.get("TableName", ""))
    if service == "events":
        buses = {str(e.get("EventBusName", "default")) for e in params.get("Entries", [])}
        return ",".join(sorted(buses))
    if service == "s3":
        return str(params.get("Bucket", ""))
    return ""


def _attribute_bytes(attributes: Any) -> int:
    """SQS message attributes as they count towards the payload: name, type and value."""
    if not isinstance(attributes, dict):
        return 0
    size = 0
    for name, value in attributes.items():
        size += len(str(name).encode())
        if isinstance(value, dict):
            size += len(str(value.get("DataType", "")).encode())
            if "StringValue" in value:
                size += len(str(value["StringValue"]).encode())
            if "BinaryValue" in value:
                raw = value["BinaryValue"]
                size += len(raw) if isinstance(raw, bytes | bytearray) else len(str(raw))
    return size


_CLAUSE_KEYWORDS = re.compile(r"\b(SET|REMOVE|ADD|DELETE)\b", re.IGNORECASE)


def _update_clauses(expression: str) -> dict[str, list[str]]:
    """An UpdateExpression's actions by keyword, split on the commas between them."""
    found: dict[str, list[str]] = defaultdict(list)
    parts = _CLAUSE_KEYWORDS.split(expression)
    for keyword, body in zip(parts[1::2], parts[2::2], strict=True):
        depth = 0
        current = ""
        for char in body:
            depth += (char == "(") - (char == ")")
            if char == "," and depth == 0:
                found[keyword.upper()].append(current.strip())
                current = ""
            else:
                current += char
        if current.strip():
            found[keyword.upper()].append(current.strip())
    return found


class IndexTracker:
    """Which items carry a GSI key, to count index writes as DynamoDB bills them.

    A KEYS_ONLY index (the only kind the stack has) is written when an item's key
    attribute appears (1 write), changes (2: delete and put) or goes (1); any other
    change to the item leaves the index alone. ``_aws_calls`` counts one index write for
    every write that names the key, which overcounts ``SET wamid = if_not_exists(wamid,
    :w)`` on an item that already has it: every status after ``accepted``. Every write the
    stack makes passes through the meter, so the current value of each item's key is known.
    """

    def __init__(self, keys: dict[str, set[str]]) -> None:
        self._keys = keys
        self._values: dict[tuple[str, str, str], Any] = {}
        self._lock = threading.Lock()

    def writes(self, operation: str, params: dict[str, Any]) -> int:
        """Index writes of one successful request (transactions count double, as DynamoDB)."""
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            return self._one(operation, params)
        if operation == "BatchWriteItem":
            total = 0
            for table, requests in params.get("RequestItems", {}).items():
                for request in requests:
                    if "PutRequest" in request:
                        total += self._one("PutItem", {"TableName": table, **request["PutRequest"]})
                    elif "DeleteRequest" in request:
                        item = {"TableName": table, **request["DeleteRequest"]}
                        total += self._one("DeleteItem", item)
            return total
        if operation == "TransactWriteItems":
            total = 0
            for item in params.get("TransactItems", []):
                for kind, operation_name in (
                    ("Put", "PutItem"),
                    ("Update", "UpdateItem"),
                    ("Delete", "DeleteItem"),
                ):
                    if kind in item:
                        total += 2 * self._one(operation_name, item[kind])
            return total
        return 0

    def _one(self, operation: str, params: dict[str, Any]) -> int:
        table = str(params.get("TableName", ""))
        keys = self._keys.get(table)
        if not keys:
            return 0
        item = params.get("Item") or {}
        primary = json.dumps(params.get("Key") or {"pk": item.get("pk")}, sort_keys=True)
        writes = 0
        with self._lock:
            for key in keys:
                slot = (table, primary, key)
                old = self._values.get(slot)
                if operation == "DeleteItem":
                    new = None
                elif operation == "PutItem":
                    new = item.get(key)
                else:
                    new = self._updated(params, key, old)
                if new is None:
                    self._values.pop(slot, None)
                else:
                    self._values[slot] = new
                if old != new:
                    writes += (old is not None) + (new is not None)
        return writes

    @staticmethod
    def _updated(params: dict[str, Any], key: str, old: Any) -> Any:
        names = params.get("ExpressionAttributeNames", {})
        values = params.get("ExpressionAttributeValues", {})
        clauses = _update_clauses(str(params.get("UpdateExpression", "")))
        new = old
        for clause in clauses.get("SET", []):
            target, _, value = clause.partition("=")
            if names.get(target.strip(), target.strip()) != key:
                continue
            value = value.strip()
            if value.startswith("if_not_exists"):
                placeholder = value.rstrip(")").rsplit(",", 1)[-1].strip()
                new = old if old is not None else values.get(placeholder)
            else:
                new = values.get(value)
        for clause in clauses.get("REMOVE", []):
            if names.get(clause.strip(), clause.strip()) == key:
                new = None
        return new


def _sqs_message_bytes(message: dict[str, Any], body_key: str) -> int:
    return len(str(message.get(body_key, "")).encode()) + _attribute_bytes(
        message.get("MessageAttributes")
    )


class SessionRecorder(AwsCallRecorder):
    """`AwsCallRecorder` registered on a whole session, plus the figures billing needs.

    ``billing`` counts, by (service, operation, resource, figure): ``calls``, ``billed``
    (requests or events as the service bills them), ``entries`` (EventBridge), ``wcu`` and
    ``rcu`` (estimated by DynamoDB's rules, as the base class does), ``empty`` (receives
    that returned nothing) and ``received`` (messages a receive returned).
    """

    def __init__(self, name: str, *, index: IndexTracker | None = None) -> None:
        super().__init__(name)
        self.billing: defaultdict[Key, float] = defaultdict(float)
        self.index = index or IndexTracker({})
        self._call = threading.local()

    def _index_writes(self, params: dict[str, Any]) -> int:
        # Counted after the call, when its success is known (see IndexTracker).
        return 0

    def attach_session(self, session: Any) -> None:
        """Count every call of every client built from ``session`` from now on.

        Clients copy their session's event handlers when they are created, so this must
        come before the first client (the stack's hook is called at that point). No
        ``ReturnConsumedCapacity`` is added: the requests stay exactly the handlers'.
        """
        events = session.events
        events.register("before-parameter-build", self._on_params)
        events.register("before-parameter-build", self._on_billing_params)
        events.register("before-send", self._on_send)
        events.register("before-parse", self._on_response)
        events.register("after-call", self._on_after_call)

    def _on_billing_params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        operation = model.name
        call = self._call
        call.resource = _resource(service, operation, params)
        call.billed = 1
        call.entries = 0
        call.capacity = (0.0, 0.0)
        call.params = params
        if service == "sqs" and operation == "SendMessage":
            call.billed = chunks(_sqs_message_bytes(params, "MessageBody"), SQS_CHUNK_BYTES)
        elif service == "sqs" and operation == "SendMessageBatch":
            payload = sum(_sqs_message_bytes(e, "MessageBody") for e in params.get("Entries", []))
            call.billed = chunks(payload, SQS_CHUNK_BYTES)
        elif service == "events" and operation == "PutEvents":
            entries = params.get("Entries", [])
            call.entries = len(entries)
            call.billed = sum(
                chunks(eventbridge_entry_bytes(e), EVENTBRIDGE_CHUNK_BYTES) for e in entries
            )
        elif service == "dynamodb":
            call.capacity = self._estimate(operation, params)

    def _on_after_call(
        self, http_response: Any, parsed: dict[str, Any], model: Any, **kwargs: Any
    ) -> None:
        super()._on_after_call(http_response=http_response, parsed=parsed, model=model, **kwargs)
        service = model.service_model.service_name
        operation = model.name
        call = self._call
        key = (service, operation, getattr(call, "resource", ""))
        billed = getattr(call, "billed", 1)
        amounts: dict[str, float] = {"calls": 1}
        if service == "sqs" and operation == "ReceiveMessage":
            messages = parsed.get("Messages") or []
            payload = sum(_sqs_message_bytes(m, "Body") for m in messages)
            billed = chunks(payload, SQS_CHUNK_BYTES)
            amounts["received"] = len(messages)
            amounts["empty"] = int(not messages)
        amounts["billed"] = billed
        if service == "events":
            amounts["entries"] = getattr(call, "entries", 0)
        if service == "dynamodb":
            wcu, rcu = getattr(call, "capacity", (0.0, 0.0))
            succeeded = http_response is not None and http_response.status_code < 300
            if succeeded:
                wcu += self.index.writes(operation, getattr(call, "params", {}))
            amounts["wcu"] = wcu
            amounts["rcu"] = rcu
        with self._lock:
            for name, amount in amounts.items():
                self.billing[(*key, name)] += amount


# -- logs -------------------------------------------------------------------------------------


@dataclass
class LogBucket:
    """Log output written by one thread since it was last drained."""

    app_bytes: int = 0
    app_events: int = 0
    emf_bytes: int = 0
    emf_sizes: list[int] = field(default_factory=list)
    root_bytes: int = 0
    root_events: int = 0

    def add(self, other: LogBucket) -> None:
        self.app_bytes += other.app_bytes
        self.app_events += other.app_events
        self.emf_bytes += other.emf_bytes
        self.emf_sizes.extend(other.emf_sizes)
        self.root_bytes += other.root_bytes
        self.root_events += other.root_events


class LogMeter:
    """Per-thread tallies of what the handlers write; an invocation drains its thread's."""

    def __init__(self) -> None:
        self._buckets: dict[int, LogBucket] = {}
        self._thread_names: dict[int, str] = {}
        self._lock = threading.Lock()

    def _bucket(self) -> LogBucket:
        ident = threading.get_ident()
        bucket = self._buckets.get(ident)
        if bucket is None:
            bucket = self._buckets[ident] = LogBucket()
            self._thread_names[ident] = threading.current_thread().name
        return bucket

    def app(self, text: str) -> None:
        size = len(text.encode())
        events = max(1, text.count("\n")) if text.strip() else 0
        with self._lock:
            bucket = self._bucket()
            bucket.app_bytes += size
            bucket.app_events += events

    def emf(self, size: int) -> None:
        with self._lock:
            bucket = self._bucket()
            bucket.emf_bytes += size
            bucket.emf_sizes.append(size)

    def root(self, size: int) -> None:
        with self._lock:
            bucket = self._bucket()
            bucket.root_bytes += size
            bucket.root_events += 1

    def drain(self) -> LogBucket:
        with self._lock:
            return self._buckets.pop(threading.get_ident(), None) or LogBucket()

    def drain_all(self) -> dict[str, LogBucket]:
        """What was written outside any invocation's thread, by thread family (a pool's
        threads share a name up to their number: ``sender_3`` is ``sender``)."""
        with self._lock:
            buckets, self._buckets = self._buckets, {}
            names, self._thread_names = self._thread_names, {}
        gathered: dict[str, LogBucket] = defaultdict(LogBucket)
        for ident, bucket in buckets.items():
            family = _THREAD_NUMBER.sub("", names.get(ident, "")) or "unnamed"
            gathered[family].add(bucket)
        return dict(gathered)


class _CountingStream(io.TextIOBase):
    """Stands in for the logger's stream: counts what Lambda would ingest, prints nothing."""

    def __init__(self, meter: LogMeter) -> None:
        self._meter = meter

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._meter.app(text)
        return len(text)


class _EmfCounter(EmfAggregator):
    """A second EMF sink: the size of each blob as Powertools prints it (compact JSON)."""

    def __init__(self, meter: LogMeter) -> None:
        super().__init__()
        self._meter = meter

    def ingest(self, blob: Any) -> bool:
        self._meter.emf(len(json.dumps(blob, separators=(",", ":")).encode()) + 1)
        return True


class _RootCounter(logging.Handler):
    def __init__(self, meter: LogMeter) -> None:
        super().__init__(logging.WARNING)
        self._meter = meter

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(_NOT_LAMBDA_LOGGERS):
            return
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
        line = _ROOT_LINE.format(level=record.levelname, request_id=_REQUEST_ID, message=message)
        self._meter.root(len(line.encode()))


# -- the meter --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    counters: dict[Key, float]
    durations: dict[str, int]  # how many durations each function had recorded
    emf_blobs: dict[str, int]  # how many EMF blob sizes each function had recorded


@dataclass
class FunctionUsage:
    function: str
    memory_mb: int
    invocations: int
    errors: int
    billed_ms: float
    wall_ms: float
    durations_ms: list[float]
    records: float  # queue records handed to it (event source functions)
    app_log_bytes: float
    app_log_events: float
    emf_bytes: float
    emf_blobs: float
    emf_blob_median: float
    root_log_bytes: float
    root_log_events: float
    platform_bytes: float
    platform_events: float


@dataclass
class Usage:
    """What one measured phase used, as counted (not yet priced)."""

    functions: dict[str, FunctionUsage]
    http: dict[str, dict[str, float]]  # route -> calls, billed, bytes
    aws: dict[str, dict[Key, float]]  # recorder name -> (service, op, resource, figure) -> amount
    unattributed_logs: dict[str, LogBucket]  # by thread family
    seconds: float = 0.0


class StackMeter:
    """Everything the local stack bills, counted. See the module docstring."""

    def __init__(self, gsi_keys: dict[str, set[str]] | None = None) -> None:
        self.recorders: dict[str, SessionRecorder] = {}
        self.logs = LogMeter()
        self._index = IndexTracker(gsi_keys or {})
        self._counters: defaultdict[Key, float] = defaultdict(float)
        self._durations: dict[str, list[float]] = defaultdict(list)
        self._emf_sizes: dict[str, list[int]] = defaultdict(list)
        self._memory: dict[str, int] = {}
        self._lock = threading.Lock()
        self._sessions = 0
        self._exit = contextlib.ExitStack()
        self._root_counter: _RootCounter | None = None

    # -- hooking in ---------------------------------------------------------------------------

    def session_hook(self, session: Any) -> None:
        """The stack's ``aws_session_hook``: its own session first (the queue pollers'),
        then boto3's default session (the handlers')."""
        name = "event source mappings" if self._sessions == 0 else "handlers"
        self._sessions += 1
        recorder = SessionRecorder(name, index=self._index)
        recorder.attach_session(session)
        self.recorders[name] = recorder

    def caller_recorder(self, client: Any) -> SessionRecorder:
        """A recorder on one client of the benchmark's own: another system's enqueue."""
        recorder = SessionRecorder("caller", index=self._index)
        recorder.attach(client, ask_capacity=False)
        # `attach` registers the base handlers only; the billing ones go on the same client.
        client.meta.events.register("before-parameter-build", recorder._on_billing_params)
        self.recorders["caller"] = recorder
        return recorder

    def attach_stack(self, stack: LocalStack) -> None:
        """After start: the invocation observer, the log counters and the EMF sink."""
        for pool in stack.pools.values():
            self._memory[str(pool.spec.key)] = pool.spec.memory_mb
            pool.observe(self._on_invocation)
        self._exit.enter_context(capture_emf(_EmfCounter(self.logs)))
        from pixy_whatsapp import observability

        powertools_logger = observability.logger
        handlers = {
            *getattr(powertools_logger, "handlers", []),
            *logging.getLogger(powertools_logger.name).handlers,
        }
        for handler in handlers:
            if isinstance(handler, logging.StreamHandler):
                # The stack puts the original stream back when it stops.
                handler.setStream(_CountingStream(self.logs))
        self._root_counter = _RootCounter(self.logs)
        logging.getLogger().addHandler(self._root_counter)

    def close(self) -> None:
        if self._root_counter is not None:
            logging.getLogger().removeHandler(self._root_counter)
            self._root_counter = None
        self._exit.close()

    @contextlib.contextmanager
    def attached(self, stack: LocalStack) -> Iterator[StackMeter]:
        self.attach_stack(stack)
        try:
            yield self
        finally:
            self.close()

    def _on_invocation(
        self, spec: FunctionSpec, event: dict[str, Any], elapsed_ms: float, failed: bool
    ) -> None:
        function = str(spec.key)
        billed = billed_ms(elapsed_ms)
        logged = self.logs.drain()
        platform = lambda_platform_lines(elapsed_ms, spec.memory_mb)
        http = _http_request(event)
        with self._lock:
            counters = self._counters
            counters[("lambda", function, "invocations")] += 1
            counters[("lambda", function, "errors")] += int(failed)
            counters[("lambda", function, "billed_ms")] += billed
            counters[("lambda", function, "wall_ms")] += elapsed_ms
            counters[("lambda", function, "records")] += len(event.get("Records") or [])
            counters[("logs", function, "app_bytes")] += logged.app_bytes
            counters[("logs", function, "app_events")] += logged.app_events
            counters[("logs", function, "emf_bytes")] += logged.emf_bytes
            counters[("logs", function, "emf_blobs")] += len(logged.emf_sizes)
            counters[("logs", function, "root_bytes")] += logged.root_bytes
            counters[("logs", function, "root_events")] += logged.root_events
            counters[("logs", function, "platform_bytes")] += sum(
                len(line.encode()) for line in platform
            )
            counters[("logs", function, "platform_events")] += len(platform)
            self._durations[function].append(elapsed_ms)
            self._emf_sizes[function].extend(logged.emf_sizes)
            if http is not None:
                route, size = http
                counters[("http", route, "calls")] += 1
                counters[("http", route, "bytes")] += size
                counters[("http", route, "billed")] += chunks(size, HTTP_API_CHUNK_BYTES)

    # -- reading ------------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        with self._lock:
            counters: dict[Key, float] = dict(self._counters)
            durations = {k: len(v) for k, v in self._durations.items()}
            emf_blobs = {k: len(v) for k, v in self._emf_sizes.items()}
        for name, recorder in self.recorders.items():
            with recorder._lock:
                for key, value in recorder.billing.items():
                    counters[("aws", name, *key)] = value
        return Snapshot(counters, durations, emf_blobs)

    def usage_between(self, before: Snapshot, after: Snapshot) -> Usage:
        delta: dict[Key, float] = {}
        for key, value in after.counters.items():
            change = value - before.counters.get(key, 0)
            if change:
                delta[key] = change
        functions: dict[str, FunctionUsage] = {}
        for function, memory_mb in self._memory.items():

            def get(kind: str, figure: str, function: str = function) -> float:
                return float(delta.get((kind, function, figure), 0))

            if not get("lambda", "invocations"):
                continue
            start = before.durations.get(function, 0)
            end = after.durations.get(function, 0)
            with self._lock:
                durations = list(self._durations[function][start:end])
                blobs = self._emf_sizes[function][
                    before.emf_blobs.get(function, 0) : after.emf_blobs.get(function, 0)
                ]
            functions[function] = FunctionUsage(
                function=function,
                memory_mb=memory_mb,
                invocations=int(get("lambda", "invocations")),
                errors=int(get("lambda", "errors")),
                billed_ms=get("lambda", "billed_ms"),
                wall_ms=get("lambda", "wall_ms"),
                durations_ms=durations,
                records=get("lambda", "records"),
                app_log_bytes=get("logs", "app_bytes"),
                app_log_events=get("logs", "app_events"),
                emf_bytes=get("logs", "emf_bytes"),
                emf_blobs=get("logs", "emf_blobs"),
                emf_blob_median=_median(blobs),
                root_log_bytes=get("logs", "root_bytes"),
                root_log_events=get("logs", "root_events"),
                platform_bytes=get("logs", "platform_bytes"),
                platform_events=get("logs", "platform_events"),
            )
        http: dict[str, dict[str, float]] = defaultdict(dict)
        aws: dict[str, dict[Key, float]] = defaultdict(dict)
        for key, value in delta.items():
            if key[0] == "http":
                http[key[1]][key[2]] = float(value)
            elif key[0] == "aws":
                aws[key[1]][key[2:]] = value
        return Usage(functions, dict(http), dict(aws), self.logs.drain_all())


def _http_request(event: dict[str, Any]) -> tuple[str, int] | None:
    """(route, body bytes) of an API Gateway HTTP API event; None for other events."""
    route = event.get("routeKey")
    if not isinstance(route, str) or "requestContext" not in event:
        return None
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else str(body).encode()
    return route, len(raw)


def _median(values: list[int]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2
