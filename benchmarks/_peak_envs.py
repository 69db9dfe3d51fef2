"""Child processes of `benchmarks.peak_rate`: one Lambda environment each.

    python -m benchmarks._peak_envs sender  CONFIG   the sender Lambda, fed by the queue
    python -m benchmarks._peak_envs limiter CONFIG   the limiter and Graph client only
    python -m benchmarks._peak_envs graph   CONFIG   the Graph client only (no limiter)

CONFIG is a JSON object (see `peak_rate`). Each prints ``READY`` once warm, waits for
``GO <epoch seconds>`` on its standard input, works from that moment for the configured
duration, then prints ``RESULT <json>`` and exits.

One process per environment, as Lambda runs one: its own interpreter, event loop, boto3
clients, limiter cache and HTTP connections, and its own CPU account.

`sender` is the real handler (`functions/sender/handler.py`) in the local stack's Lambda
runtime, fed by the local stack's event source mapping (one worker: one invocation at a
time). `limiter` is the part of an invocation that decides the send rate, with nothing
else around it: per batch of 10, the sender's number reservation (the real `Limiter` on
the control table, `max_wait_s` = the sender's in-invocation sleep limit), the booked wait
slept, then the 10 sends at once through the real `GraphClient`. `graph` is the same
without the reservation: what the Graph path alone can carry on this machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent


def _protocol_stream() -> TextIO:
    """Our own copy of stdout for READY/RESULT; `print` and log handlers get /dev/null.

    The handler's logger and its EMF metrics write to stdout (CloudWatch in Lambda): they
    still format every line, as in Lambda, but cannot interleave with the protocol.
    """
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    sys.stdout = io.TextIOWrapper(open(os.devnull, "wb"), write_through=True)  # noqa: SIM115
    return protocol


def _wait_for_go(protocol: TextIO) -> float:
    print("READY", file=protocol, flush=True)
    line = sys.stdin.readline().split()
    if len(line) != 2 or line[0] != "GO":
        raise SystemExit("expected GO <epoch seconds> on stdin")
    start_at = float(line[1])
    time.sleep(max(0.0, start_at - time.time()))
    return start_at


# -- the sender Lambda -------------------------------------------------------------------


def run_sender(config: dict[str, Any]) -> dict[str, Any]:
    protocol = _protocol_stream()
    # The handler reads these at cold start (Settings.from_env, boto3's default clients).
    os.environ.update(config["environment"])

    from infra.local.stack.lambda_runtime import FunctionPool
    from infra.local.stack.pollers import QueuePoller
    from infra.local.stack.resources import AwsClients
    from infra.topology import FunctionKey, Topology

    topology = Topology(config["stage"])
    pool = FunctionPool(
        topology.function(FunctionKey.SENDER),
        root=ROOT,
        function_name=f"bench-sender-{config['index']}",
        region=config["region"],
        account_id=config["account_id"],
        max_environments=1,
    )
    pool.warm_up()
    poller = QueuePoller(
        pool,
        AwsClients.for_endpoint(config["moto_url"], config["region"]),
        queue_url=config["queue_url"],
        queue_arn=config["queue_arn"],
        batch_size=10,
        concurrency=1,
    )
    start_at = _wait_for_go(protocol)
    cpu_before = time.process_time()
    poller.start()
    time.sleep(max(0.0, start_at + config["duration_s"] - time.time()))
    poller.stop()
    result = {
        "cpu_s": time.process_time() - cpu_before,
        "poller": poller.stats.as_dict(),
        "invocations": pool.stats.as_dict(),
    }
    pool.close()
    print("RESULT " + json.dumps(result), file=protocol, flush=True)
    return result


# -- the limiter and the Graph client --------------------------------------------------------


def run_limiter(config: dict[str, Any], *, reserve: bool = True) -> dict[str, Any]:
    protocol = _protocol_stream()

    import boto3
    from pixy_whatsapp.graph import (
        GraphAmbiguousError,
        GraphApiError,
        GraphClient,
        GraphClientSettings,
        GraphNotSentError,
    )
    from pixy_whatsapp.limits import DynamoDBLimitStore, Limiter, LimitKey, Reservation
    from pixy_whatsapp.sender.policy import SenderPolicy
    from pydantic import SecretStr

    from benchmarks._aws_calls import AwsCallRecorder

    session: Any = boto3.session.Session()
    dynamodb = session.client(
        "dynamodb",
        endpoint_url=config["moto_url"],
        region_name=config["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    limiter = Limiter(DynamoDBLimitStore(dynamodb, config["control_table"]))
    number = config["phone_number_id"]
    key = LimitKey.number(number)
    graph = GraphClient(GraphClientSettings(base_url=config["graph_url"]))
    token = SecretStr(config["token"])
    max_wait_s = SenderPolicy().max_sleep_s
    batch = config["batch"]
    prefix = f"{config['run']}-{config['index']}-"
    calls = AwsCallRecorder("limiter")

    outcomes: Counter[str] = Counter()
    grants: Counter[str] = Counter()
    waits: list[float] = []
    reserve_ms: list[float] = []
    late_ms: list[float] = []
    # When each refused send left, to tell a start-up burst from a steady excess.
    refused_at: list[float] = []
    # Beyond the simulator's fixed latency, a call's time is queueing on either side.
    call_ms: list[float] = []
    # When the calls that took half as long again as the simulator's latency left.
    slow_at: list[float] = []
    sent = 0

    async def send(to_number: str, sequence: int, *, counted: bool = True) -> None:
        body = {
            "to": f"1{(config['index'] * 1_000_000 + sequence) % 10**10:010d}",
            "type": "text",
            "text": {"body": f"peak rate message {prefix}{sequence}"},
        }
        leaving = time.time()
        started = time.perf_counter()
        try:
            await graph.send_message(
                to_number, body, token, biz_opaque_callback_data=f"{prefix}{sequence}"
            )
        except GraphApiError as error:
            outcome = f"code {error.code}"
            if counted and error.code == 130429:
                refused_at.append(leaving)
        except GraphAmbiguousError:
            outcome = "ambiguous"
        except GraphNotSentError:
            outcome = "not sent"
        else:
            outcome = "accepted"
        if counted:
            outcomes[outcome] += 1
            took = time.perf_counter() - started
            call_ms.append(took * 1000)
            if took > 1.5 * config["latency_s"]:
                slow_at.append(leaving)

    async def warm_up() -> Any:
        """What a warm Lambda environment already has: a used boto3 client and limiter,
        the number's override read, open Graph connections. Nothing on the measured key."""
        if not reserve:
            await asyncio.gather(
                *(send(config["warmup_number"], -1 - i, counted=False) for i in range(batch))
            )
            return None
        await asyncio.to_thread(
            limiter.reserve_many,
            [Reservation(key=LimitKey.number(f"warmup{config['index']}"), tokens=1)],
        )
        policy = await asyncio.to_thread(limiter.policy, key)
        await asyncio.gather(
            *(send(config["warmup_number"], -1 - i, counted=False) for i in range(batch))
        )
        # Counted from here: the measured reservations only.
        calls.attach(dynamodb, ask_capacity=False)
        return policy

    async def environment(deadline: float, policy: Any) -> None:
        nonlocal sent
        while time.time() < deadline:
            if not reserve:
                await asyncio.gather(*(send(number, sent + i) for i in range(batch)))
                sent += batch
                continue
            asked_at = time.time()
            started = time.perf_counter()
            [grant] = await asyncio.to_thread(
                limiter.reserve_many,
                [Reservation(key=key, tokens=batch, max_wait_s=max_wait_s)],
            )
            reserve_ms.append((time.perf_counter() - started) * 1000)
            grants[str(grant.reason)] += 1
            if not grant.granted:
                # The sender hands such a batch back to the queue and the environment
                # takes its next one at once: here, the next reservation.
                continue
            waits.append(grant.wait_s)
            # As the sender does: the booked wait is slept once the reservation is back.
            if grant.wait_s > 0:
                await asyncio.sleep(grant.wait_s)
            # The slot the limiter booked: the batch's new TAT less the burst's tolerance,
            # or the moment of asking if the key had room at once.
            slot = max(asked_at, grant.tat_ms / 1000 - policy.tolerance_us / 1e6)
            late_ms.append((time.time() - slot) * 1000)
            await asyncio.gather(*(send(number, sent + i) for i in range(batch)))
            sent += batch

    cpu_before = 0.0

    async def main() -> None:
        nonlocal cpu_before
        try:
            policy = await warm_up()
            print("READY", file=protocol, flush=True)
            line = (await asyncio.to_thread(sys.stdin.readline)).split()
            if len(line) != 2 or line[0] != "GO":
                raise SystemExit("expected GO <epoch seconds> on stdin")
            start_at = float(line[1])
            await asyncio.sleep(max(0.0, start_at - time.time()))
            cpu_before = time.process_time()
            await environment(start_at + config["duration_s"], policy)
        finally:
            await graph.aclose()

    asyncio.run(main())
    limiter.close()
    stats = {
        f"{service} {operation}": {"calls": s.calls, "errors": dict(s.errors)}
        for (service, operation), s in calls.stats.items()
    }
    result = {
        "cpu_s": time.process_time() - cpu_before,
        "sent": sent,
        "outcomes": dict(outcomes),
        "grants": dict(grants),
        "waits_s": waits,
        "reserve_ms": reserve_ms,
        "late_ms": late_ms,
        "refused_at": refused_at,
        "call_ms": call_ms,
        "slow_at": slow_at,
        "aws": stats,
    }
    print("RESULT " + json.dumps(result), file=protocol, flush=True)
    return result


def main(argv: list[str]) -> None:
    if len(argv) != 2 or argv[0] not in ("sender", "limiter", "graph"):
        raise SystemExit(__doc__)
    config = json.loads(argv[1])
    with contextlib.suppress(KeyboardInterrupt):
        if argv[0] == "sender":
            run_sender(config)
        else:
            run_limiter(config, reserve=argv[0] == "limiter")


if __name__ == "__main__":
    main(sys.argv[1:])
