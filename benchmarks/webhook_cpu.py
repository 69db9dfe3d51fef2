"""Webhook CPU: what one signed ~10 KB Meta delivery costs the webhook Lambda, and where.

    .venv/bin/python -m benchmarks.webhook_cpu [--iterations 2000] [--body-kb 10]
                                               [--write-results]

What it does:

1. under moto's in-process `mock_aws`, creates the stage's resources from
   `infra.topology` as the local stack does (`create_resources`: the inbound queue, the
   webhook bucket, the app secret and verify token among them), sets the function's
   environment (`Settings.to_env()` and the stack's Powertools variables) and imports
   `functions/webhook/handler.py`, which builds its clients at cold start as on Lambda;
2. builds one Meta delivery: one WABA, one `messages` change with statuses (sent with
   pricing, delivered, read, one failed) for sends tagged with our request ids and one
   with inbound text messages and their contacts, made with the Graph simulator's own
   payload builders, encoded as Graph encodes, grown to `--body-kb`; signs it with
   `pixy_whatsapp.webhooks.sign_body` and wraps it in the HTTP API (payload 2.0) event
   the local stack's API Gateway builds for a POST /webhook (`build_event`);
3. invokes the real handler (Powertools resolver, signature check, SendMessage to the
   inbound queue, metrics flush) `--iterations` times after a warm-up, timing each
   invocation with the thread's CPU clock (`time.thread_time_ns`), and the CPU spent
   inside the receiver's SQS call (botocore's `_make_api_call`) and, within it, inside
   moto's request handling; the queue is emptied every 100 invocations, outside the clock;
4. runs the same again with the receiver's SQS client replaced by a stub that answers
   at once (no botocore, no moto): the handler's path without the AWS call;
5. profiles both paths again with cProfile on the thread's CPU clock: each package's
   own time, and the same with stdlib and C functions charged to their callers.

Tracing is off (Powertools disables the Tracer outside Lambda; on Lambda X-Ray adds its
own subsegments), and the metrics blob each invocation prints goes to a discarding
stream (its JSON encoding is still done).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import statistics
import sys
import sysconfig
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STAGE = "bench"
REGION = "us-east-1"
APP_SECRET = "bench-app-secret-0123456789abcdef"
VERIFY_TOKEN = "bench-verify-token"
WABA = "102290129340398"
NUMBER = "106540352242922"
DISPLAY_NUMBER = "15550783881"
PURGE_EVERY = 100
HANDLER = "functions.webhook.handler"
PACKAGES = ("moto", "boto3", "botocore", "aws-lambda-powertools", "pydantic")

_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


# -- the delivery -------------------------------------------------------------------------


def delivery_body(target_bytes: int) -> bytes:
    """A statuses + messages delivery of about `target_bytes`, encoded as Graph encodes."""
    from infra.local.graph_simulator.records import AcceptedMessage
    from infra.local.graph_simulator.webhook_payloads import (
        encode_like_graph,
        inbound_text_message,
        messages_webhook,
        pricing_for,
        status_object,
    )

    statuses: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    contacts: list[dict[str, Any]] = []
    t0 = 1_767_225_600
    texts = (
        "Hola, ¿a qué hora abren mañana?",
        "Thanks! Can I change the delivery address to 42 Wallaby Way?",
        "Olá, recebi a mensagem, obrigado 👍",
        "STOP",
    )

    def payload() -> dict[str, Any]:
        sent = messages_webhook(WABA, NUMBER, DISPLAY_NUMBER, statuses=statuses)
        received = messages_webhook(
            WABA, NUMBER, DISPLAY_NUMBER, messages=messages, contacts=contacts
        )
        # One entry, two changes: how Meta batches what fell due together.
        sent["entry"][0]["changes"] += received["entry"][0]["changes"]
        return sent

    i = 0
    while len(encode_like_graph(payload())) < target_bytes:
        recipient = f"1555{i:07d}"
        sent = AcceptedMessage(
            wamid=f"wamid.HBgLMTU1NTAxMjM0NTYVAgARGBI{i:012d}A==",
            phone_number_id=NUMBER,
            waba_id=WABA,
            recipient=recipient,
            wa_id=recipient,
            body={"type": "template", "template": {"name": "order_update"}},
            biz_opaque_callback_data=f"01JDKX{i:020d}",
            accepted_at=float(t0),
        )
        kind = ("sent", "delivered", "read", "delivered", "read", "failed")[i % 6]
        statuses.append(
            status_object(
                sent,
                kind,
                t0 + i,
                pricing=pricing_for(sent, {}, "utility") if kind == "sent" else None,
                errors=(
                    [{"code": 131049, "title": "Not delivered to maintain ecosystem engagement"}]
                    if kind == "failed"
                    else None
                ),
            )
        )
        if i % 3 == 0:
            wa_id = f"4477009{i:05d}"
            messages.append(
                inbound_text_message(
                    f"wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgUM0E{i:012d}", wa_id, texts[i % 4], t0 + i
                )
            )
            contacts.append({"profile": {"name": f"Customer {i}"}, "wa_id": wa_id})
        i += 1
    return encode_like_graph(payload())


def webhook_event(body: bytes, signature: str) -> dict[str, Any]:
    """The event API Gateway hands the webhook function for Meta's POST (local stack's)."""
    from infra.local.stack.http_api import WEBHOOK_PATH, build_event, match_route
    from infra.local.stack.resources import ACCOUNT_ID

    route = match_route("POST", WEBHOOK_PATH)
    if route is None:
        raise RuntimeError("the local API no longer routes POST /webhook")
    return build_event(
        method="POST",
        path=WEBHOOK_PATH,
        raw_query="",
        headers=[
            ("Host", "abc123.execute-api.us-east-1.amazonaws.com"),
            ("User-Agent", "facebookexternalua"),
            ("Content-Type", "application/json"),
            ("X-Hub-Signature-256", signature),
            ("Content-Length", str(len(body))),
        ],
        body=body,
        source_ip="173.252.127.1",
        route=route,
        account_id=ACCOUNT_ID,
    )


# -- clocks ---------------------------------------------------------------------------------


@dataclass
class CpuMeter:
    """CPU (this thread) spent inside wrapped callables, outermost calls only."""

    spent_ns: int = 0
    _depth: int = 0

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self._depth:
                return function(*args, **kwargs)
            self._depth += 1
            started = time.thread_time_ns()
            try:
                return function(*args, **kwargs)
            finally:
                self.spent_ns += time.thread_time_ns() - started
                self._depth -= 1

        return timed


@contextlib.contextmanager
def inside_moto(meter: CpuMeter) -> Iterator[None]:
    """Time moto's request handling: its stub is a `before-send` handler of every client."""
    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.__call__
    setattr(BotocoreStubber, "__call__", meter.wrap(original))  # noqa: B010
    try:
        yield
    finally:
        setattr(BotocoreStubber, "__call__", original)  # noqa: B010


