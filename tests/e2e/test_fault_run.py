"""Fault injection at scale: thousands of messages through the local stack, Meta failing.

The whole run long, 5 % of sends get a 5xx, 2 % time out (half before Meta took the
message, half after), 1 % have their connection reset (likewise); one WABA's token is
revoked for 30 s and then replaced; and the sender's environments, child processes here,
are SIGKILLed at random moments (exponential gaps), wherever their invocation happens to
be. Afterwards every message is terminal, none is lost, and Meta accepted no message more
often than the sender's counted re-sends of unresolved (ambiguous) attempts allow.

    make fault-run                       # 10,000 messages, figures in benchmarks/RESULTS.md
    make fault-run FAULT_RUN_MESSAGES=1000

Environment: ``PIXY_FAULT_RUN_MESSAGES`` (10,000), ``PIXY_FAULT_RUN_KILL_MEAN_S`` (mean
seconds between kills, 10), ``PIXY_FAULT_RUN_SEED``, ``PIXY_WRITE_RESULTS=1`` (record the
figures in benchmarks/RESULTS.md, as ``make fault-run`` does).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from infra.local.stack.demo import (
    API_BATCH,
    DemoResult,
    Submission,
    fetch_records,
    plan_messages,
    submit_via_api,
    submit_via_queue,
)
from infra.local.stack.emf import percentile
from infra.local.stack.runner import LOCAL_SETTINGS, LocalConfig, LocalStack, demo_wabas
from infra.local.stack.worker import CrashInjector, Kill
from infra.topology import FunctionKey, QueueKey

from .conftest import start_stack

pytestmark = pytest.mark.slow

MESSAGES = int(os.environ.get("PIXY_FAULT_RUN_MESSAGES", "10000"))
KILL_MEAN_S = float(os.environ.get("PIXY_FAULT_RUN_KILL_MEAN_S", "10"))
SEED = int(os.environ.get("PIXY_FAULT_RUN_SEED", "11"))
WRITE_RESULTS = os.environ.get("PIXY_WRITE_RESULTS") == "1"

FAULTS = (
    "server_error:0.05",
    "timeout:0.01",
    "timeout:0.01:after_accept",
    "connection_reset:0.005",
    "connection_reset:0.005:after_accept",
)
WABAS = demo_wabas()
REVOKED = WABAS[2]
ROTATED_TOKEN = "local-token-waba-3-rotated"
REVOKED_FOR_S = 30.0
# The sender's timeout, the least visibility Lambda accepts for its queue: a killed batch
# comes back after 30 s instead of the 3 minutes the stack's queue is given.
OUTBOUND_VISIBILITY_S = 30
# moto's ReceiveMessage walks the whole queue (measured: 50 ms at 100 deep, 900 ms at
# 2,000), so messages are handed over as the queue drains, as steady traffic would be.
BACKLOG = 400
# Status webhooks come back through the inbound queue. Left to fall behind (it did, to 850
# deep, in a 1,000-message run), a send that reached Meta stays unresolved past the
# ambiguous window and is sent again, and moto slows down for both queues: hand over no
# faster than the inbound path keeps up.
INBOUND_BACKLOG = 200
EXPEDITE_EVERY_S = 5.0
RECORDS_EVERY_S = 5.0
_FINAL = frozenset({"delivered", "read", "failed"})


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    yield from start_stack(
        LocalConfig(
            http_port=0,
            faults=FAULTS,
            seed=SEED,
            process_functions=frozenset({FunctionKey.SENDER}),
            settings={
                **LOCAL_SETTINGS,
                # A held request (timeout fault) is given up after 2 s; the simulator's
                # latency tail stays far below that even on a loaded machine.
                "graph_timeout_seconds": 2.0,
                # Longer than the inbound path lags at this load, so a send that reached
                # Meta before its environment died is found by its webhook, not re-sent.
                "ambiguous_window_seconds": 30,
            },
        )
    )


@dataclass
class Drill:
    """What happens to the stack on a timer while the messages flow, in its own thread."""

    stack: LocalStack
    revoke_after_handed_over: int
    handed_over: Callable[[], int]
    revoked_at: float | None = None
    rotated_at: float | None = None
    expedites: int = 0
    expedited: int = 0
    _last_expedite: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Drill:
        self._thread = threading.Thread(target=self._run, name="fault-run-drill", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self.tick(time.time())

    def tick(self, now: float) -> None:
        if self.revoked_at is None and self.handed_over() >= self.revoke_after_handed_over:
            self.stack.simulator.revoke_token(REVOKED.token)
            self.revoked_at = now
        elif (
            self.revoked_at is not None
            and self.rotated_at is None
            and now - self.revoked_at >= REVOKED_FOR_S
        ):
            self.stack.rotate_token(REVOKED.waba_id, ROTATED_TOKEN)
            self.rotated_at = now
        # A revoked token holds its WABA's breaker, which defers the WABA's messages for 15
        # minutes; once the token is replaced, what the sender handed back is made visible
        # every few seconds, standing in for that time passing. So are the records of a
        # killed invocation still away after their visibility timeout: the invocation had
        # deferred them itself before it died.
        if self.rotated_at is not None and now - self._last_expedite >= EXPEDITE_EVERY_S:
            self._last_expedite = now
            self.expedites += 1
            self.expedited += self.stack.pollers[FunctionKey.SENDER].expedite(
                crashed_older_than_s=OUTBOUND_VISIBILITY_S + EXPEDITE_EVERY_S
            )


@dataclass
class FaultRun:
    stack: LocalStack
    count: int
    submissions: list[Submission] = field(default_factory=list)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    started_at: float = 0.0
    handed_over_at: float = 0.0
    finished_at: float = 0.0
    settled: bool = False
    max_depth: int = 0
    max_inbound: int = 0
    max_webhooks_pending: int = 0
    progress: list[str] = field(default_factory=list)

    @property
    def handed_over(self) -> int:
        return len(self.submissions)

    def drive(self, timeout_s: float) -> None:
        """Hand the messages over as the queue drains; wait until every one is terminal."""
        planned = list(enumerate(plan_messages(self.stack, self.count)))
        chunks = [planned[i : i + API_BATCH] for i in range(0, len(planned), API_BATCH)]
        self.started_at = time.time()
        deadline = self.started_at + timeout_s
        last_records = last_note = 0.0
        with httpx.Client(timeout=60.0) as client:
            while time.time() < deadline:
                backlog = sum(self.stack.queue_depth(QueueKey.OUTBOUND).values())
                inbound = sum(self.stack.queue_depth(QueueKey.INBOUND).values())
                self.max_depth = max(self.max_depth, backlog)
                self.max_inbound = max(self.max_inbound, inbound)
                while chunks and backlog < BACKLOG and inbound < INBOUND_BACKLOG:
                    chunk = chunks.pop(0)
                    # Both ways in, in turns: the API and a direct enqueue.
                    if len(chunks) % 2:
                        self.submissions.extend(submit_via_api(self.stack.api_url, chunk, client))
                    else:
                        self.submissions.extend(submit_via_queue(self.stack, chunk))
                    backlog += len(chunk)
                    if not chunks:
                        self.handed_over_at = time.time()
                now = time.time()
                if now - last_records >= RECORDS_EVERY_S:
                    last_records = now
                    pending = int(self.stack.simulator.state().get("webhooks_pending") or 0)
                    self.max_webhooks_pending = max(self.max_webhooks_pending, pending)
                    open_ids = [
                        i for i in self._ids() if self.records.get(i, {}).get("st") not in _FINAL
                    ]
                    self.records.update(fetch_records(self.stack, open_ids))
                    if not chunks and self._all_final() and self._quiet():
                        self.settled = True
                        break
                if now - last_note >= 30:
                    last_note = now
                    self._note(backlog, inbound)
                time.sleep(1.0)
        self.finished_at = time.time()

    def _ids(self) -> list[str]:
        return [s.id for s in self.submissions if s.id is not None and s.error is None]

    def _all_final(self) -> bool:
        return all(self.records.get(i, {}).get("st") in _FINAL for i in self._ids())

    def _quiet(self) -> bool:
        """No status webhook left to post or to apply: the final statuses cannot change."""
        if self.stack.simulator.state().get("webhooks_pending"):
            return False
        inbound = self.stack.queue_depth(QueueKey.INBOUND)
        poller = self.stack.pollers[FunctionKey.INBOUND]
        # A record the inbound function handed back waits out its 3-minute visibility; it
        # cannot change a terminal message (as the demo reasons).
        in_flight = max(0, inbound["in_flight"] - poller.handed_back)
        return inbound["visible"] + inbound["delayed"] + in_flight == 0

    def _note(self, backlog: int, inbound: int) -> None:
        counts = Counter(self.records.get(i, {}).get("st", "queued") for i in self._ids())
        line = (
            f"{time.time() - self.started_at:6.0f} s: handed over {len(self.submissions)}, "
            f"outbound backlog {backlog}, inbound {inbound}, "
            + ", ".join(f"{name} {number}" for name, number in sorted(counts.items()))
        )
        self.progress.append(line)
        print(line, file=sys.stderr, flush=True)

    def result(self) -> DemoResult:
        self.records.update(fetch_records(self.stack, self._ids()))
        result = DemoResult(
            count=self.count,
            submissions=self.submissions,
            records=self.records,
            started_at=self.started_at,
            finished_at=self.finished_at,
            settled=self.settled,
            simulated=True,
        )
        result.emf = self.stack.emf.snapshot(since=self.started_at - 1)
        result.accepted_by_callback = self.stack.simulator.accepted_by_callback_data()
        state = self.stack.simulator.state()
        result.simulator = {key: state.get(key) for key in ("rejections", "faults", "webhooks")}
        for key in (QueueKey.OUTBOUND, QueueKey.INBOUND):
            depth = self.stack.queue_depth(key, dlq=True)
            if depth["visible"] + depth["in_flight"]:
                result.dlq[f"{key}-dlq"] = depth["visible"] + depth["in_flight"]
        return result


# -- figures ----------------------------------------------------------------------------------


def _emf_sum(result: DemoResult, metric: str) -> float:
    return sum(
        float(series["sum"])
        for series in result.emf.get("series", [])
        if series["metric"] == metric and set(series["dimensions"]) <= {"service"}
    )


def _acceptances(stack: LocalStack) -> dict[str, list[tuple[float, str | None]]]:
    """Meta's acceptances by our message id: (when, the after-acceptance fault if any)."""
    accepted: dict[str, list[tuple[float, str | None]]] = {}
    for message in stack.simulator.accepted:
        if message.biz_opaque_callback_data:
            fault = str(message.fault) if message.fault is not None else None
            accepted.setdefault(message.biz_opaque_callback_data, []).append(
                (message.accepted_at, fault)
            )
    return accepted


