"""Lambda environments in child processes, so that they can die the way Lambda's do.

In-process environments (:mod:`infra.local.stack.lambda_runtime`) are threads, and a thread
cannot be killed: a test cannot cut an invocation short between two DynamoDB writes, or
while its Graph call is on the wire, as a Lambda timeout, an out-of-memory kill or a host
failure does. Here an environment is ``python -m infra.local.stack.worker``: a child
process that imports the handler once (its cold start) and then serves one invocation at
a time over a socket pair. The parent hands it the event and Lambda's context and gets the
handler's answer back, or learns that the process died, which it reports as
:class:`~infra.local.stack.lambda_runtime.EnvironmentCrashed`; the pool then cold-starts a
new environment, as Lambda does.

What crosses the socket (JSON, one message per ``send_bytes``):

- child -> parent ``{"ready": pid}`` once the handler is imported, or
  ``{"cold_start_error": traceback}``;
- parent -> child ``{"event": ..., "context": {...}}``;
- child -> parent, while the handler runs, ``{"metric": name, "value": v}`` for every value
  a handler hands Powertools, before any flush: a killed invocation's EMF never reaches
  CloudWatch (nor the local aggregator), but the parent still knows what it counted;
- child -> parent ``{"result": ..., "emf": [...]}`` or ``{"error": ..., "trace": ...,
  "emf": [...]}``: the EMF blobs the invocation printed, which the parent feeds to the
  stack's :class:`~infra.local.stack.emf.EmfAggregator` as if printed in-process.

:class:`CrashInjector` kills busy environments of a pool with SIGKILL at random moments
(exponential gaps, seeded): by time, not at chosen code points, so the kills land wherever
the invocation happens to be (before its claims, between claim and send, during a Graph
call, after Meta accepted but before the record says so, before the poller deletes).

Example::

    pool = FunctionPool(spec, root=ROOT, ..., isolation="process", emf=aggregator)
    with CrashInjector(pool, mean_interval_s=10, seed=1) as crashes:
        ...                                   # the pollers invoke the pool meanwhile
    crashes.kills
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from infra.local.stack.emf import EmfAggregator, capture_emf
from infra.local.stack.lambda_runtime import (
    EnvironmentCrashed,
    HandlerMissing,
    InvocationTimedOut,
    LambdaContext,
)
from infra.topology import FunctionKey, FunctionSpec

if TYPE_CHECKING:
    from infra.local.stack.lambda_runtime import FunctionPool

_log = logging.getLogger("pixy.local.lambda")

ROOT = Path(__file__).resolve().parents[3]
COLD_START_TIMEOUT_S = 60.0
"""A cold start slower than this is a broken environment, not a slow machine."""
_CLOSE_WAIT_S = 5.0


class InvocationFailed(RuntimeError):
    """The handler raised; the message carries the child's traceback."""


@dataclass(frozen=True)
class Busy:
    """The invocation an environment is running."""

    started: float  # monotonic
    request_id: str
    record_ids: tuple[str, ...]
    bodies: tuple[str, ...]