class _Discard(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


class _InstantSqs:
    """Answers SendMessage at once: the handler's path without an AWS call."""

    def send_message(self, **_: Any) -> dict[str, Any]:
        return {"MessageId": "00000000-0000-0000-0000-000000000000", "MD5OfMessageBody": ""}


# -- the run --------------------------------------------------------------------------------


@dataclass
class Pass:
    name: str
    total_ns: list[int] = field(default_factory=list)
    aws_call_ns: list[int] = field(default_factory=list)
    moto_ns: list[int] = field(default_factory=list)


def percentile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return float(ordered[rank])


def import_handler(settings_env: dict[str, str]) -> ModuleType:
    """The handler's cold start, with the function's settings in the environment."""
    import importlib

    os.environ.update(settings_env)
    if HANDLER in sys.modules:
        return importlib.reload(sys.modules[HANDLER])
    return importlib.import_module(HANDLER)


def invoke_loop(
    handler: ModuleType,
    event: dict[str, Any],
    context: Any,
    iterations: int,
    purge: Callable[[], None],
    record: Pass | None,
    aws_meter: CpuMeter,
    moto_meter: CpuMeter,
) -> None:
    for i in range(iterations):
        if i and i % PURGE_EVERY == 0:
            purge()  # outside the clock: moto's queue work grows with its depth
        aws_before, moto_before = aws_meter.spent_ns, moto_meter.spent_ns
        started = time.thread_time_ns()
        response = handler.handler(event, context)
        spent = time.thread_time_ns() - started
        if response.get("statusCode") != 200:
            raise RuntimeError(f"the webhook answered {response!r}")
        if record is not None:
            record.total_ns.append(spent)
            record.aws_call_ns.append(aws_meter.spent_ns - aws_before)
            record.moto_ns.append(moto_meter.spent_ns - moto_before)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from benchmarks.cold_start import BusyMeter, powertools_environment

    # Before anything imports pixy_whatsapp.observability, which reads them once.
    os.environ.update(_AWS_ENV | powertools_environment(STAGE))
    # Lambda sets it; here it would switch the Tracer on, with no X-Ray daemon to take it.
    os.environ.pop("AWS_LAMBDA_FUNCTION_NAME", None)

    import boto3
    from moto import mock_aws
    from pixy_whatsapp.settings import Settings
    from pixy_whatsapp.webhooks import sign_body

    from infra.local.stack.lambda_runtime import LambdaContext
    from infra.local.stack.resources import ACCOUNT_ID, AwsClients, create_resources
    from infra.topology import FunctionKey, QueueKey, Topology

    topology = Topology(STAGE)
    body = delivery_body(int(args.body_kb * 1024))
    started_at = datetime.now(UTC)
    load_before = os.getloadavg()
    with BusyMeter() as busy, mock_aws(), contextlib.ExitStack() as restore:
        # No endpoint: the clients call AWS's own URLs, which mock_aws answers.
        clients = AwsClients(None, REGION, boto3.Session(region_name=REGION))  # type: ignore[arg-type]
        created = create_resources(
            clients, topology, app_secret=APP_SECRET, verify_token=VERIFY_TOKEN
        )
        settings = Settings.model_validate(created.settings_values())
        handler = import_handler(settings.to_env())
        event = webhook_event(body, sign_body(body, APP_SECRET.encode()))
        spec = topology.function(FunctionKey.WEBHOOK)
        context = LambdaContext(
            function_name=topology.function_name(FunctionKey.WEBHOOK),
            memory_limit_in_mb=spec.memory_mb,
            timeout_seconds=spec.timeout_seconds,
            region=REGION,
            account_id=ACCOUNT_ID,
        )
        sqs = clients.client("sqs")
        queue_url = created.queue_urls[QueueKey.INBOUND]

        def purge() -> None:
            # Received and deleted: moto allows one PurgeQueue a minute, as SQS does.
            while True:
                got = sqs.receive_message(
                    QueueUrl=queue_url,
                    MaxNumberOfMessages=10,
                    VisibilityTimeout=60,
                    WaitTimeSeconds=0,
                ).get("Messages", [])
                if not got:
                    return
                sqs.delete_message_batch(
                    QueueUrl=queue_url,
                    Entries=[
                        {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                        for n, m in enumerate(got)
                    ],
                )

        receiver = handler.receiver
        real_sqs = getattr(receiver, "_sqs", None)
        if real_sqs is None or not hasattr(real_sqs, "_make_api_call"):
            raise RuntimeError("WebhookReceiver no longer keeps its SQS client in `_sqs`")
        aws_meter, moto_meter = CpuMeter(), CpuMeter()
        real_sqs._make_api_call = aws_meter.wrap(real_sqs._make_api_call)
        restore.enter_context(inside_moto(moto_meter))
        restore.enter_context(contextlib.redirect_stdout(_Discard()))

        def loop(
            iterations: int, record: Pass | None = None, empty: Callable[[], None] = purge
        ) -> None:
            invoke_loop(handler, event, context, iterations, empty, record, aws_meter, moto_meter)

        moto_pass, stub_pass = Pass("moto"), Pass("no AWS call")
        loop(args.warmup)
        purge()
        loop(args.iterations, moto_pass)
        purge()
        receiver._sqs = _InstantSqs()
        loop(args.warmup)
        loop(args.iterations, stub_pass)
        receiver._sqs = real_sqs

        profiled = max(200, args.iterations // 4)
        profiles = {}
        for name, client in (("moto", real_sqs), ("stub", _InstantSqs())):
            receiver._sqs = client
            purge()
            profiler = cProfile.Profile(time.thread_time)

            def unprofiled_purge(profiler: cProfile.Profile = profiler) -> None:
                profiler.disable()
                purge()
                profiler.enable()

            profiler.enable()
            loop(profiled, empty=unprofiled_purge)
            profiler.disable()
            profiles[name] = pstats.Stats(profiler, stream=io.StringIO())
        receiver._sqs = real_sqs
    return {
        "body": body,
        "passes": [moto_pass, stub_pass],
        "profiles": profiles,
        "profiled": profiled,
        "started_at": started_at,
        "load": (load_before, os.getloadavg()),
        "others_cores": busy.others_cores,
    }


# -- the report -----------------------------------------------------------------------------

OURS = "ours (pixy_whatsapp, functions/webhook)"
POWERTOOLS = "aws_lambda_powertools"
PYDANTIC = "pydantic (the queue envelope)"
XRAY = "aws_xray_sdk (the Tracer's decorator; tracing off: placeholder segments)"
CLIENT_SIDE = "botocore client side (+ boto3, urllib3, jmespath, ...)"
MOTO = "moto (the emulated SQS, + werkzeug, responses, ...)"
STDLIB = "stdlib, Python code (json, hmac, logging, ...)"
BUILTIN = "C functions (json encoding, hashing, str, ...)"
HARNESS = "this benchmark's loop and clocks"
OTHER = "other"
_CLIENT_PACKAGES = {"botocore", "boto3", "urllib3", "s3transfer", "jmespath", "dateutil", "six"}
_MOTO_PACKAGES = {"moto", "werkzeug", "responses", "xmltodict", "jinja2", "markupsafe"}
_LIBRARY = (STDLIB, BUILTIN)


def code_owner(filename: str) -> str:
    """Which of the categories above a profiled function's file belongs to."""
    if filename == "~":
        return BUILTIN
    if filename.startswith("<frozen"):
        return STDLIB
    parts = Path(filename).parts
    if "site-packages" in parts:
        top = parts[parts.index("site-packages") + 1].removesuffix(".py")
        if top in _CLIENT_PACKAGES:
            return CLIENT_SIDE
        if top in _MOTO_PACKAGES:
            return MOTO
        if top in ("pydantic", "pydantic_core"):
            return PYDANTIC
        if top in ("aws_xray_sdk", "wrapt"):
            return XRAY
        return POWERTOOLS if top == "aws_lambda_powertools" else OTHER
    if filename.startswith((str(ROOT / "layers"), str(ROOT / "functions"))):
        return OURS
    if filename.startswith(str(ROOT / "benchmarks")):
        return HARNESS
    if filename.startswith(sysconfig.get_paths()["stdlib"]):
        return STDLIB
    return OTHER


Func = tuple[str, int, str]


def cpu_by_owner(stats: pstats.Stats) -> tuple[dict[str, float], dict[str, float]]:
    """Shares of CPU by category: own time, and with stdlib and C functions charged to callers.

    A stdlib or C function's own time is split between its callers in proportion to the
    time it spent for each (cProfile keeps that per caller), up the call graph until a
    caller outside the stdlib is reached: `json.dumps` called by our envelope counts as
    ours, called by botocore's serialiser as botocore's.
    """
    entries: dict[Func, Any] = stats.stats  # type: ignore[attr-defined]
    memo: dict[Func, dict[str, float]] = {}

    def charged_to(func: Func, path: frozenset[Func]) -> dict[str, float]:
        if func in memo:
            return memo[func]
        owner = code_owner(func[0])
        result: dict[str, float] = {owner: 1.0}
        if owner in _LIBRARY:
            callers = {
                caller: edge[2]
                for caller, edge in entries[func][4].items()
                if caller in entries and caller not in path
            }
            total = sum(callers.values())
            if total > 0:
                result = defaultdict(float)
                for caller, seconds in callers.items():
                    for who, part in charged_to(caller, path | {func}).items():
                        result[who] += part * seconds / total
        memo[func] = result
        return result

    own: dict[str, float] = defaultdict(float)
    charged: dict[str, float] = defaultdict(float)
    for func, (_cc, _nc, tottime, _ct, _callers) in entries.items():
        own[code_owner(func[0])] += tottime
        for who, part in charged_to(func, frozenset()).items():
            charged[who] += tottime * part
    whole = sum(own.values()) or 1.0
    return (
        {name: seconds / whole for name, seconds in own.items()},
        {name: seconds / whole for name, seconds in charged.items()},
    )


def _us(ns: float) -> str:
    return f"{ns / 1000:.0f}"


def command_line(args: argparse.Namespace) -> str:
    parts = [
        ".venv/bin/python -m benchmarks.webhook_cpu",
        f"--iterations {args.iterations}",
        f"--body-kb {args.body_kb:g}",
    ]
    if args.warmup != 200:
        parts.append(f"--warmup {args.warmup}")
    if args.write_results:
        parts.append("--write-results")
    return " ".join(parts)


def render(args: argparse.Namespace, result: dict[str, Any]) -> str:
    from benchmarks.cold_start import machine_lines

    body: bytes = result["body"]
    statuses = body.count(b'"recipient_id"')
    messages = body.count(b'"from"')
    moto_pass, stub_pass = result["passes"]
    lines = [
        f"Command: `{command_line(args)}`",
        "",
        *machine_lines(result["started_at"], result["load"], PACKAGES, result["others_cores"]),
        f"- Body: {len(body):,} bytes, one WABA, statuses and messages in two changes "
        f"({statuses} statuses, {messages} messages), "
        "encoded as Graph encodes (non-ASCII escaped), HMAC-SHA256 signed with the app secret",
        f"- {args.iterations} timed invocations per pass after {args.warmup} untimed ones; "
        f"the inbound queue emptied every {PURGE_EVERY} invocations, outside the clock",
        "",
        "CPU per invocation (this thread's CPU clock, µs):",
        "",
        "| pass | median | p95 | of which in the SQS call (botocore + moto), median | "
        "of which in moto, median | outside the SQS call, median |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    outside = [t - a for t, a in zip(moto_pass.total_ns, moto_pass.aws_call_ns, strict=True)]
    lines.append(
        f"| real handler, SendMessage served by moto in-process | "
        f"**{_us(statistics.median(moto_pass.total_ns))}** | "
        f"{_us(percentile(moto_pass.total_ns, 0.95))} | "
        f"{_us(statistics.median(moto_pass.aws_call_ns))} | "
        f"{_us(statistics.median(moto_pass.moto_ns))} | "
        f"**{_us(statistics.median(outside))}** |"
    )
    lines.append(
        f"| same handler, SQS client replaced by a stub (no AWS call) | "
        f"**{_us(statistics.median(stub_pass.total_ns))}** | "
        f"{_us(percentile(stub_pass.total_ns, 0.95))} | 0 | 0 | "
        f"{_us(statistics.median(stub_pass.total_ns))} |"
    )
    client_side = [a - m for a, m in zip(moto_pass.aws_call_ns, moto_pass.moto_ns, strict=True)]
    lines += [
        "",
        f"The SQS call's botocore client side (serialise, sign, parse; no network): "
        f"median {_us(statistics.median(client_side))} µs.",
        "",
        f"Where the CPU goes: cProfile on the thread's CPU clock, {result['profiled']} "
        "invocations of each pass. `own`: each function's own time, counted to the code it "
        "belongs to; `charged`: stdlib and C functions' time handed to the code that called "
        "them. Profiling inflates many small calls more than a few large ones, so the µs "
        "column is the share times the unprofiled median, an estimate:",
        "",
        "| code | with moto: own | charged | ≈ µs | no AWS call: own | charged | ≈ µs |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    medians = {
        "moto": statistics.median(moto_pass.total_ns),
        "stub": statistics.median(stub_pass.total_ns),
    }
    shares = {name: cpu_by_owner(stats) for name, stats in result["profiles"].items()}
    names = sorted(
        {n for own, charged in shares.values() for n in (*own, *charged)},
        key=lambda n: -shares["moto"][1].get(n, 0.0),
    )
    for name in names:
        cells = []
        for run_name in ("moto", "stub"):
            own, charged = shares[run_name]
            cells += [
                f"{own.get(name, 0.0):.1%}",
                f"{charged.get(name, 0.0):.1%}",
                _us(charged.get(name, 0.0) * medians[run_name]),
            ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "Reading these figures:", "", *NOTES]
    return "\n".join(lines) + "\n"


NOTES = [
    "- One invocation = Powertools' decorators (log context, metrics flush, the Tracer's "
    "wrapper), the HTTP API resolver, the signature check over the raw bytes, the queue "
    "envelope and SendMessage. The body is not parsed in this function, so only its size "
    "matters.",
    "- The stub pass is the handler's own path: ours, Powertools, X-Ray's placeholder "
    "segments and the stdlib they call. With moto in the same thread the same path "
    "measures about twice that (`outside the SQS call`) while making the same calls (the "
    "two profiles count the same number): it runs after moto's milliseconds of work, with "
    "cold CPU caches.",
    "- moto stands in for SQS: on Lambda the SendMessage costs botocore's client side "
    "(the line under the table) plus TLS and the wait for SQS, not moto's CPU.",
    "- Tracing is off here (Powertools turns it off outside Lambda); on Lambda, active "
    "tracing records real segments and a botocore subsegment per call.",
    "- The app secret comes from the receiver's cache after the first invocation, as on "
    "a warm Lambda; the warm-up includes that first read.",
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.webhook_cpu",
        description="CPU per webhook delivery through the real handler, AWS on moto.",
    )
    parser.add_argument("--iterations", type=int, default=2_000, help="timed invocations")
    parser.add_argument("--warmup", type=int, default=200, help="untimed invocations first")
    parser.add_argument("--body-kb", type=float, default=10.0, help="body size to build")
    parser.add_argument(
        "--write-results", action="store_true", help="record the figures in RESULTS.md"
    )
    args = parser.parse_args(argv)
    if args.iterations < 20:
        parser.error("--iterations must be at least 20")
    if args.body_kb <= 0:
        parser.error("--body-kb must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = run(args)
    body = render(args, result)
    print(body)
    if args.write_results:
        from benchmarks._report import RESULTS, write_results

        write_results("webhook_cpu", "Webhook CPU per delivery: ours vs botocore and moto", body)
        print(f"recorded in {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