def _batch_ids(kill: Kill) -> list[str]:
    ids = []
    for body in kill.bodies:
        try:
            ids.append(str(json.loads(body).get("id")))
        except (ValueError, AttributeError):
            continue
    return ids


# A request the dead environment had already written is still read and accepted by the
# simulator after the kill: acceptances this soon after a kill count as the kill's.
_ON_THE_WIRE_S = 1.0


def _during(kill: Kill, at: float) -> bool:
    return kill.at - kill.into_invocation_s <= at <= kill.at + _ON_THE_WIRE_S


def _kill_points(
    kills: list[Kill], accepted: dict[str, list[tuple[float, str | None]]]
) -> Counter[str]:
    """Where each kill landed, as far as Meta can tell: before or after it accepted a send
    of the killed invocation's batch."""
    points: Counter[str] = Counter()
    for kill in kills:
        after = any(_during(kill, at) for i in _batch_ids(kill) for at, _ in accepted.get(i, ()))
        points["after Meta accepted one of the batch" if after else "before any was accepted"] += 1
    return points


def _duplicate_causes(
    result: DemoResult, kills: list[Kill], accepted: dict[str, list[tuple[float, str | None]]]
) -> tuple[Counter[str], list[str]]:
    """Why each message Meta accepted twice was sent again: what hid its first acceptance
    from the sender, and how long after it the second send came."""
    causes: Counter[str] = Counter()
    details = []
    for message_id in sorted(result.duplicates):
        sends = sorted(accepted.get(message_id, []))
        first_at, first_fault = sends[0]
        killed = [
            kill for kill in kills if message_id in _batch_ids(kill) and _during(kill, first_at)
        ]
        if first_fault in ("timeout", "connection_reset"):
            cause = f"first answer lost ({first_fault} after acceptance)"
        elif killed:
            cause = "environment killed after Meta accepted"
        else:
            cause = "other"
        causes[cause] += 1
        record = result.records.get(message_id) or {}
        details.append(
            f"{message_id}: {cause}; sends at +"
            + ", +".join(f"{at - first_at:.1f} s" for at, _ in sends)
            + f"; record {record.get('st')} after {record.get('attempts')} attempts"
        )
    return causes, details


