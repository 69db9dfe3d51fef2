"""The sender against pywa: the same messages to the same simulator at the same latency.

    .venv/bin/python -m benchmarks.vs_library [--messages 2000] [--latency-ms 100]
                                             [--queue-depth 100] [--write-results]

What it does:

1. pywa (installed by `make bench-deps`, never a runtime dependency), used as its
   documentation shows: `WhatsApp(phone_id=..., token=..., api_version=...)`, then
   `send_message(to=..., text=...)` in a loop, one message after another. pywa has no
   base URL setting (it always calls `https://graph.facebook.com/v{api_version}`), so
   it gets what its docs offer for that, its own `httpx.Client` (`session=`), whose
   transport delivers each request to the simulator instead (`SimulatorTransport`);
   everything else, request building and answer parsing included, is pywa's own. Each
   message carries `tracker=` (pywa's name for `biz_opaque_callback_data`), as the
   sender's do, so the simulator's record shows every message accepted exactly once.
2. pywa's async client (`pywa_async`, which its docs show with `await
   wa.send_message(...)`), twice: 10 sends in flight (one sender invocation's
   concurrency) and 100 (httpx's default pool size; more only queue for a connection
   and time out after httpx's default 5 s). pywa documents no bulk-send recipe: the
   concurrency is ours, so these rows are labelled apart from the headline ratio.
3. the sender, exactly as `benchmarks.sender_throughput` runs it (its `run`, one
   invocation at a time: batches of 10 from the FIFO queue on moto server, the Lambda's
   own wiring, the same simulator settings), with `--no-calibrate`.

All pywa runs use one simulator (child process) with `sender_throughput`'s settings:
fixed latency, 1,000 mps, pair limit off, no webhooks; its records are reset between
runs. The sender's run starts its own moto server and simulator with the same settings.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from benchmarks import _report, sender_throughput
from benchmarks._rates import percentile
from benchmarks._servers import (
    Server,
    graph_simulator,
    machine_busy_seconds,
    wait_until_quiet,
)

SECTION_KEY = "vs_library"
GOAL_RATIO = 12.0
# The path our GraphClient calls (Settings.graph_api_version): pywa calls the same one.
API_VERSION = "24.0"
RECIPIENTS = [f"1555{i:07d}" for i in range(10)]


# -- pointing pywa at the simulator ---------------------------------------------------------


def to_origin(url: httpx.URL, origin: httpx.URL) -> httpx.URL:
    """`url` with the scheme, host and port of `origin`; path and query unchanged."""
    return url.copy_with(scheme=origin.scheme, host=origin.host, port=origin.port)


def _retarget(request: httpx.Request, origin: httpx.URL) -> None:
    request.url = to_origin(request.url, origin)
    request.headers["Host"] = origin.netloc.decode("ascii")


class SimulatorTransport(httpx.HTTPTransport):
    """httpx's own transport, delivering pywa's graph.facebook.com calls to the simulator."""

    def __init__(self, origin: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._origin = httpx.URL(origin)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        _retarget(request, self._origin)
        return super().handle_request(request)


class AsyncSimulatorTransport(httpx.AsyncHTTPTransport):
    """The same, for `pywa_async` (an `httpx.AsyncClient`)."""

    def __init__(self, origin: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._origin = httpx.URL(origin)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        _retarget(request, self._origin)
        return await super().handle_async_request(request)


# -- pywa runs ---------------------------------------------------------------------------------


@dataclass
class LibraryRun:
    label: str
    messages: int
    wall_s: float = 0.0
    cpu_s: float = 0.0
    simulator_cpu_s: float | None = None
    others_cores: float = 0.0
    call_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    accepted: int = 0
    duplicates: int = 0
    rejections: dict[str, int] = field(default_factory=dict)

    @property
    def mps(self) -> float:
        return self.accepted / self.wall_s if self.wall_s else 0.0


def _tracker(run: str, i: int) -> str:
    return f"{run}-{i}"


def _text(i: int) -> str:
    # The sender's benchmark sends the same bodies.
    return f"benchmark message {i}"


def run_pywa_sync(graph: Server, messages: int) -> LibraryRun:
    """pywa's documented usage: one client, `send_message` in a loop."""
    from pywa import WhatsApp
    from pywa.errors import WhatsAppError

    run = LibraryRun("pywa, sync client, one message after another", messages)
    wa = WhatsApp(
        phone_id=sender_throughput.NUMBER,
        token=sender_throughput.TOKEN,
        api_version=API_VERSION,
        session=httpx.Client(transport=SimulatorTransport(graph.url)),
    )

    def work() -> None:
        for i in range(messages):
            started = time.perf_counter()
            try:
                wa.send_message(
                    to=RECIPIENTS[i % len(RECIPIENTS)],
                    text=_text(i),
                    tracker=_tracker("sync", i),
                )
            except WhatsAppError as error:
                run.errors[f"code {error.code}"] += 1
            except httpx.HTTPError as error:
                run.errors[type(error).__name__] += 1
            run.call_ms.append((time.perf_counter() - started) * 1000)

    _timed(run, graph, work)
    wa.api._session.close()
    _outcome(run, graph, "sync")
    return run


