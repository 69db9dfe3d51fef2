"""Counting AWS requests (and DynamoDB capacity) from botocore's own events.

Attach a recorder to a boto3 client and every API call it makes is counted by
service and operation, with:

- HTTP attempts (a retried call shows more attempts than calls) and error codes;
- time on the wire (``before-send`` to ``before-parse``: loopback plus the server's
  work) and time in botocore on our side (parameter build, serialisation, signing,
  parsing);
- DynamoDB capacity, two ways:
  * ``reported``: ``ReturnConsumedCapacity="TOTAL"`` is added to every DynamoDB call
    whose operation takes it (``before-parameter-build`` hook) and the answer's
    ``ConsumedCapacity`` is summed. moto fills it with fixed placeholders (0.5 or 1.0
    per call whatever the item), so this figure is kept only for transparency;
  * ``estimated``: DynamoDB's published rules. A write costs 1 WCU per started KB of
    the larger of the old and new item, a failed conditional write too, and a write
    that sets a GSI key attribute costs the same again in the index (projection ALL).
    Item sizes are not known at call time, so each write is counted as 1 KB and the
    run checks afterwards, by scanning the tables, that no item is larger (see
    `max_item_bytes`); a consistent read costs 1 RCU per 4 KB, an eventual one half.
    Updates to an item that already carries a GSI key (a status after `accepted`)
    also write the index; the sender makes none, so they are not looked for.
"""

from __future__ import annotations

import copy
import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

_WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
_NAME = re.compile(r"#?[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class OpStats:
    calls: int = 0
    attempts: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    wire_s: float = 0.0
    client_s: float = 0.0
    wcu_estimated: float = 0.0
    rcu_estimated: float = 0.0
    capacity_reported: float = 0.0
    wire_samples: list[float] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CallRecord:
    recorder: str
    service: str
    operation: str
    started: float  # perf_counter
    ended: float
    wire_s: float
    thread: str


class AwsCallRecorder:
    """Counts the calls of the clients attached to it; safe from any thread."""

    def __init__(self, name: str, *, gsi_keys: dict[str, set[str]] | None = None) -> None:
        self.name = name
        self.gsi_keys = gsi_keys or {}
        self.stats: dict[tuple[str, str], OpStats] = defaultdict(OpStats)
        self.calls: list[CallRecord] = []
        # While `capturing`, the parameters of the first call of each request shape are kept
        # (see `shape_of`), to be replayed one by one against the server afterwards.
        self.capturing = False
        self.captured: dict[str, tuple[str, dict[str, Any]]] = {}
        self.shape_counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._local = threading.local()

    def attach(self, client: Any, *, ask_capacity: bool = True) -> Any:
        events = client.meta.events
        events.register("before-parameter-build", self._on_params)
        if ask_capacity:
            events.register("before-parameter-build.dynamodb", self._ask_capacity)
        events.register("before-send", self._on_send)
        events.register("before-parse", self._on_response)
        events.register("after-call", self._on_after_call)
        return client

    # -- event handlers (they must return None: a value would replace the request) ------

    @staticmethod
    def _ask_capacity(params: dict[str, Any], model: Any, **_: Any) -> None:
        members = model.input_shape.members if model.input_shape is not None else {}
        if "ReturnConsumedCapacity" in members and "ReturnConsumedCapacity" not in params:
            params["ReturnConsumedCapacity"] = "TOTAL"

    def _on_params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        local = self._local
        local.started = time.perf_counter()
        local.sent = None
        local.received = None
        local.attempts = 0
        local.wire_s = 0.0
        local.capacity = self._estimate(model.name, params) if self._is_dynamodb(model) else None
        shape = shape_of(model.service_model.service_name, model.name, params)
        with self._lock:
            self.shape_counts[shape] += 1
        if self.capturing:
            with self._lock:
                if shape not in self.captured:
                    self.captured[shape] = (model.name, copy.deepcopy(params))

    def _on_send(self, **_: Any) -> None:
        local = self._local
        local.sent = time.perf_counter()
        local.attempts = getattr(local, "attempts", 0) + 1

    def _on_response(self, **_: Any) -> None:
        local = self._local
        now = time.perf_counter()
        local.received = now
        if getattr(local, "sent", None) is not None:
            local.wire_s = getattr(local, "wire_s", 0.0) + (now - local.sent)

    def _on_after_call(
        self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any
    ) -> None:
        ended = time.perf_counter()
        local = self._local
        service = model.service_model.service_name
        operation = model.name
        started = getattr(local, "started", ended)
        wire_s = getattr(local, "wire_s", 0.0)
        capacity = getattr(local, "capacity", None)
        error = None
        if http_response is not None and http_response.status_code >= 300:
            error = str(parsed.get("Error", {}).get("Code", http_response.status_code))
        reported = _reported_capacity(parsed.get("ConsumedCapacity"))
        record = CallRecord(
            self.name,
            service,
            operation,
            started,
            ended,
            wire_s,
            threading.current_thread().name,
        )
        with self._lock:
            stats = self.stats[(service, operation)]
            stats.calls += 1
            stats.attempts += max(1, getattr(local, "attempts", 1))
            stats.wire_s += wire_s
            stats.client_s += max(0.0, (ended - started) - wire_s)
            stats.wire_samples.append(wire_s)
            stats.capacity_reported += reported
            if error is not None:
                stats.errors[error] += 1
            if capacity is not None:
                stats.wcu_estimated += capacity[0]
                stats.rcu_estimated += capacity[1]
            self.calls.append(record)

    # -- capacity estimate -------------------------------------------------------------

    @staticmethod
    def _is_dynamodb(model: Any) -> bool:
        return bool(model.service_model.service_name == "dynamodb")

    def _estimate(self, operation: str, params: dict[str, Any]) -> tuple[float, float]:
        """(WCU, RCU) of one call by DynamoDB's rules, items taken as at most 1 KB / 4 KB."""
        if operation in _WRITES:
            return 1.0 + self._index_writes(params), 0.0
        if operation == "GetItem":
            return 0.0, 1.0 if params.get("ConsistentRead") else 0.5
        if operation == "BatchGetItem":
            units = 0.0
            for request in params.get("RequestItems", {}).values():
                per_key = 1.0 if request.get("ConsistentRead") else 0.5
                units += per_key * len(request.get("Keys", []))
            return 0.0, units
        if operation == "BatchWriteItem":
            writes = sum(len(v) for v in params.get("RequestItems", {}).values())
            return float(writes), 0.0
        if operation == "TransactWriteItems":
            return 2.0 * len(params.get("TransactItems", [])), 0.0
        if operation in ("Query", "Scan"):
            return 0.0, 0.5  # at least; not made by the sender
        return 0.0, 0.0

    def _index_writes(self, params: dict[str, Any]) -> int:
        keys = self.gsi_keys.get(str(params.get("TableName", "")), set())
        if not keys:
            return 0
        if "Item" in params:  # PutItem
            return sum(1 for k in keys if k in params["Item"])
        expression = str(params.get("UpdateExpression", ""))
        set_part = expression.split("REMOVE")[0]
        names = params.get("ExpressionAttributeNames", {})
        touched = {names.get(token, token) for token in _NAME.findall(set_part)}
        return sum(1 for k in keys if k in touched)

    # -- summaries ---------------------------------------------------------------------

    def total_calls(self) -> int:
        return sum(s.calls for s in self.stats.values())


def shape_of(service: str, operation: str, params: dict[str, Any]) -> str:
    """A readable name for the kind of request: operation, table and key family."""
    if service != "dynamodb":
        return f"{service} {operation}"
    table = str(params.get("TableName", ""))
    if operation == "BatchGetItem":
        requested = params.get("RequestItems", {})
        keys = sum(len(v.get("Keys", [])) for v in requested.values())
        return f"BatchGetItem {','.join(sorted(requested))} x{keys}"
    pk = str(params.get("Key", {}).get("pk", {}).get("S", ""))
    family = (
        "#".join(pk.split("#")[:2])
        if pk.startswith(("limit#", "breaker#", "config#"))
        else pk.split("#")[0]
    )
    what = ""
    if operation == "UpdateItem":
        expression = str(params.get("UpdateExpression", ""))
        what = (
            " claim" if ":sending" in expression else " status" if "#t = :at" in expression else ""
        )
    return f"{operation} {table} {family}{what}".strip()


def _reported_capacity(consumed: Any) -> float:
    if isinstance(consumed, dict):
        return float(consumed.get("CapacityUnits", 0.0) or 0.0)
    if isinstance(consumed, list):
        return sum(_reported_capacity(c) for c in consumed)
    return 0.0


# -- DynamoDB item size, by the published rules ----------------------------------------


def _number_bytes(value: str) -> int:
    digits = value.lstrip("-").replace(".", "").lstrip("0") or "0"
    significant = digits.rstrip("0") or "0"
    return 1 + (len(significant) + 1) // 2


def attribute_bytes(value: dict[str, Any]) -> int:
    (kind, raw), *_ = value.items()
    if kind == "S":
        return len(str(raw).encode())
    if kind == "N":
        return _number_bytes(str(Decimal(str(raw))))
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in raw)
    if kind == "NS":
        return sum(_number_bytes(n) for n in raw)
    if kind == "BS":
        return sum(len(b) for b in raw)
    if kind == "L":
        return 3 + sum(1 + attribute_bytes(v) for v in raw)
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + attribute_bytes(v) for k, v in raw.items())
    return len(str(raw))


def item_bytes(item: dict[str, dict[str, Any]]) -> int:
    return sum(len(name.encode()) + attribute_bytes(value) for name, value in item.items())


def max_item_bytes(dynamodb: Any, table: str) -> tuple[int, int]:
    """(largest item in bytes, item count) of a table, by a full scan."""
    largest = 0
    count = 0
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        page = dynamodb.scan(**kwargs)
        for item in page.get("Items", []):
            largest = max(largest, item_bytes(item))
            count += 1
        if "LastEvaluatedKey" not in page:
            return largest, count
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