def figures(
    stack: LocalStack,
    run: FaultRun,
    drill: Drill,
    injector: CrashInjector,
    result: DemoResult,
    load: tuple[float, float],
) -> dict[str, Any]:
    sender = stack.pools[FunctionKey.SENDER]
    counted = sender.counted_metrics()
    simulator = stack.simulator
    faults = simulator.fault_counts
    after_accept = Counter(str(m.fault) for m in simulator.accepted if m.fault is not None)
    rejections = simulator.rejections
    before = {kind: faults.get(kind, 0) - after_accept.get(kind, 0) for kind in faults}
    graph_requests = (
        len(simulator.accepted)
        + sum(rejections.values())
        + before.get("timeout", 0)
        + before.get("connection_reset", 0)
    )
    wall = run.finished_at - run.started_at
    into = [kill.into_invocation_s * 1000 for kill in injector.kills]
    acceptances = _acceptances(stack)
    causes, details = _duplicate_causes(result, injector.kills, acceptances)
    poller = stack.pollers[FunctionKey.SENDER].stats.as_dict()
    summary = result.summary()
    return {
        "messages": run.count,
        "handed_over": Counter(s.via for s in run.submissions),
        "submit_errors": len(result.submit_errors),
        "settled": result.settled,
        "statuses": result.status_counts,
        "terminal": sum(result.status_counts.get(s, 0) for s in _FINAL),
        "lost": len(result.lost),
        "duplicates": len(result.duplicates),
        "extra_sends": result.extra_sends,
        "ambiguous_sends": counted.get("AmbiguousSends", 0.0),
        "ambiguous_resends": counted.get("AmbiguousResends", 0.0),
        "ambiguous_sends_emf": _emf_sum(result, "AmbiguousSends"),
        "ambiguous_resends_emf": _emf_sum(result, "AmbiguousResends"),
        "retries": counted.get("Retries", 0.0),
        "redeliveries_skipped": counted.get("RedeliveriesSkipped", 0.0),
        "failure_classes": result.error_classes(),
        "non_monotonic": len(result.non_monotonic()),
        "dlq": result.dlq,
        "kills": len(injector.kills),
        "idle_moments": injector.idle_moments,
        "kill_points": _kill_points(injector.kills, acceptances),
        "duplicate_causes": causes,
        "duplicate_details": details,
        "kill_into_ms": (percentile(into, 10), percentile(into, 50), percentile(into, 90)),
        "sender_stats": sender.stats.as_dict(),
        "crashed_batches": poller["crashed_batches"],
        "expedited_after_crash": poller["expedited_after_crash"],
        "max_inbound": run.max_inbound,
        "max_webhooks_pending": run.max_webhooks_pending,
        "webhooks": simulator.webhook_counts,
        "wall_s": wall,
        "handover_s": (run.handed_over_at or run.finished_at) - run.started_at,
        "mps": run.count / wall if wall > 0 else 0.0,
        "accepted_mps": summary["mps"],
        "p50_ms": summary["p50_ms"],
        "p95_ms": summary["p95_ms"],
        "p99_ms": summary["p99_ms"],
        "max_backlog": run.max_depth,
        "faults": faults,
        "faults_before": before,
        "faults_after": dict(after_accept),
        "rejections": rejections,
        "graph_requests": graph_requests,
        "accepted_by_meta": len(simulator.accepted),
        "revoked_at_s": (drill.revoked_at or 0) - run.started_at if drill.revoked_at else None,
        "rotated_at_s": (drill.rotated_at or 0) - run.started_at if drill.rotated_at else None,
        "expedites": drill.expedites,
        "expedited": drill.expedited,
        "load": load,
    }


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.2f} %" if whole else "n/a"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def render(f: dict[str, Any], checks: list[tuple[str, bool]], when: datetime) -> str:
    from benchmarks._report import machine

    m = machine()
    command = "make fault-run" + (
        "" if f["messages"] == 10_000 else f" FAULT_RUN_MESSAGES={f['messages']}"
    )
    statuses = f["statuses"]
    faults, before, after = f["faults"], f["faults_before"], f["faults_after"]
    requests = f["graph_requests"]
    failed_checks = [name for name, ok in checks if not ok]
    into = f["kill_into_ms"]
    outcome = "FAILED: " + "; ".join(failed_checks) if failed_checks else "all checks passed"
    server_errors = faults.get("server_error", 0)
    lines = [
        f"Command: `{command}` (under `flock /tmp/pixy-bench.lock`; runs "
        f"`PIXY_WRITE_RESULTS=1 PIXY_FAULT_RUN_MESSAGES={f['messages']} .venv/bin/python -m "
        f"pytest -m slow tests/e2e/test_fault_run.py`)",
        "",
        f"- Date: {when:%Y-%m-%d %H:%M} UTC",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, {m['os']}; {m['python']}",
        f"- Packages: {m['packages']}",
        f"- Load average (1 min) before / after: {f['load'][0]:.2f} / {f['load'][1]:.2f}",
        "- Local stack: moto server in a child process; Graph simulator with lognormal 80 ms "
        "latency, 80 mps per number, Meta's pair limit, status webhooks (2 % duplicated, "
        "2 % reordered); 3 WABAs x 2 numbers, two messages per recipient; sender 4 "
        "environments, each a child process; Graph timeout 2 s, ambiguous window 30 s, "
        f"outbound visibility {OUTBOUND_VISIBILITY_S} s; messages handed over (half "
        f"`POST /v1/messages`, half `enqueue()`) while the outbound queue held under "
        f"{BACKLOG} and the inbound queue under {INBOUND_BACKLOG} messages",
        f"- Faults asked for: {', '.join(f'`{spec}`' for spec in FAULTS)}; token of WABA "
        f"{REVOKED.waba_id} revoked for {REVOKED_FOR_S:.0f} s, then rotated; sender "
        f"environments SIGKILLed at random moments, exponential gaps with mean "
        f"{KILL_MEAN_S:g} s (seed {SEED})",
        f"- Outcome: **{outcome}**",
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| messages | {f['messages']} ({f['handed_over'].get('api', 0)} via the API, "
        f"{f['handed_over'].get('enqueue', 0)} via enqueue; {f['submit_errors']} refused) |",
        f"| terminal | **{f['terminal']}** (delivered {statuses.get('delivered', 0)}, read "
        f"{statuses.get('read', 0)}, failed {statuses.get('failed', 0)}) |",
        f"| lost (not terminal) | **{f['lost']}** |",
        f"| duplicates (accepted by Meta more than once) | **{f['duplicates']}** messages, "
        f"{f['extra_sends']} extra sends; why: {dict(f['duplicate_causes']) or 'none'} |",
        f"| ambiguous sends counted by the sender (Graph call outcome unknown) | "
        f"{f['ambiguous_sends']:.0f} ({f['ambiguous_sends_emf']:.0f} reached EMF) |",
        f"| ambiguous re-sends counted (attempt left unresolved, window passed, sent again) | "
        f"**{f['ambiguous_resends']:.0f}** ({f['ambiguous_resends_emf']:.0f} reached EMF; "
        "the rest were counted by invocations killed before their flush) |",
        f"| retries / redeliveries skipped (already accepted) | {f['retries']:.0f} / "
        f"{f['redeliveries_skipped']:.0f} |",
        f"| failures by class | {dict(f['failure_classes']) or 'none'} |",
        f"| statuses not the furthest seen / DLQ | {f['non_monotonic']} / {f['dlq'] or 'empty'} |",
        f"| sender kills performed | **{f['kills']}** ({f['idle_moments']} drawn moments found "
        f"no busy environment); batches lost to a kill or timeout: {f['crashed_batches']} |",
        f"| where the kills landed (Meta's view) | {dict(f['kill_points']) or 'none'}; "
        f"{_ms(into[0])} / {_ms(into[1])} / {_ms(into[2])} ms into the invocation (p10 / p50 "
        "/ p90) |",
        f"| sender invocations | {f['sender_stats']['invocations']:.0f} (mean "
        f"{f['sender_stats']['mean_ms']:.0f} ms, {f['sender_stats']['cold_starts']:.0f} cold "
        f"starts, {f['sender_stats']['crashes']:.0f} died) |",
        f"| wall time (first hand-over to all terminal) | **{f['wall_s']:.1f} s** (hand-over "
        f"done at {f['handover_s']:.1f} s) |",
        f"| messages/s (terminal, whole run) | **{f['mps']:.1f}** |",
        f"| accepted by Meta per second | {f['accepted_mps']:.1f} |",
        f"| enqueue -> accepted p50 / p95 / p99 | {_ms(f['p50_ms'])} / {_ms(f['p95_ms'])} / "
        f"{_ms(f['p99_ms'])} ms |",
        f"| outbound queue, deepest | {f['max_backlog']} |",
        f"| Graph send requests (accepted + refused + unanswered) | {requests} "
        f"({f['accepted_by_meta']} accepted) |",
        f"| 5xx injected | {server_errors} ({_pct(server_errors, requests)}) |",
        f"| timeouts injected, before / after acceptance | {before.get('timeout', 0)} / "
        f"{after.get('timeout', 0)} ({_pct(faults.get('timeout', 0), requests)}) |",
        f"| connection resets injected, before / after acceptance | "
        f"{before.get('connection_reset', 0)} / {after.get('connection_reset', 0)} "
        f"({_pct(faults.get('connection_reset', 0), requests)}) |",
        f"| token revoked / rotated at | {_ms(f['revoked_at_s'])} s / {_ms(f['rotated_at_s'])} "
        f"s; {f['rejections'].get(190, 0)} sends refused with code 190 |",
        f"| Graph error answers by code | {dict(sorted(f['rejections'].items()))} |",
        f"| held messages made visible after the rotation | {f['expedited']} in "
        f"{f['expedites']} sweeps every {EXPEDITE_EVERY_S:g} s ({f['expedited_after_crash']} of "
        "them from killed invocations, still away after their visibility timeout) |",
        f"| inbound queue, deepest / webhooks waiting at the simulator, most | "
        f"{f['max_inbound']} / {f['max_webhooks_pending']} |",
        f"| status webhooks (simulator's counts) | {f['webhooks']} |",
        "",
        "Duplicates can only come from re-sends of unresolved attempts, so the check is "
        "duplicates (extra sends) <= ambiguous re-sends counted. A re-send goes out only when "
        "the ambiguous window passed without any status webhook of the first send applied: "
        "the duplicates measure how often the inbound path (simulator -> webhook -> inbound "
        "queue -> inbound) lagged more than that window behind. The sender's counts are "
        "streamed from its environments as they are added, so the ones of invocations killed "
        "before their EMF flush are still counted; EMF alone would miss them, as CloudWatch "
        "would.",
        "",
    ]
    return "\n".join(lines)


def test_messages_survive_meta_failing_a_revoked_token_and_killed_senders(
    stack: LocalStack,
) -> None:
    load_before = os.getloadavg()[0]
    stack.clients.client("sqs").set_queue_attributes(
        QueueUrl=stack.queue_url(QueueKey.OUTBOUND),
        Attributes={"VisibilityTimeout": str(OUTBOUND_VISIBILITY_S)},
    )
    run = FaultRun(stack, MESSAGES)
    drill = Drill(
        stack,
        revoke_after_handed_over=max(1, MESSAGES // 5),
        handed_over=lambda: run.handed_over,
    )
    with (
        drill,
        CrashInjector(
            stack.pools[FunctionKey.SENDER], mean_interval_s=KILL_MEAN_S, seed=SEED
        ) as injector,
    ):
        run.drive(timeout_s=300 + MESSAGES * 0.3)
    result = run.result()
    f = figures(stack, run, drill, injector, result, (load_before, os.getloadavg()[0]))

    revoked_after_rotation = drill.rotated_at is not None and any(
        message.waba_id == REVOKED.waba_id and message.accepted_at > drill.rotated_at
        for message in stack.simulator.accepted
    )
    long_enough = f["wall_s"] > 5 * KILL_MEAN_S
    checks = [
        ("settled in time", result.settled),
        ("no message refused at hand-over", f["submit_errors"] == 0),
        ("every message terminal", f["terminal"] == MESSAGES),
        ("none lost", f["lost"] == 0),
        ("duplicates <= ambiguous re-sends", f["extra_sends"] <= f["ambiguous_resends"]),
        ("statuses monotonic", f["non_monotonic"] == 0),
        ("DLQ empty", not f["dlq"]),
        ("token refused while revoked", f["rejections"].get(190, 0) >= 1),
        ("revoked WABA sent again after rotation", revoked_after_rotation),
        ("sender killed", f["kills"] >= 1 or not long_enough),
    ]
    if MESSAGES >= 1000:
        for kind in ("server_error", "timeout", "connection_reset"):
            checks.append((f"{kind} injected", f["faults"].get(kind, 0) >= 1))
    body = render(f, checks, datetime.now(UTC))
    non_monotonic = [
        json.dumps(result.records.get(i), sort_keys=True) for i in result.non_monotonic()
    ]
    report = "\n".join(
        [
            body,
            *run.progress,
            *result.report_lines(),
            "duplicates:",
            *f["duplicate_details"],
            "not the furthest status seen:",
            *non_monotonic,
        ]
    )
    print(report, file=sys.stderr)
    if WRITE_RESULTS:
        from benchmarks._report import write_results

        write_results(
            "fault_run",
            f"Fault injection at scale: {MESSAGES:,} messages, Meta failing, senders killed",
            body,
        )
    failed = [name for name, ok in checks if not ok]
    assert not failed, f"{failed}\n{report}"