def run_pywa_async(graph: Server, messages: int, in_flight: int) -> LibraryRun:
    """pywa's async client, `in_flight` sends at a time (asyncio.gather + a semaphore)."""
    from pywa.errors import WhatsAppError
    from pywa_async import WhatsApp

    name = f"async{in_flight}"
    run = LibraryRun(f"pywa_async, {in_flight} sends in flight", messages)

    async def main() -> None:
        session = httpx.AsyncClient(transport=AsyncSimulatorTransport(graph.url))
        wa = WhatsApp(
            phone_id=sender_throughput.NUMBER,
            token=sender_throughput.TOKEN,
            api_version=API_VERSION,
            session=session,
        )
        gate = asyncio.Semaphore(in_flight)

        async def one(i: int) -> None:
            async with gate:
                started = time.perf_counter()
                try:
                    await wa.send_message(
                        to=RECIPIENTS[i % len(RECIPIENTS)],
                        text=_text(i),
                        tracker=_tracker(name, i),
                    )
                except WhatsAppError as error:
                    run.errors[f"code {error.code}"] += 1
                except httpx.HTTPError as error:
                    run.errors[type(error).__name__] += 1
                run.call_ms.append((time.perf_counter() - started) * 1000)

        try:
            await asyncio.gather(*(one(i) for i in range(messages)))
        finally:
            await session.aclose()

    _timed(run, graph, lambda: asyncio.run(main()))
    _outcome(run, graph, name)
    return run


def _timed(run: LibraryRun, graph: Server, work: Callable[[], None]) -> None:
    graph_before = graph.cpu_seconds()
    busy_before = machine_busy_seconds()
    cpu_before = time.process_time()
    started = time.perf_counter()
    work()
    run.wall_s = time.perf_counter() - started
    run.cpu_s = time.process_time() - cpu_before
    graph_after = graph.cpu_seconds()
    if graph_before is not None and graph_after is not None:
        run.simulator_cpu_s = graph_after - graph_before
    busy = machine_busy_seconds() - busy_before
    run.others_cores = max(0.0, busy - run.cpu_s - (run.simulator_cpu_s or 0.0)) / run.wall_s


def _outcome(run: LibraryRun, graph: Server, name: str) -> None:
    accepted = httpx.get(f"{graph.url}/_sim/accepted", timeout=60).json()
    ours = Counter(
        m["biz_opaque_callback_data"]
        for m in accepted
        if str(m.get("biz_opaque_callback_data") or "").startswith(f"{name}-")
    )
    run.accepted = len(ours)
    run.duplicates = sum(1 for count in ours.values() if count > 1)
    run.rejections = httpx.get(f"{graph.url}/_sim/state", timeout=30).json()["rejections"]
    httpx.post(f"{graph.url}/_sim/reset", timeout=30)


# -- the whole comparison --------------------------------------------------------------------


def sender_args(args: argparse.Namespace) -> argparse.Namespace:
    argv = [
        "--messages",
        str(args.messages),
        "--latency-ms",
        f"{args.latency_ms:g}",
        "--queue-depth",
        str(args.queue_depth),
        "--no-calibrate",
    ]
    return sender_throughput.parse_args(argv)