class ProcessEnvironment:
    """One Lambda execution environment in a child process (see the module docstring)."""

    def __init__(
        self,
        spec: FunctionSpec,
        path: Path,
        *,
        emf: EmfAggregator | None = None,
        on_metric: Callable[[str, float], None] | None = None,
        start_timeout_s: float = COLD_START_TIMEOUT_S,
    ) -> None:
        self.spec = spec
        self.path = path
        self._emf = emf
        self._on_metric = on_metric
        self._lock = threading.Lock()
        self._busy: Busy | None = None
        self._dead = False
        ours, theirs = socket.socketpair()
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(
            part
            for part in (
                str(ROOT),
                str(ROOT / "layers" / "core" / "python"),
                os.environ.get("PYTHONPATH"),
            )
            if part
        )
        try:
            self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [
                    sys.executable,
                    "-m",
                    "infra.local.stack.worker",
                    "--fd",
                    str(theirs.fileno()),
                    "--path",
                    str(path),
                    "--spec",
                    json.dumps(_spec_fields(spec)),
                ],
                cwd=ROOT,
                env=environment,
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                # Its own session: Ctrl-C reaches the stack, which then stops its workers
                # after the pollers have let go of them, as it does with moto.
                start_new_session=True,
            )
        finally:
            theirs.close()
        self._conn = Connection(ours.detach())
        self._await_ready(start_timeout_s)

    # -- what it is ----------------------------------------------------------------------------

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def alive(self) -> bool:
        return not self._dead and self._process.poll() is None

    @property
    def busy(self) -> Busy | None:
        with self._lock:
            return self._busy

    # -- invoking ------------------------------------------------------------------------------

    def invoke(self, event: dict[str, Any], context: LambdaContext) -> Any:
        """Run one invocation in the child; the handler's answer, or an exception.

        :class:`EnvironmentCrashed` when the child dies first (it is then dead for good),
        :class:`InvocationTimedOut` when it outlives the function's timeout (it is killed,
        as Lambda kills a timed-out environment), :class:`InvocationFailed` when the
        handler raised (the environment lives on).
        """
        request = {"event": event, "context": _context_fields(context)}
        with self._lock:
            alive = self.alive
            if alive:
                self._busy = Busy(
                    time.monotonic(), context.aws_request_id, *_record_ids_and_bodies(event)
                )
        if not alive:
            self._dead = True
            raise EnvironmentCrashed(self._death_note("before the invocation"))
        try:
            return self._exchange(request, context)
        finally:
            with self._lock:
                self._busy = None

    def _exchange(self, request: dict[str, Any], context: LambdaContext) -> Any:
        try:
            self._conn.send_bytes(json.dumps(request, default=str).encode())
        except OSError as error:
            self._dead = True
            raise EnvironmentCrashed(self._death_note("taking the invocation")) from error
        deadline = time.monotonic() + context.timeout_seconds
        while True:
            left = deadline - time.monotonic()
            try:
                ready = left > 0 and self._conn.poll(left)
                if not ready:
                    self.kill()
                    self._dead = True
                    raise InvocationTimedOut(
                        f"{self.spec.key} (pid {self.pid}) timed out after "
                        f"{context.timeout_seconds} s and was stopped"
                    )
                message = json.loads(self._conn.recv_bytes())
            except (EOFError, OSError) as error:
                self._dead = True
                raise EnvironmentCrashed(self._death_note("during the invocation")) from error
            if "metric" in message:
                if self._on_metric is not None:
                    self._on_metric(str(message["metric"]), float(message["value"]))
                continue
            if self._emf is not None:
                for blob in message.get("emf") or ():
                    self._emf.ingest(blob)
            if "error" in message:
                raise InvocationFailed(f"{message['error']}\n{message.get('trace', '')}")
            return message.get("result")

    # -- ending ----------------------------------------------------------------------------------

    def kill(self) -> None:
        """SIGKILL: no cleanup, no flush, connections cut, as when Lambda's host dies."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._process.pid, signal.SIGKILL)

    def close(self) -> None:
        """Let the child go: it exits when its socket closes; killed if it does not."""
        self._dead = True
        with contextlib.suppress(OSError):
            self._conn.close()
        try:
            self._process.wait(_CLOSE_WAIT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            self._process.wait()

    def _await_ready(self, timeout_s: float) -> None:
        try:
            if not self._conn.poll(timeout_s):
                raise HandlerMissing(f"{self.path}: no cold start within {timeout_s:.0f} s")
            message = json.loads(self._conn.recv_bytes())
        except (EOFError, OSError) as error:
            self.close()
            raise HandlerMissing(self._death_note("during its cold start")) from error
        except HandlerMissing:
            self.close()
            raise
        if "ready" not in message:
            self.close()
            raise HandlerMissing(
                f"{self.path}: cold start failed:\n{message.get('cold_start_error')}"
            )

    def _death_note(self, when: str) -> str:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(1.0)
        code = self._process.returncode
        how = (
            f"killed by signal {-code}"
            if code is not None and code < 0
            else f"exit code {code}"
            if code is not None
            else "gone"
        )
        return f"{self.spec.key} environment (pid {self.pid}) died {when}: {how}"


def _spec_fields(spec: FunctionSpec) -> dict[str, Any]:
    return {
        "key": str(spec.key),
        "description": spec.description,
        "memory_mb": spec.memory_mb,
        "timeout_seconds": spec.timeout_seconds,
        "handler": spec.handler,
    }


def _context_fields(context: LambdaContext) -> dict[str, Any]:
    return {
        "function_name": context.function_name,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "timeout_seconds": context.timeout_seconds,
        "region": context.region,
        "account_id": context.account_id,
        "aws_request_id": context.aws_request_id,
        "function_version": context.function_version,
    }


def _record_ids_and_bodies(event: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    records = event.get("Records")
    if not isinstance(records, list):
        return (), ()
    records = [record for record in records if isinstance(record, Mapping)]
    return (
        tuple(str(record.get("messageId")) for record in records),
        tuple(str(record.get("body", "")) for record in records),
    )


# -- killing environments at random moments ---------------------------------------------------


@dataclass(frozen=True)
class Kill:
    """One SIGKILL the injector sent."""

    at: float  # epoch seconds
    pid: int
    into_invocation_s: float
    request_id: str
    record_ids: tuple[str, ...]
    bodies: tuple[str, ...]  # of the records, as the invocation got them


@dataclass
class CrashInjector:
    """SIGKILLs a busy environment of ``pool`` at random moments, like a host failing.

    Gaps between attempts are exponential with mean ``mean_interval_s`` (a Poisson
    process) from ``random.Random(seed)``; at each moment one of the environments that is
    running an invocation is picked at random and killed. When none is busy the moment
    passes without a kill (``idle_moments``): killing an idle environment would only cost
    a cold start, and waiting for the next invocation to start would aim the kills at
    invocations' first steps.
    """

    pool: FunctionPool
    mean_interval_s: float
    seed: int = 0
    kills: list[Kill] = field(default_factory=list)
    idle_moments: int = 0
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def __enter__(self) -> CrashInjector:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        if self.mean_interval_s <= 0:
            raise ValueError("mean_interval_s must be positive")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="crash-injector", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def _run(self) -> None:
        rng = random.Random(self.seed)  # noqa: S311 - fault injection, not secrets
        while not self._stop.wait(rng.expovariate(1 / self.mean_interval_s)):
            candidates = [
                environment
                for environment in self.pool.process_environments()
                if environment.busy is not None
            ]
            if not candidates:
                self.idle_moments += 1
                continue
            self.kill_one(rng.choice(candidates))

    def kill_one(self, environment: ProcessEnvironment) -> Kill | None:
        """Kill ``environment`` if it is still running an invocation; the kill, or None."""
        # The environment's lock keeps it from finishing (and being handed the next
        # invocation) between the check and the signal, so the kill is recorded against
        # the invocation it really interrupted.
        with environment._lock:
            busy = environment._busy
            if busy is None or not environment.alive:
                return None
            environment.kill()
            kill = Kill(
                at=time.time(),
                pid=environment.pid,
                into_invocation_s=time.monotonic() - busy.started,
                request_id=busy.request_id,
                record_ids=busy.record_ids,
                bodies=busy.bodies,
            )
        self.kills.append(kill)
        _log.info(
            "killed %s environment pid %d %.3f s into invocation %s",
            environment.spec.key,
            kill.pid,
            kill.into_invocation_s,
            kill.request_id,
        )
        return kill


# -- the child -----------------------------------------------------------------------------------


class _Collected(EmfAggregator):
    """The EMF blobs of the current invocation, kept raw for the parent."""

    def __init__(self) -> None:
        super().__init__()
        self._blobs: list[Mapping[str, Any]] = []

    def ingest(self, blob: Mapping[str, Any]) -> bool:
        with self._lock:
            self._blobs.append(blob)
        return True

    def take(self) -> list[Mapping[str, Any]]:
        with self._lock:
            blobs, self._blobs = self._blobs, []
        return blobs


@contextlib.contextmanager
def _stream_metrics(send: Callable[[dict[str, Any]], None]) -> Iterator[None]:
    """Tell the parent of every metric value as it is added, before any flush."""
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
        AmazonCloudWatchEMFProvider,
    )

    original = AmazonCloudWatchEMFProvider.add_metric

    def add_metric(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        name = kwargs.get("name", args[0] if args else None)
        value = kwargs.get("value", args[2] if len(args) > 2 else None)
        if isinstance(name, str) and isinstance(value, int | float):
            send({"metric": name, "value": float(value)})
        return result

    AmazonCloudWatchEMFProvider.add_metric = add_metric  # type: ignore[method-assign]
    try:
        yield
    finally:
        AmazonCloudWatchEMFProvider.add_metric = original  # type: ignore[method-assign]


def _child_main(argv: list[str]) -> int:
    import argparse

    from infra.local.stack.lambda_runtime import Environment

    parser = argparse.ArgumentParser(prog="worker")
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--spec", required=True)
    arguments = parser.parse_args(argv)
    # Handler logs and stray prints go to stderr, the function's log stream, as the
    # in-process stack sends them; stdout stays unused.
    os.dup2(2, 1)
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    conn = Connection(arguments.fd)
    send_lock = threading.Lock()

    def send(message: dict[str, Any]) -> None:
        payload = json.dumps(message, default=str).encode()
        with send_lock:
            conn.send_bytes(payload)

    fields = json.loads(arguments.spec)
    spec = FunctionSpec(
        key=FunctionKey(fields["key"]),
        description=fields["description"],
        memory_mb=int(fields["memory_mb"]),
        timeout_seconds=int(fields["timeout_seconds"]),
        handler=fields["handler"],
    )
    collected = _Collected()
    with capture_emf(collected), _stream_metrics(send):
        try:
            environment = Environment(spec, Path(arguments.path))
        except BaseException:
            send({"cold_start_error": traceback.format_exc()})
            return 1
        send({"ready": os.getpid()})
        while True:
            try:
                request = json.loads(conn.recv_bytes())
            except (EOFError, OSError):
                return 0  # the parent closed the socket (or died): nothing left to serve
            context = LambdaContext(**request["context"])
            reply: dict[str, Any]
            try:
                reply = {"result": environment.handler(request["event"], context)}
            except Exception as error:
                reply = {
                    "error": f"{type(error).__name__}: {error}",
                    "trace": traceback.format_exc(),
                }
            reply["emf"] = collected.take()
            send(reply)


if __name__ == "__main__":
    raise SystemExit(_child_main(sys.argv[1:]))
