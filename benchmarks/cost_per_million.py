"""Cost per 1,000,000 messages: every billed unit counted on the local stack, priced.

    .venv/bin/python -m benchmarks.cost_per_million [--messages 300] [--ways A1,A100,B]
                                                     [--statuses-per-post 1] [--write-results]

What it does:

1. starts the local stack (``infra.local.stack``: moto server, the Graph API simulator,
   the HTTP API, the queue pollers and the same handlers) with the deployed log level
   (INFO) and secret cache age (300 s), and a simulator that accepts every send and posts
   three status webhooks for each message (``sent``, ``delivered``, ``read``), one status
   per POST, with no duplicate or reordered webhooks;
2. meters it (``benchmarks._local_meter``): every AWS request of the handlers' and the
   pollers' clients, from botocore's events (DynamoDB units estimated by DynamoDB's rules,
   SQS and EventBridge 64 KB chunks), every Lambda invocation with its wall time, every
   HTTP API request, and the log bytes the handlers write;
3. for each way of handing messages over, one after another on the same stack:
   A1 ``POST /v1/messages`` with 1 message per request, A100 with 100 per request, B
   ``pixy_whatsapp.outbound.enqueue`` (SendMessageBatch of 10) on the caller's client;
   waits until every message is ``read`` and the queues are drained, and takes what the
   phase used;
4. prices it with the list prices of ``aws-facts.md`` §5.1 (``benchmarks._local_prices``)
   and prints, per way, a line-by-line table in dollars per 1,000,000 messages.

moto server is slow (about 20 messages/s end to end with three webhooks each), so a few
hundred messages per way keep the run to a few minutes; per-message figures settle well
before that (the per-batch lines are the only ones that move with the size).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks._aws_calls import max_item_bytes
from benchmarks._local_drive import Monitor, plan, submit_api, submit_enqueue, wait_settled
from benchmarks._local_meter import FunctionUsage, StackMeter, Usage
from benchmarks._local_prices import (
    SOURCE,
    CostLine,
    Quantity,
    cost_lines,
    lambda_quantities,
    log_gb,
    total,
)
from infra.topology import QueueKey, Topology

ROOT = Path(__file__).resolve().parent.parent
TARGET_USD = 8.0
FUNCTION_ORDER = ("api", "sender", "webhook", "inbound", "subscriptions")
# What aws-facts.md §5.2 assumed per invocation, where it assumed anything: the sender
# 50 ms per batch of 10, the webhook function 50 ms, the send API ("ingest") 20 ms for one
# message per request. It has no figure for the inbound function or for 100 per request.
ASSUMED_MS: dict[tuple[str, str], float] = {
    ("sender", "*"): 50.0,
    ("webhook", "*"): 50.0,
    ("api", "A1"): 20.0,
}


@dataclass(frozen=True)
class Way:
    key: str
    title: str
    via: str  # "api" or "enqueue"
    per_request: int = 100


WAYS: dict[str, Way] = {
    "A1": Way("A1", "send API, 1 message per request", "api", 1),
    "A100": Way("A100", "send API, 100 messages per request", "api", 100),
    "B": Way("B", "enqueue(): SendMessageBatch of 10, no API", "enqueue"),
}


@dataclass
class Phase:
    way: Way
    messages: int
    usage: Usage
    seconds: float
    handover_s: float
    requests: int
    statuses: Counter[str]
    submit_errors: list[str]
    duplicates: int
    timed_out: bool
    webhook_posts: dict[str, int] = field(default_factory=dict)  # the simulator's counts
    lines: list[CostLine] = field(default_factory=list)
    assumed_lines: list[CostLine] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            not self.timed_out
            and not self.submit_errors
            and self.duplicates == 0
            and self.statuses.get("read", 0) == self.messages
        )


# -- running ------------------------------------------------------------------------------


def stack_config(statuses_per_post: int) -> Any:
    from infra.local.stack.runner import LOCAL_SETTINGS, LocalConfig

    # The local stack refreshes secrets every 5 s (for the token-rotation drill); the
    # deployed default (300 s) is what a bill sees.
    settings = {k: v for k, v in LOCAL_SETTINGS.items() if k != "secret_max_age_seconds"}
    return LocalConfig(
        http_port=0,
        log_level="INFO",  # infra/config.py's default for a deployed stage
        settings=settings,
        webhook_duplicate_rate=0.0,
        webhook_reorder_rate=0.0,
        webhook_max_statuses_per_post=statuses_per_post,
        webhook_batch_window_seconds=0.0 if statuses_per_post == 1 else 0.2,
        delivered_probability=1.0,
        read_probability=1.0,
    )


def gsi_keys(topology: Topology) -> dict[str, set[str]]:
    """GSI partition keys by table name: a write that sets one also writes the index."""
    return {
        topology.table_name(spec.key): {index.partition_key for index in spec.indexes}
        for spec in topology.tables
        if spec.indexes
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    from infra.local.stack.runner import LocalStack

    say = print if args.verbose else (lambda *_a, **_k: None)
    config = stack_config(args.statuses_per_post)
    meter = StackMeter(gsi_keys(Topology(config.stage)))
    stack = LocalStack(config, aws_session_hook=meter.session_hook)
    started_at = datetime.now(UTC)
    load_before = os.getloadavg()
    phases: list[Phase] = []
    stack.start()
    try:
        with meter.attached(stack):
            monitor = Monitor(stack)
            caller = monitor.caller_sqs()
            meter.caller_recorder(caller)
            first_recipient = 0
            for name in args.ways:
                way = WAYS[name]
                say(f"{way.key}: {args.messages} messages, {way.title}", file=sys.stderr)
                phases.append(
                    run_phase(stack, meter, monitor, caller, way, args, first_recipient, say)
                )
                first_recipient += args.messages
            item_bytes = {
                str(spec.key): max_item_bytes(monitor.dynamodb, stack.topology.table_name(spec.key))
                for spec in stack.topology.tables
            }
            table_keys = {
                stack.topology.table_name(spec.key): str(spec.key) for spec in stack.topology.tables
            }
            queue_labels = queue_names(stack)
    finally:
        stack.stop()
    for phase in phases:
        price_phase(phase, item_bytes, table_keys, queue_labels)
    return {
        "phases": phases,
        "item_bytes": item_bytes,
        "started_at": started_at,
        "load": (load_before, os.getloadavg()),
        "memory": {str(spec.key): spec.memory_mb for spec in stack.topology.functions},
    }


def run_phase(
    stack: Any,
    meter: StackMeter,
    monitor: Monitor,
    caller: Any,
    way: Way,
    args: argparse.Namespace,
    first_recipient: int,
    say: Any,
) -> Phase:
    tag = f"{way.key.lower()}{int(time.time()) % 100_000}"
    messages = plan(stack, args.messages, tag, first_recipient)
    webhooks_before = dict(stack.simulator.state().get("webhooks") or {})
    before = meter.snapshot()
    started = time.time()
    if way.via == "api":
        handover = submit_api(stack.api_url, messages, way.per_request, args.api_concurrency)
    else:
        handover = submit_enqueue(
            caller, stack.queue_url(QueueKey.OUTBOUND), messages, stack.settings.shard_count
        )
    settled = wait_settled(
        monitor,
        handover.ids,
        timeout_s=args.timeout,
        progress=lambda line: say(line, file=sys.stderr),
    )
    after = meter.snapshot()
    usage = meter.usage_between(before, after)
    webhooks_after = dict(stack.simulator.state().get("webhooks") or {})
    webhook_posts = {
        name: int(webhooks_after.get(name, 0)) - int(webhooks_before.get(name, 0))
        for name in ("statuses_delivered", "posts_delivered", "failed_attempts", "posts_given_up")
    }
    accepted = stack.simulator.accepted_by_callback_data()
    wanted = set(handover.ids)
    duplicates = sum(n - 1 for k, n in accepted.items() if k in wanted and n > 1)
    seconds = (settled.settled_at or time.time()) - started
    usage.seconds = seconds
    return Phase(
        way=way,
        messages=len(messages),
        usage=usage,
        seconds=seconds,
        handover_s=handover.finished - handover.started,
        requests=handover.requests,
        statuses=Counter(settled.records.get(i, {}).get("status", "missing") for i in handover.ids),
        submit_errors=handover.errors,
        duplicates=duplicates,
        timed_out=settled.timed_out,
        webhook_posts=webhook_posts,
    )


def queue_names(stack: Any) -> dict[str, str]:
    labels = {}
    for key in (QueueKey.OUTBOUND, QueueKey.INBOUND):
        for url, suffix in ((stack.queue_url(key), ""), (stack.dlq_url(key), " DLQ")):
            name = url.rsplit("/", 1)[-1]
            kind = "FIFO" if name.endswith(".fifo") else "standard"
            labels[name] = f"{key}{suffix} ({kind})"
    return labels


# -- pricing ------------------------------------------------------------------------------


_SQS_WHO = {
    ("SendMessageBatch", "handlers"): "the api function",
    ("SendMessage", "handlers"): "the webhook function",
    ("SendMessageBatch", "caller"): "the caller's enqueue()",
    ("ReceiveMessage", "event source mappings"): "event source mapping",
    ("DeleteMessageBatch", "event source mappings"): "event source mapping",
    ("ChangeMessageVisibility", "handlers"): "the sender",
    ("ChangeMessageVisibilityBatch", "handlers"): "the sender",
}


def price_phase(
    phase: Phase,
    item_bytes: dict[str, tuple[int, int]],
    table_keys: dict[str, str],
    queue_labels: dict[str, str],
) -> None:
    quantities, unpriced = measured_quantities(phase, item_bytes, table_keys, queue_labels)
    phase.lines = cost_lines(quantities, phase.messages)
    phase.unpriced = unpriced
    assumed = [q for q in quantities if not _is_duration(q)]
    for usage in _ordered(phase.usage.functions):
        assumed_ms = ASSUMED_MS.get(
            (usage.function, "*"), ASSUMED_MS.get((usage.function, phase.way.key))
        )
        billed = usage.invocations * assumed_ms if assumed_ms is not None else usage.billed_ms
        assumed += [
            q
            for q in lambda_quantities(
                f"λ {usage.function}", usage.invocations, billed, usage.memory_mb
            )
            if _is_duration(q)
        ]
    phase.assumed_lines = cost_lines(assumed, phase.messages)


def _is_duration(quantity: Quantity) -> bool:
    return quantity.price == "lambda_gb_s"


def _ordered(functions: dict[str, FunctionUsage]) -> list[FunctionUsage]:
    return sorted(
        functions.values(),
        key=lambda f: FUNCTION_ORDER.index(f.function) if f.function in FUNCTION_ORDER else 99,
    )


def measured_quantities(
    phase: Phase,
    item_bytes: dict[str, tuple[int, int]],
    table_keys: dict[str, str],
    queue_labels: dict[str, str],
) -> tuple[list[Quantity], list[str]]:
    usage = phase.usage
    quantities: list[Quantity] = []
    unpriced: list[str] = []

    # API Gateway HTTP API
    for route, label in (("ANY /v1/{proxy+}", "send API"), ("POST /webhook", "webhook")):
        requests = usage.http.get(route)
        if requests:
            size = requests.get("bytes", 0) / max(1.0, requests.get("calls", 1))
            quantities.append(
                Quantity(
                    f"HTTP API: {label} requests",
                    "http_api",
                    requests.get("billed", 0),
                    f"mean body {size:,.0f} B",
                )
            )

    # Lambda
    for function in _ordered(usage.functions):
        mean = function.wall_ms / function.invocations
        note = f"{function.invocations} invocations, mean {mean:.0f} ms"
        if function.records:
            note += f", {function.records / function.invocations:.1f} records each"
        quantities += lambda_quantities(
            f"λ {function.function}",
            function.invocations,
            function.billed_ms,
            function.memory_mb,
            note,
        )

    # SQS, DynamoDB, EventBridge, Secrets Manager, anything else
    tables: dict[str, defaultdict[str, float]] = defaultdict(lambda: defaultdict(float))
    for who, counters in usage.aws.items():
        calls: dict[tuple[str, str, str], defaultdict[str, float]] = defaultdict(
            lambda: defaultdict(float)
        )
        for (service, operation, resource, figure), amount in counters.items():
            calls[(service, operation, resource)][figure] += amount
        for (service, operation, resource), figures in sorted(calls.items()):
            if service == "sqs":
                billed = figures["billed"]
                note = ""
                if operation == "ReceiveMessage":
                    billed -= figures["empty"]  # each empty receive was billed as 1
                    if figures["empty"]:
                        unpriced.append(
                            f"{figures['empty']:.0f} empty ReceiveMessage on "
                            f"{queue_labels.get(resource, resource)} (idle polling, see notes)"
                        )
                    receives = max(1.0, figures["calls"] - figures["empty"])
                    note = f"{figures['received'] / receives:.1f} messages each"
                if not billed:
                    continue
                label = queue_labels.get(resource, resource)
                by = _SQS_WHO.get((operation, who), who)
                price = "sqs_fifo" if resource.endswith(".fifo") else "sqs_standard"
                quantities.append(Quantity(f"SQS {label}: {operation} ({by})", price, billed, note))
            elif service == "dynamodb":
                for table in resource.split(","):
                    share = 1 / len(resource.split(","))
                    tables[table]["wcu"] += figures["wcu"] * share
                    tables[table]["rcu"] += figures["rcu"] * share
                    tables[table][f"{operation}"] += figures["calls"]
            elif service == "events" and operation == "PutEvents":
                quantities.append(
                    Quantity(
                        "EventBridge: events published",
                        "eventbridge",
                        figures["billed"],
                        f"{figures['entries']:.0f} entries in {figures['calls']:.0f} PutEvents",
                    )
                )
            elif service == "secretsmanager":
                quantities.append(
                    Quantity(f"Secrets Manager: {operation}", "secrets_call", figures["calls"])
                )
            else:
                unpriced.append(
                    f"{figures['calls']:.0f} {service} {operation} {resource} "
                    "(no price in aws-facts.md §5)"
                )
    for table, figures in sorted(tables.items()):
        key = table_keys.get(table, table)
        largest = item_bytes.get(key, (0, 0))[0]
        # Units were counted for items up to 1 KB (writes) and 4 KB (reads); a larger
        # item costs one more unit per started KB, so all of a table's writes are scaled
        # by its largest item: an upper bound.
        write_factor = max(1, -(-largest // 1024))
        read_factor = max(1, -(-largest // 4096))
        ops = ", ".join(f"{op} {n:.0f}" for op, n in sorted(figures.items()) if op[0].isupper())
        scaled = f"; x{write_factor} for its largest item" if write_factor > 1 else ""
        if figures["wcu"]:
            quantities.append(
                Quantity(
                    f"DynamoDB {key}: write units",
                    "dynamodb_wru",
                    figures["wcu"] * write_factor,
                    f"{ops}; largest item {largest} B{scaled}",
                )
            )
        if figures["rcu"]:
            quantities.append(
                Quantity(
                    f"DynamoDB {key}: read units",
                    "dynamodb_rru",
                    figures["rcu"] * read_factor,
                    "" if figures["wcu"] else ops,
                )
            )

    # CloudWatch Logs
    for function in _ordered(usage.functions):
        emf = max(function.emf_bytes, function.invocations * function.emf_blob_median)
        emf_events = max(
            function.emf_blobs, function.invocations if function.emf_blob_median else 0
        )
        event_bytes = int(
            function.app_log_bytes + function.root_log_bytes + emf + function.platform_bytes
        )
        events = int(
            function.app_log_events
            + function.root_log_events
            + emf_events
            + function.platform_events
        )
        quantities.append(
            Quantity(
                f"CloudWatch Logs: {function.function}",
                "logs_gb",
                log_gb(event_bytes, events),
                _log_note(
                    phase.messages,
                    app=function.app_log_bytes + function.root_log_bytes,
                    emf=emf,
                    platform=function.platform_bytes,
                ),
            )
        )
    for family, bucket in sorted(usage.unattributed_logs.items()):
        event_bytes = bucket.app_bytes + bucket.root_bytes + bucket.emf_bytes
        events = bucket.app_events + bucket.root_events + len(bucket.emf_sizes)
        if event_bytes:
            quantities.append(
                Quantity(
                    f"CloudWatch Logs: {family} worker threads",
                    "logs_gb",
                    log_gb(event_bytes, events),
                    f"{events} lines outside the invoking thread",
                )
            )
    return quantities, unpriced


def _log_note(messages: int, *, app: float, emf: float, platform: float) -> str:
    return (
        f"B per message: {(app + emf + platform) / messages:,.0f} (app {app / messages:,.0f}, "
        f"EMF {emf / messages:,.0f}, START/END/REPORT {platform / messages:,.0f})"
    )


# -- output -------------------------------------------------------------------------------


def _usd(value: float) -> str:
    return f"${value:,.3f}"


def _amount(value: float) -> str:
    if value == 0:
        return "0"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 0.01:
        return f"{value:.3f}"
    return f"{value:.2e}"


_WEBHOOK_FIGURES = ("statuses_delivered", "posts_delivered", "failed_attempts", "posts_given_up")


def render_phase(phase: Phase) -> list[str]:
    usage = phase.usage
    lines = [
        f"### {phase.way.key}: {phase.way.title}",
        "",
        f"{phase.messages} messages in {phase.requests} requests; handed over in "
        f"{phase.handover_s:.1f} s, all `read` and drained after {phase.seconds:.1f} s; "
        f"final statuses {dict(phase.statuses)}; sent twice: {phase.duplicates}"
        + (f"; refused at hand-over: {phase.submit_errors[:3]}" if phase.submit_errors else "")
        + (" (TIMED OUT)" if phase.timed_out else ""),
        "",
        "Webhooks: {statuses_delivered} statuses in {posts_delivered} POSTs answered 200; "
        "{failed_attempts} attempts retried, {posts_given_up} given up.".format(
            **{k: phase.webhook_posts.get(k, 0) for k in _WEBHOOK_FIGURES}
        ),
        "",
        "| line | per message | unit price | $ per 1M messages | counted |",
        "| --- | --- | --- | --- | --- |",
    ]
    for line in sorted(phase.lines, key=lambda c: -c.usd_per_million):
        lines.append(
            f"| {line.line} | {_amount(line.per_message)} {line.price.unit} | "
            f"{line.price.quoted} | {_usd(line.usd_per_million)} | {line.note} |"
        )
    measured = total(phase.lines)
    assumed = total(phase.assumed_lines)
    lines.append(f"| **total** | | | **{_usd(measured)}** | |")
    lines += [
        "",
        "With the Lambda durations aws-facts.md §5.2 assumed instead of the measured ones "
        f"({assumed_what(phase.way.key)}): **{_usd(assumed)}** per 1M messages.",
    ]
    if phase.unpriced:
        lines += ["", "Counted, not priced: " + "; ".join(phase.unpriced) + "."]
    durations = [
        f"{f.function} p50 {statistics.median(f.durations_ms):.0f} / "
        f"max {max(f.durations_ms):.0f} ms"
        for f in _ordered(usage.functions)
        if f.durations_ms
    ]
    lines += ["", "Measured invocation wall times: " + "; ".join(durations) + "."]
    return lines


def assumed_what(way: str) -> str:
    assumed = ["sender 50 ms a batch", "webhook 50 ms"]
    measured = ["inbound"]
    if way == "A1":
        assumed.append("send API 20 ms a request")
    elif way == "A100":
        measured.append("send API")
    return f"{', '.join(assumed)}; {' and '.join(measured)} as measured"


def render(result: dict[str, Any], args: argparse.Namespace) -> str:
    from benchmarks._report import machine

    m = machine()
    phases: list[Phase] = result["phases"]
    when: datetime = result["started_at"]
    load = result["load"]
    memory = ", ".join(f"{k} {v} MB" for k, v in result["memory"].items())
    lines = [
        f"Command: `{command_line(args)}`",
        "",
        f"- Date: {when:%Y-%m-%d %H:%M} UTC",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, {m['os']}; {m['python']}",
        f"- Packages: {m['packages']}",
        f"- Load average (1 min) before / after: {load[0][0]:.2f} / {load[1][0]:.2f}",
        f"- Prices: {SOURCE}; Lambda memory from infra/topology.py ({memory}); "
        "no free tier, no volume tiers",
        f"- Simulator: every send accepted (lognormal latency, median 80 ms), then `sent`, "
        f"`delivered` and `read` for every message, {statuses_per_post(args)} per webhook "
        "POST, no duplicate or reordered webhooks",
        "",
        "| way | messages | total per 1M (measured durations) | total per 1M (§5.2 durations) "
        f"| ≤ ${TARGET_USD:.0f} target | outcome |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for phase in phases:
        measured = total(phase.lines)
        assumed = total(phase.assumed_lines)
        verdict = (
            "meets"
            if measured <= TARGET_USD
            else "meets only at §5.2 durations"
            if assumed <= TARGET_USD
            else "misses"
        )
        outcome = "all read, 0 lost, 0 sent twice" if phase.ok else "NOT CLEAN (see below)"
        lines.append(
            f"| {phase.way.key}: {phase.way.title} | {phase.messages} | **{_usd(measured)}** | "
            f"{_usd(assumed)} | {verdict} | {outcome} |"
        )
    lines += ["", *services_table(phases), ""]
    for phase in phases:
        lines += [*render_phase(phase), ""]
    lines += ["Reading these figures:", "", *notes(phases, result)]
    return "\n".join(lines) + "\n"


def statuses_per_post(args: argparse.Namespace) -> str:
    if args.statuses_per_post == 1:
        return "1 status"
    return f"up to {args.statuses_per_post} statuses (due within 0.2 s)"


def services_table(phases: Sequence[Phase]) -> list[str]:
    """The totals by service, one column per way."""
    services: dict[str, dict[str, float]] = defaultdict(dict)
    for phase in phases:
        for line in phase.lines:
            name = line.price.service.replace(" FIFO", "").replace(" standard", "")
            services[name][phase.way.key] = (
                services[name].get(phase.way.key, 0.0) + line.usd_per_million
            )
    header = " | ".join(p.way.key for p in phases)
    lines = [f"| $ per 1M messages by service | {header} |", "| --- |" + " --- |" * len(phases)]
    for name, by_way in sorted(services.items(), key=lambda item: -max(item[1].values())):
        cells = " | ".join(_usd(by_way.get(p.way.key, 0.0)) for p in phases)
        lines.append(f"| {name} | {cells} |")
    return lines


def notes(phases: Sequence[Phase], result: dict[str, Any]) -> list[str]:
    sizes = ", ".join(f"{k} {v[0]} B" for k, v in result["item_bytes"].items() if v[1])
    return [
        "- Meta's own per-message charges (template messages, by category and country; "
        "meta-facts.md §7) are not included: only what AWS bills.",
        "- Lambda duration is the handler's wall time in the local runtime, rounded up to "
        "1 ms per invocation, at the memory sizes of infra/topology.py. Locally every AWS "
        "call goes to moto server on a shared 2-core machine (several ms each, one GIL-bound "
        "process), so these durations are far above what Lambda next to DynamoDB and SQS "
        "would show; the duration lines are upper bounds, and the §5.2 column shows the "
        "totals at the durations the design brief assumed. The sender's duration also "
        "holds the simulator's Graph latency (median 80 ms per send, ten sends at once).",
        "- Batch sizes are as they came locally (the `records each` notes): at a sustained "
        "1,000 msg/s the event source mappings would hand the sender and inbound functions "
        "fuller batches, so their request, receive and delete lines would shrink.",
        "- Three webhooks per message, one status each, as Meta may send them (meta-facts.md: "
        'batching "cannot be guaranteed"); when Meta batches statuses, the webhook, '
        "inbound-queue and inbound-function lines fall with the batch size. Duplicate "
        "webhooks, which Meta does send, would each add a webhook's worth of cost; so does "
        "every retry: the simulator, like Meta, posts again when the answer is not 200 "
        "within its timeout (5 s here), and a busy local HTTP API sometimes answers later "
        "(the `attempts retried` count under each way; a retried attempt that reached the "
        "function is in its invocations and billed like any other).",
        "- DynamoDB units are estimated by DynamoDB's rules from each request (moto's "
        "ConsumedCapacity is a placeholder), counted as 1 KB per write and 4 KB per read "
        f"and checked against the largest item each table held after the run ({sizes}); "
        "a table whose largest item is bigger is scaled up as a whole (an upper bound).",
        "- SQS and EventBridge are billed per 64 KB chunk, HTTP API per 512 KB: every "
        "request here is one chunk. Empty receives are left out of the per-message cost: "
        "an idle event source mapping long-polls in AWS (a fixed monthly cost, a few "
        "pollers per queue), while the local FIFO poller short-polls with a pause.",
        "- Secrets Manager calls are those of this run: each new Lambda environment reads "
        "its secrets once and again after 300 s, so over a long run per-message calls tend "
        "to zero; the run here is short and counts every cold start's reads.",
        "- CloudWatch Logs at INFO, the deployed level: the JSON lines and EMF blobs the "
        "handlers wrote were measured; Lambda's START/END/REPORT lines (with X-Ray ids, as "
        "the stack turns active tracing on) are modelled; each log event is counted with "
        "26 bytes of overhead, GB = 10^9 bytes. EMF is counted as one blob per invocation "
        "at the function's median blob size where that is more than was printed locally "
        "(in one process concurrent invocations can share a blob). Log storage ($0.03 per "
        "GB-month) is left out.",
        "- Not included: fixed monthly costs (custom metrics, alarms, dashboards, secrets "
        "at $0.40 each, idle polling), X-Ray traces (active tracing; aws-facts.md gives no "
        "price), S3 (webhook bodies over the inline limit only; none here), data transfer, "
        "the free tier and volume tiers.",
        "- No managed service's per-message fee is compared: neither aws-facts.md nor "
        "meta-facts.md gives one with a source. The figure to set beside these totals "
        "would be a WhatsApp provider's (or AWS End User Messaging Social's) platform fee "
        "per message, on top of Meta's own charge.",
    ]


def command_line(args: argparse.Namespace) -> str:
    parts = [".venv/bin/python -m benchmarks.cost_per_million", f"--messages {args.messages}"]
    if list(args.ways) != list(WAYS):
        parts.append(f"--ways {','.join(args.ways)}")
    if args.statuses_per_post != 1:
        parts.append(f"--statuses-per-post {args.statuses_per_post}")
    if args.api_concurrency != 4:
        parts.append(f"--api-concurrency {args.api_concurrency}")
    if args.write_results:
        parts.append("--write-results")
    return " ".join(parts)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.cost_per_million",
        description="AWS cost per 1,000,000 messages, counted on the local stack.",
    )
    parser.add_argument("--messages", type=int, default=300, help="messages per way")
    parser.add_argument(
        "--ways", default=",".join(WAYS), help=f"which ways, in order ({', '.join(WAYS)})"
    )
    parser.add_argument(
        "--statuses-per-post",
        type=int,
        default=1,
        help="statuses the simulator may put in one webhook POST (Meta: not guaranteed)",
    )
    parser.add_argument("--api-concurrency", type=int, default=4, help="requests at once")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per way")
    parser.add_argument("--write-results", action="store_true", help="record in RESULTS.md")
    parser.add_argument("--verbose", "-v", action="store_true", help="progress on stderr")
    args = parser.parse_args(argv)
    args.ways = [w.strip() for w in args.ways.split(",") if w.strip()]
    unknown = [w for w in args.ways if w not in WAYS]
    if unknown:
        parser.error(f"unknown ways {unknown}; choose from {', '.join(WAYS)}")
    if args.messages < 10:
        parser.error("--messages must be at least 10")
    return args


def main(argv: list[str] | None = None) -> int:
    from benchmarks._report import RESULTS, write_results

    args = parse_args(argv)
    result = run(args)
    body = render(result, args)
    print(body)
    ok = all(phase.ok for phase in result["phases"])
    if not ok:
        print("OUTCOME CHECK FAILED: a way lost, refused or duplicated messages", file=sys.stderr)
    if args.write_results:
        key = "cost_per_million" + (
            "" if args.statuses_per_post == 1 else f" statuses={args.statuses_per_post}"
        )
        title = "Cost per 1,000,000 messages (local stack, AWS list prices)" + (
            ""
            if args.statuses_per_post == 1
            else f", up to {args.statuses_per_post} statuses per webhook"
        )
        write_results(key, title, body)
        with contextlib.suppress(ValueError):
            print(f"recorded in {RESULTS.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