def run(args: argparse.Namespace) -> dict[str, Any]:
    # pywa advises on every transport error; the errors are counted in the table instead.
    for name in ("pywa", "pywa_async"):
        logging.getLogger(name).setLevel(logging.ERROR)
    quiet = wait_until_quiet(args.wait_quiet) if args.wait_quiet else None
    started_at = datetime.now(UTC)
    load_before = os.getloadavg()
    latency_s = args.latency_ms / 1000
    libraries: list[LibraryRun] = []
    with graph_simulator("process", sender_throughput.simulator_config(latency_s)) as graph:
        libraries.append(run_pywa_sync(graph, args.messages))
        if args.async_variants:
            for in_flight in (10, 100):
                libraries.append(run_pywa_async(graph, args.messages, in_flight))
    for library in libraries:
        print(f"{library.label}: {library.mps:.1f} msg/s", file=sys.stderr)

    st_args = sender_args(args)
    ours = sender_throughput.run(st_args)
    summary = sender_throughput.summarize(ours)
    print(f"sender: {summary['mps']:.1f} msg/s", file=sys.stderr)
    return {
        "started_at": started_at,
        "quiet": quiet,
        "load": (load_before, os.getloadavg()),
        "libraries": libraries,
        "sender": summary,
        "sender_ok": sender_throughput.outcome_ok(summary),
        "sender_args": st_args,
    }


def ceiling_ratio(latency_s: float, batch: int = 10) -> float:
    """Ours over pywa's if both paid nothing but the Graph round trip.

    One invocation sends its batch of 10 in one round trip; pywa sends one message per
    round trip: whatever the latency, the ratio of the two ceilings is the batch size.
    """
    if latency_s <= 0:
        raise ValueError("latency must be positive")
    return (batch / latency_s) / (1 / latency_s)


def library_ok(run: LibraryRun) -> bool:
    return run.accepted == run.messages and run.duplicates == 0 and not run.errors


# -- output ------------------------------------------------------------------------------------


def command_line(args: argparse.Namespace) -> str:
    parts = [
        ".venv/bin/python -m benchmarks.vs_library",
        f"--messages {args.messages}",
        f"--latency-ms {args.latency_ms:g}",
        f"--queue-depth {args.queue_depth}",
    ]
    if not args.async_variants:
        parts.append("--no-async")
    if args.wait_quiet:
        parts.append(f"--wait-quiet {args.wait_quiet:g}")
    if args.write_results:
        parts.append("--write-results")
    return " ".join(parts)


def _ms(value: float) -> str:
    return f"{value:.1f}"


