"""``pixy-whatsapp local --demo N``: send N messages, wait until each one is terminal, report.

Half of the messages go through ``POST /v1/messages`` (batches of up to 100), half
straight onto the outbound queue with ``enqueue()``, as other systems would; they are
spread over every demo WABA and phone number, two messages per recipient (so
per-recipient order is exercised) and many recipients (so the pair limit, kept at Meta's
real 1 message per 6 s, is not what the demo measures).

**Terminal.** ``accepted`` is not terminal: a message is terminal once its record shows
``read`` or ``failed``, or ``delivered`` when no further webhook can change it. The
simulator of the local stack sends ``delivered`` for every accepted message (its
``delivered_probability`` is 1) and ``read`` for some, so the demo waits until every
message is ``delivered``/``read``/``failed`` *and* the simulator has no webhook left to
post *and* the inbound queue is drained; the counts are then final. Against Meta's real
Graph API (no simulator) a message that was accepted counts as terminal, since Meta's
webhooks only reach a laptop through a public tunnel. Whatever is not terminal when the
time runs out is **lost** (so is a message whose record never appeared).

**Sent twice.** The simulator records every send it accepted with its
``biz_opaque_callback_data`` (our message id): an id accepted more than once is a
duplicate.

The last line of the report is one JSON object (``sent``, ``delivered``, ``read``,
``failed``, ``lost``, ``duplicates``, ``mps``, ``p50_ms``, ``p95_ms``, ``p99_ms``, and a few
more); ``delivered``/``read``/``failed`` count messages by their final status, and the
latency percentiles are end to end, from enqueue to Meta's acceptance, from the records.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from infra.local.stack.emf import percentile
from infra.topology import FunctionKey, QueueKey

if TYPE_CHECKING:
    from infra.local.stack.runner import LocalStack

API_BATCH = 100
_POLL_S = 1.0
_FINAL = frozenset({"delivered", "read", "failed"})
_ACCEPTED_OR_LATER = frozenset({"accepted", "sent", "delivered", "read", "failed"})
_RANK = {
    "queued": 0,
    "sending": 1,
    "accepted": 2,
    "sent": 3,
    "delivered": 4,
    "read": 5,
    "failed": 9,
}


@dataclass(frozen=True)
class Submission:
    """One message the demo handed over, and how."""

    index: int
    id: str | None
    via: str  # "api" or "enqueue"
    submitted_at: float
    error: str | None = None


@dataclass
class DemoResult:
    count: int
    submissions: list[Submission]
    records: dict[str, dict[str, Any]]
    started_at: float
    finished_at: float
    settled: bool
    accepted_by_callback: dict[str, int] = field(default_factory=dict)
    emf: dict[str, Any] = field(default_factory=dict)
    simulator: dict[str, Any] = field(default_factory=dict)
    dlq: dict[str, int] = field(default_factory=dict)
    simulated: bool = True

    # -- figures ---------------------------------------------------------------------------

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.submissions if s.id is not None and s.error is None]

    @property
    def submit_errors(self) -> list[Submission]:
        return [s for s in self.submissions if s.error is not None]

    def final_status(self, message_id: str) -> str | None:
        record = self.records.get(message_id)
        status = record.get("st") if record else None
        return str(status) if status is not None else None

    def is_terminal(self, message_id: str) -> bool:
        status = self.final_status(message_id)
        final = _FINAL if self.simulated else _ACCEPTED_OR_LATER
        return status in final

    @property
    def status_counts(self) -> Counter[str]:
        return Counter(self.final_status(i) or "missing" for i in self.ids)

    @property
    def lost(self) -> list[str]:
        return [i for i in self.ids if not self.is_terminal(i)]

    @property
    def duplicates(self) -> dict[str, int]:
        wanted = set(self.ids)
        return {k: v for k, v in self.accepted_by_callback.items() if k in wanted and v > 1}

    @property
    def extra_sends(self) -> int:
        return sum(v - 1 for v in self.duplicates.values())

    def e2e_latencies_ms(self) -> list[float]:
        values = []
        for message_id in self.ids:
            record = self.records.get(message_id) or {}
            start, accepted = record.get("enqueued_at_ms"), record.get("t_accepted")
            if start is not None and accepted is not None:
                values.append(float(accepted) - float(start))
        return values

    @property
    def accepted_count(self) -> int:
        return sum(1 for i in self.ids if (self.records.get(i) or {}).get("t_accepted") is not None)

    @property
    def mps(self) -> float:
        """Messages Meta accepted per second, from the first hand-over to the last acceptance."""
        accepted = [
            float(record["t_accepted"]) / 1000
            for record in self.records.values()
            if record.get("t_accepted") is not None
        ]
        if not accepted:
            return 0.0
        span = max(accepted) - self.started_at
        return len(accepted) / span if span > 0 else float(len(accepted))

    def non_monotonic(self) -> list[str]:
        """Ids whose final status is not the furthest status their record saw."""
        wrong = []
        for message_id in self.ids:
            record = self.records.get(message_id)
            if not record:
                continue
            seen = [s for s in _RANK if record.get(f"t_{s}") is not None]
            if not seen:
                continue
            furthest = max(seen, key=lambda s: _RANK[s])
            if record.get("st") != furthest:
                wrong.append(message_id)
        return wrong

    def error_classes(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for message_id in self.ids:
            record = self.records.get(message_id) or {}
            error = record.get("error")
            if record.get("st") == "failed" and isinstance(error, dict):
                label = str(error.get("error_class") or error.get("reason") or "unknown")
                if error.get("code") is not None:
                    label += f" ({error['code']})"
                counts[label] += 1
        return counts

    def summary(self) -> dict[str, Any]:
        counts = self.status_counts
        latencies = self.e2e_latencies_ms()
        return {
            "sent": len(self.submissions),
            "delivered": counts.get("delivered", 0),
            "read": counts.get("read", 0),
            "failed": counts.get("failed", 0),
            "lost": len(self.lost),
            "duplicates": self.extra_sends,
            "mps": round(self.mps, 2),
            "p50_ms": _round(percentile(latencies, 50)),
            "p95_ms": _round(percentile(latencies, 95)),
            "p99_ms": _round(percentile(latencies, 99)),
            "accepted": self.accepted_count,
            "submit_errors": len(self.submit_errors),
            "graph_p50_ms": _round(_emf_stat(self.emf, "GraphLatencyMs", "p50")),
            "graph_p95_ms": _round(_emf_stat(self.emf, "GraphLatencyMs", "p95")),
            "graph_p99_ms": _round(_emf_stat(self.emf, "GraphLatencyMs", "p99")),
            "ambiguous_resends": int(_emf_stat(self.emf, "AmbiguousResends", "sum") or 0),
            "seconds": round(self.finished_at - self.started_at, 2),
        }

    @property
    def ok(self) -> bool:
        return not self.lost and not self.duplicates and not self.submit_errors

    def report_lines(self) -> list[str]:
        summary = self.summary()
        via = Counter(s.via for s in self.submissions)
        lines = [
            f"Demo: {summary['sent']} messages ({via.get('api', 0)} via POST /v1/messages, "
            f"{via.get('enqueue', 0)} via enqueue())",
            f"  finished in {summary['seconds']:.1f} s"
            + ("" if self.settled else " (time ran out before every message was terminal)"),
            f"  throughput: {summary['mps']:.1f} messages/s accepted by the Graph API "
            f"({summary['accepted']} accepted)",
        ]
        lines.append("  latency (ms)            p50      p95      p99      n")
        for label, values in (
            ("Graph API call", self._emf_row("GraphLatencyMs")),
            ("enqueue->accepted", self._row(self.e2e_latencies_ms())),
            ("  (EMF, all sends)", self._emf_row("EnqueueToAcceptedMs")),
            ("accepted->delivered", self._emf_row("DeliveryLatencyMs")),
        ):
            lines.append(f"    {label:<20}{values}")
        counts = self.status_counts
        lines.append(
            "  final status: "
            + ", ".join(f"{name} {counts[name]}" for name in sorted(counts, key=_status_order))
        )
        errors = self.error_classes()
        lines.append(
            "  failures by class: "
            + (", ".join(f"{k} {v}" for k, v in errors.most_common()) or "none")
        )
        for label, metric in (
            ("retries", "Retries"),
            ("throttled", "Throttled"),
            ("ambiguous sends", "AmbiguousSends"),
            ("ambiguous re-sends", "AmbiguousResends"),
            ("redeliveries skipped", "RedeliveriesSkipped"),
            ("webhooks accepted", "WebhooksAccepted"),
            ("webhooks rejected", "WebhooksRejected"),
            ("statuses applied", "StatusesApplied"),
        ):
            value = _emf_stat(self.emf, metric, "sum")
            if value:
                lines.append(f"  {label}: {int(value)}")
        if self.simulator:
            rejections = self.simulator.get("rejections") or {}
            faults = self.simulator.get("faults") or {}
            if rejections:
                lines.append(f"  Graph API error answers by code: {rejections}")
            if faults:
                lines.append(f"  faults injected: {faults}")
        if self.dlq:
            lines.append(f"  dead-letter queues: {self.dlq}")
        lines.append(
            f"  lost: {summary['lost']}    sent twice: {len(self.duplicates)} messages "
            f"({summary['duplicates']} extra sends)"
        )
        if self.lost:
            sample = self.lost[:5]
            lines.append(
                "  not terminal: "
                + ", ".join(f"{i} ({self.final_status(i) or 'no record'})" for i in sample)
                + (" ..." if len(self.lost) > len(sample) else "")
            )
        if self.submit_errors:
            lines.append(f"  refused at hand-over: {len(self.submit_errors)}")
            lines.append(f"    first: {self.submit_errors[0].error}")
        lines.append(json.dumps(summary, separators=(",", ":")))
        return lines

    def _emf_row(self, metric: str) -> str:
        series = _emf_series(self.emf, metric)
        if series is None:
            return "       -        -        -      0"
        return _fmt_row(series.get("p50"), series.get("p95"), series.get("p99"), series["count"])

    @staticmethod
    def _row(values: list[float]) -> str:
        return _fmt_row(
            percentile(values, 50), percentile(values, 95), percentile(values, 99), len(values)
        )


def _status_order(name: str) -> int:
    return _RANK.get(name, 99)


def _fmt_row(p50: float | None, p95: float | None, p99: float | None, count: int) -> str:
    def cell(value: float | None) -> str:
        return f"{value:8.0f} " if value is not None else "       - "

    return f"{cell(p50)}{cell(p95)}{cell(p99)}{count:6d}"


def _round(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def _emf_series(emf: dict[str, Any], metric: str) -> dict[str, Any] | None:
    matches = [
        s
        for s in emf.get("series", [])
        if s["metric"] == metric and set(s["dimensions"]) <= {"service"}
    ]
    return matches[0] if matches else None


def _emf_stat(emf: dict[str, Any], metric: str, stat: str) -> float | None:
    series = _emf_series(emf, metric)
    value = series.get(stat) if series else None
    return float(value) if value is not None else None


# --- running the demo -----------------------------------------------------------------------


def plan_messages(
    stack: LocalStack, count: int, *, only_recipient: str | None = None
) -> list[dict[str, Any]]:
    """The demo's send requests (as JSON objects): two per recipient, all numbers in turn.

    ``only_recipient`` sends everything to one number (a real test phone, with Meta's
    Graph API; Meta's pair limit then allows about one message every 6 s).
    """
    numbers = [(waba.waba_id, n.phone_number_id) for waba in stack.wabas for n in waba.numbers]
    run = int(time.time())
    planned = []
    for index in range(count):
        recipient = index // 2
        waba_id, phone_number_id = numbers[recipient % len(numbers)]
        planned.append(
            {
                "id": f"demo{run}x{index:06d}",
                "waba_id": waba_id,
                "phone_number_id": phone_number_id,
                "to": only_recipient or f"1555{run % 1000:03d}{recipient:06d}",
                "message": {"type": "text", "text": {"body": f"pixy-whatsapp demo #{index}"}},
                "category": "utility",
                "client_reference": f"demo-{run}-{index}",
                "idempotency_key": f"demo-{run}-{index}",
                "metadata": {"demo_index": index},
            }
        )
    return planned


def submit_via_api(
    api_url: str, batch: Sequence[tuple[int, dict[str, Any]]], client: httpx.Client
) -> list[Submission]:
    """``POST /v1/messages`` with up to 100 requests; the answer has an entry per message."""
    at = time.time()
    try:
        response = client.post(
            f"{api_url}/v1/messages", json={"messages": [body for _, body in batch]}
        )
    except httpx.HTTPError as error:
        return [
            Submission(i, None, "api", at, f"{type(error).__name__}: {error}") for i, _ in batch
        ]
    if response.status_code not in (200, 201, 202, 207):
        reason = f"HTTP {response.status_code}: {response.text[:300]}"
        return [Submission(i, None, "api", at, reason) for i, _ in batch]
    entries = _entries_from_answer(response.json(), len(batch))
    submissions = []
    for (index, body), entry in zip(batch, entries, strict=True):
        message_id = str(entry.get("id") or body.get("id") or "") or None
        status = entry.get("status")
        problem = None
        if message_id is None:
            problem = "no id in the answer"
        elif status not in ("queued", "duplicate"):
            problem = f"{status}: {entry.get('reason') or entry.get('detail') or ''}".strip()
        submissions.append(Submission(index, message_id, "api", at, problem))
    return submissions


def _entries_from_answer(answer: Any, expected: int) -> list[dict[str, Any]]:
    items = answer.get("messages") if isinstance(answer, dict) else None
    entries = [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []
    return (entries + [{}] * expected)[:expected]


def submit_via_queue(
    stack: LocalStack, batch: Sequence[tuple[int, dict[str, Any]]]
) -> list[Submission]:
    from pixy_whatsapp.outbound import SendRequest, enqueue

    at = time.time()
    requests = [SendRequest.model_validate(body) for _, body in batch]
    results = enqueue(
        stack.clients.client("sqs"),
        stack.queue_url(QueueKey.OUTBOUND),
        requests,
        shard_count=stack.settings.shard_count,
    )
    return [
        Submission(i, result.id, "enqueue", at, None if result.ok else result.error)
        for (i, _), result in zip(batch, results, strict=True)
    ]


def fetch_records(stack: LocalStack, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The message records of ``ids``, flattened to ``st``, ``t_<status>``,
    ``enqueued_at_ms``, ``error`` and ``attempts``."""
    from pixy_whatsapp.statuses import MessageStore

    store = MessageStore(stack.clients.client("dynamodb"), stack.settings.messages_table)
    found: dict[str, dict[str, Any]] = {}
    for record in store.get_many(ids).values():
        flat: dict[str, Any] = {
            "id": record.id,
            "st": record.status.value,
            "attempts": record.attempts,
            "enqueued_at_ms": record.enqueued_at_ms,
            "error": record.error.model_dump() if record.error else None,
        }
        for entry in record.history:
            flat[f"t_{entry.status.value}"] = entry.at_ms
        found[record.id] = flat
    return found


def run_demo(
    stack: LocalStack,
    count: int,
    *,
    timeout_s: float | None = None,
    api_share: float = 0.5,
    progress: Callable[[str], None] | None = None,
    only_recipient: str | None = None,
    tick: Callable[[DemoResult], None] | None = None,
) -> DemoResult:
    """Send ``count`` messages, wait for every one to be terminal (bounded), gather figures.

    ``tick`` is called with the result so far once per poll (about every second) while
    waiting: tests use it to act during the run (restore a token, fast-forward a delay).
    """
    say = progress or (lambda _line: None)
    limit = timeout_s if timeout_s is not None else 60.0 + count * 0.25
    planned = plan_messages(stack, count, only_recipient=only_recipient)
    api_pool = stack.pools.get(FunctionKey.API)
    use_api = api_pool is not None and api_pool.available
    via_api = math.floor(count * api_share) if use_api else 0
    indexed = list(enumerate(planned))
    api_part, queue_part = indexed[:via_api], indexed[via_api:]
    if not use_api and count:
        say("the api function does not exist yet: every demo message goes through enqueue()")

    started = time.time()
    submissions: list[Submission] = []
    with httpx.Client(timeout=60.0) as client:
        # Interleaved, so both paths are busy at the same time.
        api_batches = [api_part[i : i + API_BATCH] for i in range(0, len(api_part), API_BATCH)]
        queue_batches = [
            queue_part[i : i + API_BATCH] for i in range(0, len(queue_part), API_BATCH)
        ]
        for step in range(max(len(api_batches), len(queue_batches))):
            if step < len(api_batches):
                submissions.extend(submit_via_api(stack.api_url, api_batches[step], client))
            if step < len(queue_batches):
                submissions.extend(submit_via_queue(stack, queue_batches[step]))
    say(
        f"handed over {len(submissions)} messages in {time.time() - started:.1f} s; "
        "waiting until every one is terminal"
    )

    result = DemoResult(
        count=count,
        submissions=submissions,
        records={},
        started_at=started,
        finished_at=started,
        settled=False,
        simulated=stack.has_simulator,
    )
    deadline = started + limit
    last_note = time.monotonic()
    while True:
        open_ids = [i for i in result.ids if not _settled_status(result, i)]
        result.records.update(fetch_records(stack, open_ids))
        if _all_terminal(stack, result):
            result.settled = True
            break
        if time.time() > deadline:
            break
        if tick is not None:
            tick(result)
        if time.monotonic() - last_note > 5:
            last_note = time.monotonic()
            counts = result.status_counts
            ordered = sorted(counts.items(), key=lambda item: _status_order(item[0]))
            line = ", ".join(f"{name} {number}" for name, number in ordered)
            if all(result.is_terminal(i) for i in result.ids):
                line += f" (settling: {_unsettled(stack)})"
            say("  " + line)
        time.sleep(_POLL_S)
    result.records.update(fetch_records(stack, result.ids))
    result.finished_at = time.time()
    result.emf = stack.emf.snapshot(since=started - 1)
    if stack.has_simulator:
        result.accepted_by_callback = stack.simulator.accepted_by_callback_data()
        state = stack.simulator.state()
        result.simulator = {
            "rejections": state.get("rejections"),
            "faults": state.get("faults"),
            "webhooks": state.get("webhooks"),
        }
    for key in (QueueKey.OUTBOUND, QueueKey.INBOUND):
        depth = stack.queue_depth(key, dlq=True)
        total = depth["visible"] + depth["in_flight"]
        if total:
            result.dlq[f"{key}-dlq"] = total
    return result


def _settled_status(result: DemoResult, message_id: str) -> bool:
    # read and failed cannot change any more; delivered can still become read.
    status = result.final_status(message_id)
    return status in ("read", "failed") or (not result.simulated and result.is_terminal(message_id))


def _all_terminal(stack: LocalStack, result: DemoResult) -> bool:
    if not all(result.is_terminal(i) for i in result.ids):
        return False
    if not stack.has_simulator:
        return True
    if stack.simulator.state().get("webhooks_pending"):
        return False
    inbound = stack.queue_depth(QueueKey.INBOUND)
    # A record the inbound function handed back (say, a duplicate status that another
    # invocation was applying at that moment) waits out its visibility timeout, 3 minutes,
    # as in AWS; it cannot change a terminal message, so the demo does not wait for it.
    poller = stack.pollers.get(FunctionKey.INBOUND)
    handed_back = poller.handed_back if poller is not None else 0
    return inbound["visible"] + inbound["delayed"] + max(0, inbound["in_flight"] - handed_back) == 0


def _unsettled(stack: LocalStack) -> str:
    """What the demo still waits for once every message looks terminal."""
    parts = []
    if stack.has_simulator:
        parts.append(f"webhooks pending {stack.simulator.state().get('webhooks_pending')}")
    inbound = stack.queue_depth(QueueKey.INBOUND)
    parts.append(
        "inbound queue "
        + ", ".join(f"{name} {number}" for name, number in inbound.items() if number)
        if any(inbound.values())
        else "inbound queue empty"
    )
    return "; ".join(parts)
