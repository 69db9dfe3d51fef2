"""Sender throughput: one invocation after another against moto server and a 100 ms Graph.

    .venv/bin/python -m benchmarks.sender_throughput [--messages 2000] [--latency-ms 100]
                                                      [--write-results]

What it does:

1. starts moto server on 127.0.0.1 (DynamoDB, SQS, Secrets Manager, EventBridge, S3)
   and the Graph API simulator on 127.0.0.1 with a fixed answer latency, 1,000 mps per
   number and no pair limit, each in a child process by default (`--moto thread` /
   `--graph thread` run them in threads of this process instead, sharing its GIL and CPU);
2. creates the stack's resources from `infra.topology`, as the local stack does (tables,
   the messages table's `by-wamid` index, the FIFO outbound queue with its DLQ and the
   high-throughput attributes, the event bus, the secrets) and the WABA's token;
3. enqueues N messages with `pixy_whatsapp.outbound.enqueue`, round-robin over 10
   recipients that fall into 10 different shards (`--shards 10`), so every SQS batch
   of 10 holds 10 distinct recipients in 10 message groups (checked on every batch);
4. plays Lambda's event source mapping, one invocation at a time: ReceiveMessage (10)
   -> `Sender.process` on an `asyncio.Runner` kept across invocations, as the handler
   does, then the handler's metrics flush -> DeleteMessageBatch of what did not fail;
   until every message is settled;
5. reports messages/s over the whole run, sender CPU per message, AWS requests per
   message by service and operation and DynamoDB write units per message (counted
   from botocore events), invocation duration percentiles, where an invocation's time
   goes, and the outcome check (all accepted, none sent twice by the simulator's record).

The sender is built by `pixy_whatsapp.sender.runtime.build_sender`, the Lambda's own
wiring (events, delivery watch, telemetry included), from `Settings` naming those
resources; only its limiter is replaced, with the limits the issue asks for: 1,000 mps
on the number and a pair policy of 100/s with a burst of 10, which this run (one
message per recipient per batch) never reaches.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import logging
import os
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import httpx
from botocore.config import Config

from benchmarks._aws_calls import AwsCallRecorder, max_item_bytes
from benchmarks._report import RESULTS, machine, write_results
from benchmarks._servers import (
    graph_simulator,
    machine_busy_seconds,
    moto_server,
    wait_until_quiet,
)
from infra.topology import QueueKey

ROOT = Path(__file__).resolve().parent.parent

WABA = "2001"
NUMBER = "1001"
TOKEN = "bench-token"
STAGE = "bench"
REGION = "us-east-1"
TARGET_MPS = 85.0


# -- set-up -------------------------------------------------------------------------------


def aws_client(service: str, endpoint: str, **config: Any) -> Any:
    # Explicit dummy credentials: never pick up a real profile, never reach AWS.
    session: Any = boto3.session.Session()
    return session.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(**config) if config else None,
    )


def create_stack(endpoint: str, shards: int, graph_url: str) -> tuple[Any, Any]:
    """The stack's own resources, from `infra.topology` as the local stack makes them.

    Tables (the messages table with its `by-wamid` index), the FIFO outbound queue with
    its DLQ (`DeduplicationScope=messageGroup`, `FifoThroughputLimit=perMessageGroupId`),
    the bus, the secrets; then the WABA's token and the sender's `Settings`.
    """
    from pixy_whatsapp.settings import Settings

    from infra.local.stack.resources import AwsClients, create_resources, store_waba_token
    from infra.topology import Topology

    topology = Topology(STAGE)
    clients = AwsClients.for_endpoint(endpoint, REGION)
    created = create_resources(
        clients, topology, app_secret="bench-app-secret", verify_token="bench-verify-token"
    )
    store_waba_token(clients, topology, WABA, TOKEN)
    settings = Settings(
        **{
            **created.settings_values(),
            "graph_base_url": graph_url,
            "default_mps": 1_000,
            "shard_count": shards,
        }
    )
    return created, settings


def index_keys(created: Any) -> dict[str, set[str]]:
    """GSI partition keys by table name: a write that sets one also writes the index."""
    topology = created.topology
    return {
        topology.table_name(spec.key): {index.partition_key for index in spec.indexes}
        for spec in topology.tables
        if spec.indexes
    }


def simulator_config(latency_s: float) -> str:
    from infra.local.graph_simulator import (
        FixedLatency,
        PairLimit,
        PhoneNumber,
        SimulatorConfig,
        WebhookSettings,
    )

    config = SimulatorConfig(
        phone_numbers={NUMBER: PhoneNumber(waba_id=WABA)},
        tokens={TOKEN: (WABA, NUMBER)},
        latency=FixedLatency(seconds=latency_s),
        default_mps=1_000,
        pair_limit=PairLimit(enabled=False),
        webhooks=WebhookSettings(url=None),
    )
    return config.model_dump_json()


def pick_recipients(count: int, shards: int) -> list[str]:
    """`count` phone numbers, each in its own shard while shards allow."""
    from pixy_whatsapp.outbound.grouping import shard_of

    chosen: list[str] = []
    used: set[int] = set()
    candidate = 0
    while len(chosen) < count:
        to = f"1555{candidate:07d}"
        candidate += 1
        shard = shard_of(NUMBER, to, shards)
        if shard in used and len(used) < shards:
            continue
        used.add(shard)
        chosen.append(to)
    return chosen


def build_sender(settings: Any, clients: dict[str, Any]) -> Any:
    """The Lambda's own wiring (`runtime.build_sender`), then the benchmark's limits.

    `build_sender` takes the number's mps from the settings (1,000 here) but always the
    default pair policy (1 per 6 s, burst 5), which this run (each recipient every batch)
    would hit at once; the run asks for a pair policy of 100/s, burst 10 instead.
    """
    from pixy_whatsapp.limits import GcraPolicy, LimitSettings
    from pixy_whatsapp.sender import SenderClients
    from pixy_whatsapp.sender import build_sender as lambda_build_sender

    return lambda_build_sender(
        settings,
        SenderClients(
            dynamodb=clients["dynamodb"],
            sqs=clients["sqs"],
            secrets=clients["secretsmanager"],
            events=clients["events"],
        ),
        limits=LimitSettings(number_mps=1_000, pair=GcraPolicy.per(100, 1.0, burst=10)),
    )


# -- timing what an invocation does --------------------------------------------------------


class Phases:
    """Start/end times of the sender's steps, by invocation (instance-level wrappers).

    Round 1 is `_read_messages` with `_read_contacts` and `_breaker_verdicts` beside it,
    then `_triage`; then the lanes (`_run_lane`), each with its claims (`_claim`) and
    reservations (`_grant`) followed by its sends (`_send_lane`: Graph call, then the
    `accepted` write, `MessageStore.record_accepted`).
    """

    def __init__(self) -> None:
        self.invocation = -1
        self.events: list[tuple[int, str, float, float]] = []

    def wrap_async(self, owner: Any, attribute: str, name: str) -> None:
        original = getattr(owner, attribute)

        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                self.events.append((self.invocation, name, started, time.perf_counter()))

        setattr(owner, attribute, timed)

    def wrap_sync(self, owner: Any, attribute: str, name: str) -> None:
        original = getattr(owner, attribute)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.events.append((self.invocation, name, started, time.perf_counter()))

        setattr(owner, attribute, timed)

    def instrument(self, sender: Any) -> None:
        for attribute, name in (
            ("_read_messages", "messages"),
            ("_read_contacts", "contacts"),
            ("_breaker_verdicts", "breakers"),
            ("_triage", "triage"),
            ("_claim", "claim"),
            ("_grant", "grant"),
            ("_run_lane", "lane"),
        ):
            self.wrap_async(sender, attribute, name)
        self.wrap_async(sender._graph, "send_message", "graph")
        self.wrap_sync(sender._messages, "record_accepted", "accepted_write")
        self.wrap_sync(sender, "_apply_visibility", "visibility")
        if hasattr(sender, "_publish"):
            self.wrap_sync(sender, "_publish", "publish")


@dataclass
class Invocation:
    index: int
    records: int
    distinct_recipients: int
    distinct_groups: int
    receive_s: float
    invoke_s: float
    delete_s: float
    cycle_s: float
    invoke_cpu_s: float
    poller_cpu_s: float
    started: float
    ended: float
    fates: Counter[str] = field(default_factory=Counter)


class _Sink(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


# -- the run ----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    from pixy_whatsapp.observability import metrics
    from pixy_whatsapp.outbound import Category, SendRequest, enqueue

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    latency_s = args.latency_ms / 1000
    quiet = None
    if args.wait_quiet:
        quiet = wait_until_quiet(args.wait_quiet)
        print(f"other processes used {quiet:.2f} cores just before the run", file=sys.stderr)
    started_at = datetime.now(UTC)
    code = code_version()
    load_before = os.getloadavg()

    with (
        moto_server(args.moto) as moto,
        graph_simulator(args.graph, simulator_config(latency_s)) as graph,
    ):
        created, settings = create_stack(moto.url, args.shards, graph.url)
        admin = {s: aws_client(s, moto.url) for s in ("dynamodb", "sqs")}
        queue_url = created.queue_urls[QueueKey.OUTBOUND]
        dlq_url = created.dlq_urls[QueueKey.OUTBOUND]
        queue_arn = created.queue_arns[QueueKey.OUTBOUND]
        tables = {
            "messages": settings.messages_table,
            "control": settings.control_table,
            "contacts": settings.contacts_table,
        }

        # Enqueue: other systems' side, not timed as the sender's.
        recipients = pick_recipients(args.recipients, args.shards)
        requests = [
            SendRequest.model_validate(
                {
                    "waba_id": WABA,
                    "phone_number_id": NUMBER,
                    "to": recipients[i % len(recipients)],
                    "message": {"type": "text", "text": {"body": f"benchmark message {i}"}},
                    "category": Category(args.category),
                }
            )
            for i in range(args.messages)
        ]
        enqueued = 0
        feed_moto_cpu_s = 0.0

        def feed(up_to: int) -> float:
            """Enqueue requests[enqueued:up_to]; returns the seconds it took."""
            nonlocal enqueued
            if up_to <= enqueued:
                return 0.0
            nonlocal feed_moto_cpu_s
            started = time.perf_counter()
            moto_before = moto.cpu_seconds()
            results = enqueue(
                admin["sqs"], queue_url, requests[enqueued:up_to], shard_count=args.shards
            )
            feed_moto_cpu_s += _delta(moto.cpu_seconds(), moto_before) or 0.0
            failed = [r for r in results if not r.ok]
            if failed:
                raise RuntimeError(f"{len(failed)} enqueues failed: {failed[:3]}")
            enqueued = up_to
            return time.perf_counter() - started

        # --queue-depth 0: everything up front (moto's ReceiveMessage then pays for the depth).
        enqueue_s = feed(args.messages if args.queue_depth == 0 else args.queue_depth)
        feed_s = 0.0
        feed_moto_cpu_s = 0.0

        # The sender's clients and the poller's are separate, so their calls are counted apart.
        sender_calls = AwsCallRecorder("sender", gsi_keys=index_keys(created))
        poller_calls = AwsCallRecorder("poller", gsi_keys=index_keys(created))
        sender_clients = {
            s: sender_calls.attach(aws_client(s, moto.url))
            for s in ("dynamodb", "sqs", "secretsmanager", "events")
        }
        poller = poller_calls.attach(aws_client("sqs", moto.url))
        sender = build_sender(settings, sender_clients)
        phases = Phases()
        phases.instrument(sender)

        profiler = None
        if args.profile:
            from benchmarks._profile import AllThreadsProfile

            profiler = AllThreadsProfile()
            profiler.start()
        runner = asyncio.Runner()
        invocations: list[Invocation] = []
        settled = 0
        empty_polls = 0
        moto_cpu_before = moto.cpu_seconds()
        graph_cpu_before = graph.cpu_seconds()
        busy_before = machine_busy_seconds()
        own_cpu_before = time.process_time()
        run_started = time.perf_counter()
        try:
            while settled < args.messages:
                if args.queue_depth:
                    # Other systems keep the queue topped up; not the sender's time.
                    feed_s += feed(min(args.messages, settled + args.queue_depth))
                sender_calls.capturing = poller_calls.capturing = len(invocations) == 5
                cycle_started = time.perf_counter()
                cpu_started = time.process_time()
                response = poller.receive_message(
                    QueueUrl=queue_url,
                    MaxNumberOfMessages=10,
                    AttributeNames=["All"],
                    WaitTimeSeconds=0,
                )
                received = time.perf_counter()
                messages = response.get("Messages", [])
                if not messages:
                    empty_polls += 1
                    if empty_polls > 20:
                        break
                    time.sleep(0.05)
                    continue
                records = [
                    {
                        "messageId": m["MessageId"],
                        "receiptHandle": m["ReceiptHandle"],
                        "body": m["Body"],
                        "attributes": m.get("Attributes", {}),
                        "messageAttributes": {},
                        "md5OfBody": m.get("MD5OfBody"),
                        "eventSource": "aws:sqs",
                        "eventSourceARN": queue_arn,
                        "awsRegion": REGION,
                    }
                    for m in messages
                ]
                bodies = [json.loads(r["body"]) for r in records]
                poller_cpu = time.process_time() - cpu_started

                # The invocation: what the Lambda handler runs (process, then metrics flush).
                phases.invocation = len(invocations)
                invoke_cpu_started = time.process_time()
                invoke_started = time.perf_counter()
                with contextlib.redirect_stdout(_Sink()):
                    report = runner.run(sender.process(records))
                    metrics.flush_metrics()
                invoked = time.perf_counter()
                invoke_cpu = time.process_time() - invoke_cpu_started

                cpu_started = time.process_time()
                done = [r for r in records if r["messageId"] not in set(report.failed_ids)]
                if done:
                    poller.delete_message_batch(
                        QueueUrl=queue_url,
                        Entries=[
                            {"Id": str(i), "ReceiptHandle": r["receiptHandle"]}
                            for i, r in enumerate(done)
                        ],
                    )
                ended = time.perf_counter()
                poller_cpu += time.process_time() - cpu_started
                fates = Counter(str(f) for f in report.fates.values())
                settled += fates.get("done", 0) + fates.get("dead", 0)
                invocations.append(
                    Invocation(
                        index=len(invocations),
                        records=len(records),
                        distinct_recipients=len({b.get("to") for b in bodies}),
                        distinct_groups=len(
                            {r["attributes"].get("MessageGroupId") for r in records}
                        ),
                        receive_s=received - cycle_started,
                        invoke_s=invoked - invoke_started,
                        delete_s=ended - invoked,
                        cycle_s=ended - cycle_started,
                        invoke_cpu_s=invoke_cpu,
                        poller_cpu_s=poller_cpu,
                        started=invoke_started,
                        ended=invoked,
                        fates=fates,
                    )
                )
        finally:
            wall_s = time.perf_counter() - run_started
            run_s = wall_s - feed_s
            busy_s = machine_busy_seconds() - busy_before
            own_cpu_s = time.process_time() - own_cpu_before
            runner.close()
            sender.close()
            profile_stats = profiler.stop() if profiler is not None else None
        # moto's work for the top-ups is the producers' load, not the sender's.
        moto_cpu = _delta(moto.cpu_seconds(), moto_cpu_before)
        if moto_cpu is not None:
            moto_cpu -= feed_moto_cpu_s
        graph_cpu = _delta(graph.cpu_seconds(), graph_cpu_before)
        # What the rest of the machine did meanwhile (other processes: a noisy neighbour).
        others_cores = (busy_s - own_cpu_s - (moto_cpu or 0.0) - (graph_cpu or 0.0)) / wall_s

        # Outcome checks: the simulator's record and the messages table.
        accepted = httpx.get(f"{graph.url}/_sim/accepted", timeout=30).json()
        by_callback = Counter(m["biz_opaque_callback_data"] for m in accepted)
        duplicates = {k: v for k, v in by_callback.items() if v > 1}
        ours = {r.id for r in requests}
        statuses: Counter[str] = Counter()
        scan: dict[str, Any] = {"TableName": tables["messages"], "ProjectionExpression": "st"}
        while True:
            page = admin["dynamodb"].scan(**scan)
            statuses.update(item["st"]["S"] for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        left = admin["sqs"].get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        dlq_left = admin["sqs"].get_queue_attributes(
            QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        item_sizes = {name: max_item_bytes(admin["dynamodb"], t) for name, t in tables.items()}

        calibration = calibrate(moto.url, tables["control"]) if args.calibrate else None
        replay = (
            replay_shapes(moto, sender_calls.captured, sender_calls.shape_counts, len(invocations))
            if args.calibrate
            else None
        )

    load_after = os.getloadavg()
    return {
        "args": vars(args),
        "recipients": recipients,
        "enqueue_s": enqueue_s,
        "run_s": run_s,
        "invocations": invocations,
        "phases": phases.events,
        "sender_calls": sender_calls,
        "poller_calls": poller_calls,
        "moto_cpu_s": moto_cpu,
        "graph_cpu_s": graph_cpu,
        "accepted_by_simulator": len(
            [m for m in accepted if m["biz_opaque_callback_data"] in ours]
        ),
        "simulator_total": len(accepted),
        "duplicates": duplicates,
        "statuses": dict(statuses),
        "queue_left": left,
        "dlq_left": dlq_left,
        "item_sizes": item_sizes,
        "calibration": calibration,
        "replay": replay,
        "profile": profile_stats,
        "feed_s": feed_s,
        "started_at": started_at,
        "code": code,
        "others_cores": others_cores,
        "quiet": quiet,
        "load": (load_before, load_after),
    }


def _delta(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else after - before


def calibrate(endpoint: str, table: str, rounds: int = 30) -> dict[str, float]:
    """What moto itself costs: one UpdateItem alone, and ten at once (as the sender's rounds)."""
    ddb = aws_client("dynamodb", endpoint, max_pool_connections=16)

    def update(key: str) -> None:
        ddb.update_item(
            TableName=table,
            Key={"pk": {"S": key}},
            UpdateExpression="SET tat = :new, expires_at = :exp",
            ExpressionAttributeValues={":new": {"N": "1"}, ":exp": {"N": "2"}},
        )

    for i in range(10):  # warm the connection pool
        update(f"calibration#{i}")
    single = []
    for i in range(rounds * 3):
        started = time.perf_counter()
        update(f"calibration#{i % 10}")
        single.append(time.perf_counter() - started)
    concurrent = []
    with ThreadPoolExecutor(max_workers=10) as pool:
        for _ in range(rounds):
            started = time.perf_counter()
            list(pool.map(update, [f"calibration#{i}" for i in range(10)]))
            concurrent.append(time.perf_counter() - started)
    return {
        "update_item_single_ms": statistics.median(single) * 1000,
        "update_item_x10_concurrent_ms": statistics.median(concurrent) * 1000,
    }


def replay_shapes(
    moto: Any,
    captured: dict[str, tuple[str, dict[str, Any]]],
    counts: Counter[str],
    invocations: int,
    repeats: int = 40,
) -> list[dict[str, Any]]:
    """Each kind of DynamoDB request the sender made, replayed alone, one after another.

    Keys get a `#replay{i}` suffix, so a claim or a status write lands on a new item (as
    in the run); a limiter swap then fails its condition, which moto answers after the
    same parsing work. Gives moto's own cost per request, without the sender around it.
    """
    from botocore import xform_name

    ddb = aws_client("dynamodb", moto.url)
    rows = []
    for shape, (operation, params) in sorted(captured.items()):
        if not shape.startswith(("UpdateItem", "GetItem", "BatchGetItem", "PutItem")):
            continue
        method = getattr(ddb, xform_name(operation))
        walls = []
        cpu_before = moto.cpu_seconds()
        for i in range(repeats):
            call = json.loads(json.dumps(params))
            if "Key" in call:
                call["Key"]["pk"]["S"] += f"#replay{i}"
            started = time.perf_counter()
            with contextlib.suppress(ddb.exceptions.ConditionalCheckFailedException):
                method(**call)
            walls.append(time.perf_counter() - started)
        cpu = _delta(moto.cpu_seconds(), cpu_before)
        rows.append(
            {
                "shape": shape,
                "per_invocation": counts.get(shape, 0) / invocations if invocations else 0,
                "wall_ms": statistics.median(walls) * 1000,
                "moto_cpu_ms": None if cpu is None else cpu / repeats * 1000,
            }
        )
    return rows


# -- figures ------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * q
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def breakdown(
    events: list[tuple[int, str, float, float]], invocations: list[Invocation]
) -> dict[str, float]:
    """Mean wall time per step of an invocation (the first, cold one left out)."""
    by_invocation: dict[int, list[tuple[str, float, float]]] = {}
    for index, name, started, ended in events:
        by_invocation.setdefault(index, []).append((name, started, ended))
    rows: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        rows.setdefault(name, []).append(value * 1000)

    for inv in invocations[1:]:
        steps = by_invocation.get(inv.index, [])

        def spans(
            name: str, steps: list[tuple[str, float, float]] = steps
        ) -> list[tuple[float, float]]:
            return [(s, e) for n, s, e in steps if n == name]

        round1 = spans("messages") + spans("contacts") + spans("breakers")
        round2 = spans("claim") + spans("grant")
        lanes = spans("lane")
        graph = spans("graph")
        writes = spans("accepted_write")
        visibility = spans("visibility")
        publish = spans("publish")
        if not (round1 and round2 and lanes and graph):
            continue
        round1_end = max(e for _, e in round1)
        first_round1 = min(s for s, _ in round1)
        add("before round 1 (parse records)", first_round1 - inv.started)
        add("round 1: message, contact and breaker reads", round1_end - first_round1)
        add(
            "triage (redeliveries, deadlines, opt-outs, breakers)",
            sum(e - s for s, e in spans("triage")),
        )
        first_round2 = min(s for s, _ in round2)
        add(
            "round 2: first claim/reservation start -> last done",
            max(e for _, e in round2) - first_round2,
        )
        first_graph = min(s for s, _ in graph)
        add(
            "round 2 start -> first Graph call (the first lane's own round 2)",
            first_graph - first_round2,
        )
        add(
            "round 2 start -> last Graph call (the last lane's own round 2)",
            max(s for s, _ in graph) - first_round2,
        )
        last_graph_end = max(e for _, e in graph)
        add("Graph calls (first start -> last answer)", last_graph_end - first_graph)
        add("  one Graph call, mean", statistics.mean(e - s for s, e in graph))
        last_lane_end = max(e for _, e in lanes)
        add(
            "round 3: last Graph answer -> last `accepted` write done",
            last_lane_end - last_graph_end,
        )
        if writes:
            add(
                "  one `accepted` write, mean (in its thread)",
                statistics.mean(e - s for s, e in writes),
            )
        add(
            "after the lanes (visibility, events, report, metrics flush)",
            inv.ended - last_lane_end,
        )
        if visibility:
            add("  ChangeMessageVisibility step", sum(e - s for s, e in visibility))
        if publish:
            add("  PutEvents step (beside it)", sum(e - s for s, e in publish))
        add("invocation total", inv.ended - inv.started)
        add("poller: ReceiveMessage", inv.receive_s)
        add("poller: DeleteMessageBatch", inv.delete_s)
        add("cycle total (receive + invocation + delete)", inv.cycle_s)
    return {name: statistics.mean(values) for name, values in rows.items()}


def summarize(result: dict[str, Any]) -> dict[str, Any]:
    invocations: list[Invocation] = result["invocations"]
    n = result["args"]["messages"]
    sender_calls: AwsCallRecorder = result["sender_calls"]
    poller_calls: AwsCallRecorder = result["poller_calls"]
    fates: Counter[str] = Counter()
    for inv in invocations:
        fates.update(inv.fates)
    invoke_ms = [inv.invoke_s * 1000 for inv in invocations]
    cycle_ms = [inv.cycle_s * 1000 for inv in invocations]
    sent = fates.get("done", 0)

    def per_op(recorder: AwsCallRecorder) -> list[dict[str, Any]]:
        rows = []
        for (service, operation), stats in sorted(recorder.stats.items()):
            rows.append(
                {
                    "service": service,
                    "operation": operation,
                    "calls": stats.calls,
                    "attempts": stats.attempts,
                    "per_message": stats.calls / n,
                    "errors": dict(stats.errors),
                    "wire_ms_mean": stats.wire_s / stats.calls * 1000,
                    "wire_ms_p50": percentile(stats.wire_samples, 0.5) * 1000,
                    "client_ms_mean": stats.client_s / stats.calls * 1000,
                    "wcu": stats.wcu_estimated,
                    "rcu": stats.rcu_estimated,
                    "reported": stats.capacity_reported,
                }
            )
        return rows

    sender_rows = per_op(sender_calls)
    poller_rows = per_op(poller_calls)
    wcu = sum(r["wcu"] for r in sender_rows)
    rcu = sum(r["rcu"] for r in sender_rows)
    reported = sum(r["reported"] for r in sender_rows)
    invoke_cpu = sum(inv.invoke_cpu_s for inv in invocations)
    poller_cpu = sum(inv.poller_cpu_s for inv in invocations)
    mixed = [inv for inv in invocations if inv.distinct_recipients < inv.records]
    sizes = result["item_sizes"]
    steady = invocations[1:] or invocations
    steady_s = sum(inv.cycle_s for inv in steady)
    return {
        "messages": n,
        "invocations": len(invocations),
        "run_s": result["run_s"],
        "mps": sent / result["run_s"] if result["run_s"] else 0.0,
        "mps_steady": sum(inv.fates.get("done", 0) for inv in steady) / steady_s if steady_s else 0,
        "fates": dict(fates),
        "invoke_p50": percentile(invoke_ms, 0.5),
        "invoke_p95": percentile(invoke_ms, 0.95),
        "invoke_p99": percentile(invoke_ms, 0.99),
        "invoke_max": max(invoke_ms) if invoke_ms else float("nan"),
        "invoke_first": invoke_ms[0] if invoke_ms else float("nan"),
        "cycle_p50": percentile(cycle_ms, 0.5),
        "cycle_p95": percentile(cycle_ms, 0.95),
        "cycle_p99": percentile(cycle_ms, 0.99),
        "sender_cpu_ms_per_msg": invoke_cpu / n * 1000,
        "sender_cpu_ms_per_invocation": invoke_cpu / len(invocations) * 1000 if invocations else 0,
        "poller_cpu_ms_per_msg": poller_cpu / n * 1000,
        "moto_cpu_ms_per_msg": (
            result["moto_cpu_s"] / n * 1000 if result["moto_cpu_s"] is not None else None
        ),
        "graph_cpu_ms_per_msg": (
            result["graph_cpu_s"] / n * 1000 if result["graph_cpu_s"] is not None else None
        ),
        "sender_requests_per_msg": sender_calls.total_calls() / n,
        "poller_requests_per_msg": poller_calls.total_calls() / n,
        "sender_ops": sender_rows,
        "poller_ops": poller_rows,
        "wcu_per_msg": wcu / n,
        "rcu_per_msg": rcu / n,
        "reported_capacity_per_msg": reported / n,
        "batches_not_all_distinct": len(mixed),
        "min_distinct_recipients": min((i.distinct_recipients for i in invocations), default=0),
        "min_distinct_groups": min((i.distinct_groups for i in invocations), default=0),
        "accepted_by_simulator": result["accepted_by_simulator"],
        "simulator_total": result["simulator_total"],
        "duplicates": len(result["duplicates"]),
        "statuses": result["statuses"],
        "queue_left": result["queue_left"],
        "dlq_left": result["dlq_left"],
        "max_item_bytes": {name: size for name, (size, _) in sizes.items()},
        "breakdown": breakdown(result["phases"], invocations),
        "calibration": result["calibration"],
        "enqueue_s": result["enqueue_s"],
        "feed_s": result["feed_s"],
        "replay": result["replay"],
        "receive_ms_first_tenth": statistics.mean(
            i.receive_s * 1000 for i in invocations[: max(1, len(invocations) // 10)]
        ),
        "receive_ms_last_tenth": statistics.mean(
            i.receive_s * 1000 for i in invocations[-max(1, len(invocations) // 10) :]
        ),
        "sender_limited_mps": sent / sum(i.invoke_s for i in invocations) if invocations else 0,
        "load": result["load"],
        "others_cores": result["others_cores"],
        "code": result["code"],
    }


def outcome_ok(s: dict[str, Any]) -> bool:
    return bool(
        s["fates"].get("done", 0) == s["messages"]
        and s["accepted_by_simulator"] == s["messages"]
        and s["duplicates"] == 0
        and s["statuses"] == {"accepted": s["messages"]}
        and s["batches_not_all_distinct"] == 0
    )


# -- output ---------------------------------------------------------------------------------------


def command_line(args: argparse.Namespace) -> str:
    parts = [".venv/bin/python -m benchmarks.sender_throughput", f"--messages {args.messages}"]
    parts.append(f"--latency-ms {args.latency_ms:g}")
    defaults = {"recipients": 10, "shards": 10, "category": "marketing", "moto": "process"}
    defaults["graph"] = "process"
    for name, default in defaults.items():
        value = getattr(args, name)
        if value != default:
            parts.append(f"--{name} {value}")
    if args.queue_depth:
        parts.append(f"--queue-depth {args.queue_depth}")
    if args.profile:
        parts.append("--profile")
    if args.wait_quiet:
        parts.append(f"--wait-quiet {args.wait_quiet:g}")
    if not args.calibrate:
        parts.append("--no-calibrate")
    if args.write_results:
        parts.append("--write-results")
    return " ".join(parts)


def code_version() -> str:
    """The commit the sender code came from, and whether it had local changes (read-only)."""
    import subprocess

    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--", "layers", "functions", "infra")
    return f"{commit}" + (" with uncommitted changes in layers/functions/infra" if changed else "")


def _fmt(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def render(s: dict[str, Any], args: argparse.Namespace, when: datetime) -> str:
    """The markdown section for RESULTS.md (also printed)."""
    m = machine()
    verdict = "meets" if s["mps"] >= TARGET_MPS else "MISSES"
    in_process = [
        name
        for name, mode in (("moto", args.moto), ("the simulator", args.graph))
        if mode == "thread"
    ]
    cpu_note = (
        f" (process CPU inside invocations, all threads; includes {' and '.join(in_process)}, "
        "running in this process)"
        if in_process
        else " (process CPU inside invocations, all threads of the sender's process; moto "
        "and the simulator run in their own processes)"
    )
    lines = [
        f"Command: `{command_line(args)}`",
        "",
        f"- Date: {when:%Y-%m-%d %H:%M} UTC",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, {m['os']}; {m['python']}",
        f"- Packages: {m['packages']}",
        f"- Code: commit {s['code']}",
        f"- Load average (1 min) before / after: {s['load'][0][0]:.2f} / {s['load'][1][0]:.2f}; "
        f"other processes used {s['others_cores']:.2f} of the {os.cpu_count()} cores during "
        f"the run (busy time from /proc/stat minus ours, moto's and the simulator's)",
        f"- moto server: {args.moto}; Graph simulator: {args.graph} "
        f"(fixed {args.latency_ms:g} ms answer latency, 1,000 mps, pair limit off, no webhooks)",
        f"- {s['messages']} messages, category {args.category}, {args.recipients} recipients "
        f"in {args.shards} shards; every batch held {s['min_distinct_recipients']}+ distinct "
        f"recipients in {s['min_distinct_groups']}+ message groups "
        f"({s['batches_not_all_distinct']} batches with a repeated recipient)",
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| throughput, whole run (first receive to last delete) | **{s['mps']:.1f} msg/s** "
        f"({verdict} the {TARGET_MPS:.0f} msg/s target; ceiling 100) |",
        f"| throughput without the first (cold) invocation | {s['mps_steady']:.1f} msg/s |",
        f"| sender-limited throughput (messages / time inside invocations) | "
        f"{s['sender_limited_mps']:.1f} msg/s |",
        f"| run time / invocations | {s['run_s']:.2f} s / {s['invocations']} |",
        f"| invocation duration p50 / p95 / p99 (max; first) | {s['invoke_p50']:.1f} / "
        f"{s['invoke_p95']:.1f} / {s['invoke_p99']:.1f} ms ({s['invoke_max']:.1f}; "
        f"{s['invoke_first']:.1f}) |",
        f"| cycle (receive + invocation + delete) p50 / p95 / p99 | {s['cycle_p50']:.1f} / "
        f"{s['cycle_p95']:.1f} / {s['cycle_p99']:.1f} ms |",
        f"| sender CPU per message{cpu_note} | **{s['sender_cpu_ms_per_msg']:.2f} ms** "
        f"({s['sender_cpu_ms_per_invocation']:.1f} ms per invocation of 10) |",
        f"| poller CPU per message (receive/delete, not the Lambda's) | "
        f"{s['poller_cpu_ms_per_msg']:.2f} ms |",
        f"| moto server CPU per message (during the run, top-ups excluded) | "
        f"{_fmt(s['moto_cpu_ms_per_msg'], 2)} ms |",
        f"| Graph simulator CPU per message | {_fmt(s['graph_cpu_ms_per_msg'], 2)} ms |",
        f"| sender AWS requests per message | **{s['sender_requests_per_msg']:.2f}** |",
        f"| poller AWS requests per message | {s['poller_requests_per_msg']:.2f} |",
        f"| ReceiveMessage mean, first / last tenth of the run | "
        f"{s['receive_ms_first_tenth']:.1f} / {s['receive_ms_last_tenth']:.1f} ms |",
        f"| enqueue before the run / top-ups during it (not in the run time) | "
        f"{s['enqueue_s']:.1f} / {s['feed_s']:.1f} s |",
        f"| DynamoDB write units per message (estimated) | **{s['wcu_per_msg']:.2f} WCU** |",
        f"| DynamoDB read units per message (estimated) | {s['rcu_per_msg']:.2f} RCU |",
        f"| DynamoDB capacity moto reported per message (placeholder values) | "
        f"{s['reported_capacity_per_msg']:.2f} |",
        f"| largest item, bytes (messages / control / contacts) | "
        f"{s['max_item_bytes']['messages']} / {s['max_item_bytes']['control']} / "
        f"{s['max_item_bytes']['contacts']} |",
        f"| outcome: settled by the sender | {s['fates']} |",
        f"| outcome: accepted by the simulator (ours / all) / sent twice | "
        f"{s['accepted_by_simulator']} / {s['simulator_total']} / {s['duplicates']} |",
        f"| outcome: messages table statuses | {s['statuses']} |",
        f"| outcome: left in queue / DLQ | "
        f"{s['queue_left'].get('ApproximateNumberOfMessages')}+"
        f"{s['queue_left'].get('ApproximateNumberOfMessagesNotVisible')} / "
        f"{s['dlq_left'].get('ApproximateNumberOfMessages')} |",
        "",
        "AWS requests by operation (sender's clients, then the poller's). Wire = botocore's "
        "`before-send` to `before-parse` (loopback + moto); client = the rest of the call in "
        "botocore on our side.",
        "",
        "| who | operation | calls | per message | wire ms mean / p50 | client ms mean | "
        "WCU est. | RCU est. | errors |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for who, rows in (("sender", s["sender_ops"]), ("poller", s["poller_ops"])):
        for r in rows:
            retried = "" if r["attempts"] == r["calls"] else f" ({r['attempts']} attempts)"
            lines.append(
                f"| {who} | {r['service']} {r['operation']} | {r['calls']}{retried} | "
                f"{r['per_message']:.2f} | {r['wire_ms_mean']:.2f} / {r['wire_ms_p50']:.2f} | "
                f"{r['client_ms_mean']:.2f} | {r['wcu']:.0f} | {r['rcu']:.1f} | "
                f"{r['errors'] or ''} |"
            )
    lines += [
        "",
        "Where an invocation's time goes (mean ms per invocation, the first one left out):",
        "",
        "| step | ms |",
        "| --- | --- |",
    ]
    lines += [f"| {name} | {value:.1f} |" for name, value in s["breakdown"].items()]
    if s["calibration"]:
        c = s["calibration"]
        lines += [
            "",
            f"moto calibration (same server, after the run): one UpdateItem alone "
            f"{c['update_item_single_ms']:.1f} ms; ten at once from ten threads "
            f"{c['update_item_x10_concurrent_ms']:.1f} ms for the ten.",
        ]
    if s["replay"]:
        lines += [
            "",
            "moto's own cost per request kind: each kind the sender sent, replayed alone 40 "
            "times one after another (wall ms median; moto process CPU ms per request, which "
            "other processes on the machine do not inflate), times how many of it an "
            "invocation made on average:",
            "",
            "| request | per invocation | wall ms alone | moto CPU ms | "
            "wall ms per invocation | moto CPU ms per invocation |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        wall_total = 0.0
        cpu_total = 0.0
        for r in s["replay"]:
            wall = r["per_invocation"] * r["wall_ms"]
            cpu = r["per_invocation"] * (r["moto_cpu_ms"] or 0.0)
            wall_total += wall
            cpu_total += cpu
            lines.append(
                f"| {r['shape']} | {r['per_invocation']:.2f} | {r['wall_ms']:.2f} | "
                f"{_fmt(r['moto_cpu_ms'], 2)} | {wall:.1f} | "
                f"{_fmt(cpu if r['moto_cpu_ms'] is not None else None)} |"
            )
        lines.append(
            "| **one invocation's DynamoDB requests, back to back** | | | | "
            f"**{wall_total:.1f}** | **{cpu_total:.1f}** |"
        )
    lines += ["", "Reading these figures:", "", *NOTES]
    return "\n".join(lines) + "\n"


NOTES = [
    "- moto answers every request with `Connection: close` (werkzeug), so each AWS call "
    "opens a new TCP connection; AWS keeps them alive.",
    "- moto server is one GIL-bound process: requests sent together are served one after "
    "another (see the calibration line), so a round of ten concurrent writes costs ten.",
    "- moto's SendMessage and ReceiveMessage recompute the queue's attributes for every "
    "message, so they slow down with the queue's depth; `--queue-depth` keeps it shallow.",
    "- Over `http://` the Graph client speaks HTTP/1.1, one connection per concurrent call "
    "(HTTP/2 needs TLS here).",
    "- Write units are estimated by DynamoDB's rules (1 KB items, GSI writes included, see "
    "`benchmarks/_aws_calls.py`); moto's ConsumedCapacity is a fixed placeholder.",
]


def render_profile(stats: Any, s: dict[str, Any]) -> str:
    from benchmarks._profile import by_package, cumulative_of, top_functions

    total = sum(t for _, t, _ in by_package(stats))
    lines = [
        "cProfile on each thread's CPU clock, all threads of the sender's process, whole loop "
        "(receive, invocations, delete; profiling inflates every figure, read the shares):",
        "",
        "| package | own CPU s | share | calls |",
        "| --- | --- | --- | --- |",
    ]
    for package, seconds, calls in by_package(stats)[:25]:
        lines.append(f"| {package} | {seconds:.2f} | {seconds / total:.0%} | {calls} |")
    picks = cumulative_of(
        stats,
        {
            "botocore BaseClient._make_api_call (every AWS call, all threads)": (
                "botocore/client.py",
                "_make_api_call",
            ),
            "parse_record (SendRequest validation)": ("sender/records.py", "parse_record"),
            "validate_message (generated models)": ("pixy_whatsapp/models", "validate_message"),
            "GraphClient.send_message": ("graph/client.py", "send_message"),
            "MessageStore.claim_from": ("statuses/store.py", "claim_from"),
            "MessageStore.record_accepted": ("statuses/store.py", "record_accepted"),
            "MessageStore.apply_status": ("statuses/store.py", "apply_status"),
            "Limiter.reserve": ("limits/limiter.py", "reserve"),
            "ContactStore.get_many": ("contacts/store.py", "get_many"),
            "CircuitBreaker.check": ("breaker/breaker.py", "check"),
            "Metrics.flush_metrics": ("aws_lambda_powertools", "flush_metrics"),
        },
    )
    lines += ["", "| function (cumulative, summed over threads) | s |", "| --- | --- |"]
    lines += [f"| {label} | {value:.2f} |" for label, value in picks.items()]
    lines += ["", "Top 30 by own time:", "", "```", top_functions(stats, "tottime", 30), "```"]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.sender_throughput",
        description="Sender throughput against moto server and the Graph API simulator.",
    )
    parser.add_argument("--messages", type=int, default=2_000, help="messages to send")
    parser.add_argument(
        "--latency-ms", type=float, default=100.0, help="fixed Graph answer latency"
    )
    parser.add_argument(
        "--write-results", action="store_true", help="record the figures in RESULTS.md"
    )
    parser.add_argument("--recipients", type=int, default=10, help="distinct recipients")
    parser.add_argument("--shards", type=int, default=10, help="message group shards per WABA")
    parser.add_argument(
        "--category",
        default="marketing",
        choices=["marketing", "utility", "authentication", "service"],
        help="marketing also makes the sender read opt-outs (the fullest path)",
    )
    parser.add_argument(
        "--moto", default="process", choices=["process", "thread"], help="where moto runs"
    )
    parser.add_argument(
        "--graph", default="process", choices=["process", "thread"], help="where the simulator runs"
    )
    parser.add_argument(
        "--queue-depth",
        type=int,
        default=0,
        help="0: enqueue everything before the run; D: keep at most D messages queued, "
        "topping up between invocations outside the run's clock (moto's ReceiveMessage "
        "costs grow with the queue's depth)",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="first wait up to this long for the machine to be quiet (other processes "
        "under 0.15 cores over 3 s)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile every thread of the sender's process and print where its CPU goes",
    )
    parser.add_argument(
        "--no-calibrate",
        dest="calibrate",
        action="store_false",
        help="skip timing moto's own UpdateItem after the run",
    )
    args = parser.parse_args(argv)
    if args.messages < 10 or args.messages % 10:
        parser.error("--messages must be a positive multiple of 10")
    if args.queue_depth < 0 or args.queue_depth % 10:
        parser.error("--queue-depth must be 0 or a positive multiple of 10")
    if args.recipients < 10:
        parser.error("--recipients must be at least 10 (a batch of 10 distinct recipients)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = run(args)
    summary = summarize(result)
    body = render(summary, args, result["started_at"])
    print(body)
    if result["profile"] is not None:
        print(render_profile(result["profile"], summary))
    ok = outcome_ok(summary)
    if not ok:
        print("OUTCOME CHECK FAILED: not every message was accepted exactly once", file=sys.stderr)
    if args.write_results:
        key = f"sender_throughput moto={args.moto} graph={args.graph} depth={args.queue_depth}"
        where = (
            "moto and the simulator in child processes"
            if args.moto == args.graph == "process"
            else f"moto in a {args.moto}, the simulator in a {args.graph}"
        )
        feed = (
            "all messages queued up front"
            if args.queue_depth == 0
            else f"queue kept {args.queue_depth} deep"
        )
        write_results(key, f"Sender throughput: {where}, {feed}", body)
        print(f"recorded in {RESULTS.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