def render(result: dict[str, Any], args: argparse.Namespace) -> str:
    m = _report.machine()
    s = result["sender"]
    libraries: list[LibraryRun] = result["libraries"]
    sync = libraries[0]
    ratio = s["mps"] / sync.mps if sync.mps else float("nan")
    verdict = "meets" if ratio >= GOAL_RATIO else "MISSES"
    latency_s = args.latency_ms / 1000
    ceiling = ceiling_ratio(latency_s)
    pywa_ceiling = 1 / latency_s
    ours_ceiling = 10 / latency_s
    load_before, load_after = result["load"]
    lines = [
        f"Command: `{command_line(args)}`",
        "",
        f"- Date: {result['started_at']:%Y-%m-%d %H:%M} UTC",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, {m['os']}; {m['python']}",
        f"- Packages: pywa {_report.package_version('pywa')}, {m['packages']}",
        f"- Load average (1 min) before / after: {load_before[0]:.2f} / {load_after[0]:.2f}",
        f"- Graph simulator in a child process: fixed {args.latency_ms:g} ms answer latency, "
        "1,000 mps per number, pair limit off, no webhooks (`sender_throughput`'s settings); "
        f"{args.messages} text messages to {len(RECIPIENTS)} recipients, each run",
        f"- The sender: `sender_throughput` with `{' '.join(_sender_argv(result))}` "
        "(moto server and the simulator in child processes; queue topped up between "
        "invocations outside the run's clock)",
        "",
        "| who | how | msg/s | accepted / sent twice / errors | per call ms p50 / p95 | "
        "client CPU ms per msg | simulator CPU ms per msg | other processes (cores) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| **the sender** | one invocation at a time, batches of 10 from SQS FIFO (moto) | "
        f"**{s['mps']:.1f}** | {s['accepted_by_simulator']} / {s['duplicates']} / "
        f"{_fates(s)} | invocation {_ms(s['invoke_p50'])} / {_ms(s['invoke_p95'])} | "
        f"{s['sender_cpu_ms_per_msg']:.2f} | {_opt(s.get('graph_cpu_ms_per_msg'))} | "
        f"{s.get('others_cores', float('nan')):.2f} |",
    ]
    for library in libraries:
        lines.append(
            f"| pywa {_report.package_version('pywa')} | {library.label} | **{library.mps:.1f}** | "
            f"{library.accepted} / {library.duplicates} / {dict(library.errors) or 0} | "
            f"{_ms(percentile(library.call_ms, 0.5))} / {_ms(percentile(library.call_ms, 0.95))}"
            f" | {library.cpu_s / library.messages * 1000:.2f} | "
            f"{_opt(_per_msg(library.simulator_cpu_s, library.messages))} | "
            f"{library.others_cores:.2f} |"
        )
    lines += [
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| **ratio: the sender / pywa (sync, as documented)** | **{ratio:.2f}x** ({verdict} "
        f"the {GOAL_RATIO:g}x goal) |",
        f"| ceilings at {args.latency_ms:g} ms: the sender / pywa sync / their ratio | "
        f"{ours_ceiling:.0f} / {pywa_ceiling:.0f} msg/s / {ceiling:.0f}x |",
        f"| the sender, without its first (cold) invocation | {s['mps_steady']:.1f} msg/s |",
        f"| the sender, messages / time inside invocations (poller excluded) | "
        f"{s['sender_limited_mps']:.1f} msg/s ({s['sender_limited_mps'] / sync.mps:.2f}x pywa) |",
        f"| the sender's invocation: Graph calls (first start to last answer), mean | "
        f"{_ms(s['breakdown'].get('Graph calls (first start -> last answer)', float('nan')))} "
        f"of {_ms(s['breakdown'].get('invocation total', float('nan')))} ms |",
        f"| the sender: moto server CPU per message | {_opt(s.get('moto_cpu_ms_per_msg'))} ms |",
    ]
    for library in libraries[1:]:
        lines.append(
            f"| ratio: the sender / {library.label} (concurrency ours, not pywa's docs) | "
            f"{s['mps'] / library.mps if library.mps else float('nan'):.2f}x |"
        )
    lines += ["", "Reading these figures:", "", *notes(result, args, ratio, ceiling)]
    return "\n".join(lines) + "\n"


def notes(
    result: dict[str, Any], args: argparse.Namespace, ratio: float, ceiling: float
) -> list[str]:
    s = result["sender"]
    sync: LibraryRun = result["libraries"][0]
    latency = args.latency_ms
    return [
        f"- The ceiling: an invocation sends its batch of 10 concurrently in one ~{latency:g} "
        f"ms round trip, so one invocation at a time tops out at {10_000 / latency:.0f} msg/s; "
        f"pywa's documented loop waits for each answer, so it tops out at "
        f"{1000 / latency:.0f} msg/s. The ratio of the ceilings is the batch size, "
        f"{ceiling:.0f}x, whatever the latency: the {GOAL_RATIO:g}x goal is above what this "
        "setup allows even for a sender with no cost besides the Graph round trip. It could "
        "only be reached with several invocations at once (Lambda runs many), which this "
        "benchmark, one invocation at a time, does not do.",
        f"- Measured: {ratio:.2f}x. pywa ran at {sync.mps:.1f} msg/s, "
        f"{sync.mps / (1000 / latency):.0%} of its ceiling (its only cost besides the round "
        f"trip is about {sync.cpu_s / sync.messages * 1000:.1f} ms of CPU per message). The "
        f"sender ran at {s['mps']:.1f} msg/s, {s['mps'] / (10_000 / latency):.0%} of its "
        f"ceiling: {_where_time_goes(s)}",
        "- pywa sends and stops there: no queue, no idempotency claim, no rate limit, no "
        "status record, no retry. The sender does all of that for each message, so the two "
        "figures are not the same work; they are what each does for the same "
        f"{args.messages:,} messages.",
        "- pywa has no setting for the Graph base URL; the transport given through its "
        "documented `session=` argument only changes where the request goes (scheme, host, "
        "port and the Host header). Both speak HTTP/1.1 over plain http to the simulator "
        "with kept-alive connections.",
        "- The async rows use pywa_async's documented `await wa.send_message(...)` with "
        "concurrency added here (pywa documents none for sending): 10 in flight is one "
        "invocation's concurrency, 100 is httpx's default pool. They show what one Python "
        "process can push through one client, not pywa's documented usage.",
        "- Client CPU: for the sender, its process's CPU inside invocations (all threads: "
        "boto3, the Graph client, validation, telemetry); for pywa, the benchmark process "
        "running the loop.",
        "- The simulator's 1,000 mps cap per number was never reached (130429 answers to the "
        "pywa runs: "
        + " / ".join(str(r.rejections.get("130429", 0)) for r in result["libraries"])
        + ").",
    ]


def _where_time_goes(s: dict[str, Any]) -> str:
    """The sender's invocation and cycle, from `sender_throughput`'s breakdown."""
    parts = s.get("breakdown", {})
    invocation = parts.get("invocation total", float("nan"))
    graph = parts.get("Graph calls (first start -> last answer)", float("nan"))
    cycle = parts.get("cycle total (receive + invocation + delete)", float("nan"))
    return (
        f"an invocation took {invocation:.0f} ms on average, {graph:.0f} ms of it in the "
        f"Graph calls and the rest in its DynamoDB rounds on moto (claims, limiter "
        f"reservations, `accepted` writes), and each cycle added {cycle - invocation:.0f} ms "
        "of ReceiveMessage and DeleteMessageBatch on moto around it (the event source "
        "mapping's share, outside the Lambda). moto serves one request at a time in one "
        "process; see the sender throughput section for the breakdown."
    )


def _sender_argv(result: dict[str, Any]) -> list[str]:
    a = result["sender_args"]
    return [
        f"--messages {a.messages}",
        f"--latency-ms {a.latency_ms:g}",
        f"--queue-depth {a.queue_depth}",
        "--no-calibrate",
    ]


def _fates(s: dict[str, Any]) -> str:
    failed = {k: v for k, v in s["fates"].items() if k != "done"}
    return str(failed) if failed else "0"


def _per_msg(seconds: float | None, messages: int) -> float | None:
    return None if seconds is None else seconds / messages * 1000


def _opt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.vs_library",
        description="The sender against pywa, to the same Graph simulator.",
    )
    parser.add_argument("--messages", type=int, default=2_000, help="messages per run")
    parser.add_argument(
        "--latency-ms", type=float, default=100.0, help="fixed Graph answer latency"
    )
    parser.add_argument(
        "--queue-depth",
        type=int,
        default=100,
        help="the sender's run: keep at most this many messages queued, topped up "
        "between invocations outside its clock (0: all up front, which makes moto's "
        "ReceiveMessage slow; see sender_throughput)",
    )
    parser.add_argument(
        "--no-async",
        dest="async_variants",
        action="store_false",
        help="skip the pywa_async runs",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="first wait up to this long for other processes to go quiet",
    )
    parser.add_argument(
        "--write-results", action="store_true", help="record the figures in RESULTS.md"
    )
    args = parser.parse_args(argv)
    if args.messages < 10 or args.messages % 10:
        parser.error("--messages must be a positive multiple of 10")
    if args.latency_ms <= 0:
        parser.error("--latency-ms must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = run(args)
    body = render(result, args)
    print(body)
    ok = result["sender_ok"] and all(library_ok(r) for r in result["libraries"])
    if not ok:
        print("OUTCOME CHECK FAILED: not every message was accepted exactly once", file=sys.stderr)
    if args.write_results:
        _report.write_results(
            SECTION_KEY, "The sender against pywa (same simulator, same messages)", body
        )
        print(f"recorded in {_report.RESULTS.name}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
