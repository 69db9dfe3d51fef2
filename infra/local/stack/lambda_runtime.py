"""Lambda's execution model, in-process: environments, cold starts, one invocation each.

A Lambda *environment* imports the handler module once (cold start) and then runs one
invocation at a time; concurrency comes from more environments. Here an environment is
one import of ``functions/<name>/handler.py`` under a unique module name, so module globals
(settings, boto3 clients, the sender's event loop and HTTP/2 client) are per environment
exactly as in Lambda. A :class:`FunctionPool` hands an idle environment to each
invocation and cold-starts another (up to its cap) when all are busy.

The environment variables (``PIXY_*`` settings, ``AWS_ENDPOINT_URL`` pointing at moto,
fake credentials, region, Powertools settings) are the process's own: the stack sets them
before the first import, since handlers read them at cold start.

With ``isolation="process"`` a pool's environments are child processes instead
(:mod:`infra.local.stack.worker`): slower to start and opt-in, but they can be killed
mid-invocation, which a test of crash safety needs; an invocation whose environment died
raises :class:`EnvironmentCrashed` and the next one cold-starts a new environment.

Example::

    pool = FunctionPool(spec, root=Path("."), max_environments=4)
    result = pool.invoke({"Records": [...]})
"""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import logging
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

from infra.topology import FunctionSpec

if TYPE_CHECKING:
    from infra.local.stack.emf import EmfAggregator
    from infra.local.stack.worker import ProcessEnvironment

_log = logging.getLogger("pixy.local.lambda")

# Importing a handler creates boto3 clients from the default session, which is not
# thread-safe; cold starts take turns (they are rare after the first few).
_IMPORT_LOCK = threading.Lock()
_MODULE_COUNTER = itertools.count(1)


InvocationObserver = Callable[[FunctionSpec, dict[str, Any], float, bool], None]
"""Told of each finished invocation, in its thread: the function, the event, the handler's
wall time in ms (cold start excluded) and whether it raised."""


class HandlerMissing(RuntimeError):
    """The function's handler module does not exist (yet)."""


class EnvironmentCrashed(RuntimeError):
    """The environment died under the invocation (killed, out of memory): no answer came.

    Lambda reports it as a failed invocation; an event source mapping then leaves the
    batch to come back after its visibility timeout.
    """


class InvocationTimedOut(EnvironmentCrashed):
    """The invocation outlived the function's timeout and its environment was stopped."""


Isolation = Literal["thread", "process"]
"""Where a pool's environments run: threads of this process, or child processes."""


@dataclass
class LambdaContext:
    """The parts of Lambda's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    region: str
    account_id: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[{self.function_version}]{self.aws_request_id[:8]}"

    def get_remaining_time_in_millis(self) -> int:
        left = self.timeout_seconds - (time.monotonic() - self.started)
        return max(0, int(left * 1000))


@dataclass
class InvocationStats:
    invocations: int = 0
    errors: int = 0
    cold_starts: int = 0
    over_timeout: int = 0
    total_ms: float = 0.0
    crashes: int = 0

    def as_dict(self) -> dict[str, float]:
        return {
            "invocations": self.invocations,
            "errors": self.errors,
            "cold_starts": self.cold_starts,
            "over_timeout": self.over_timeout,
            "crashes": self.crashes,
            "mean_ms": round(self.total_ms / self.invocations, 2) if self.invocations else 0.0,
        }


class Environment:
    """One import of a handler module: one Lambda execution environment."""

    def __init__(self, spec: FunctionSpec, path: Path) -> None:
        self.spec = spec
        self.module = _import_handler(spec, path)
        module_name, _, attribute = spec.handler.partition(".")
        del module_name
        handler = getattr(self.module, attribute, None)
        if not callable(handler):
            raise HandlerMissing(f"{path} has no callable {attribute!r}")
        self.handler: Callable[[dict[str, Any], Any], Any] = handler


def _import_handler(spec: FunctionSpec, path: Path) -> ModuleType:
    name = f"pixy_local_{spec.key}_{next(_MODULE_COUNTER)}"
    code_dir = str(path.parent)
    loader_spec = importlib.util.spec_from_file_location(name, path)
    if loader_spec is None or loader_spec.loader is None:
        raise HandlerMissing(f"cannot load {path}")
    module = importlib.util.module_from_spec(loader_spec)
    with _IMPORT_LOCK:
        before = set(sys.modules)
        # Lambda puts the function's code directory first on the path: sibling modules
        # of handler.py import by their bare names.
        sys.path.insert(0, code_dir)
        sys.modules[name] = module
        try:
            loader_spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        finally:
            sys.path.remove(code_dir)
            # Another function's sibling of the same name must import its own file.
            for added in set(sys.modules) - before - {name}:
                origin = getattr(sys.modules[added], "__file__", None) or ""
                if origin.startswith(code_dir):
                    del sys.modules[added]
    return module


class FunctionPool:
    """The environments of one function, and invoking it like Lambda's Invoke API."""

    def __init__(
        self,
        spec: FunctionSpec,
        *,
        root: Path,
        function_name: str,
        region: str,
        account_id: str,
        max_environments: int,
        isolation: Isolation = "thread",
        emf: EmfAggregator | None = None,
    ) -> None:
        self.spec = spec
        self.path = root / spec.code_dir / "handler.py"
        self.function_name = function_name
        self.region = region
        self.account_id = account_id
        self.max_environments = max(1, max_environments)
        self.stats = InvocationStats()
        self.isolation: Isolation = isolation
        # Process environments print their EMF in their own process; they hand it back
        # with each answer, for this aggregator.
        self._emf = emf
        self._idle: list[Environment | ProcessEnvironment] = []
        self._live: set[ProcessEnvironment] = set()
        # Every metric value the environments added, flushed or not: a killed invocation's
        # EMF is lost, as in Lambda, but what it counted is still known here.
        self._counted: dict[str, float] = {}
        self._count = 0
        self._condition = threading.Condition()
        self._stats_lock = threading.Lock()
        self._observers: list[InvocationObserver] = []

    @property
    def available(self) -> bool:
        """Whether the handler module exists (other functions may still be written)."""
        return self.path.is_file()

    @property
    def environments(self) -> int:
        return self._count

    def process_environments(self) -> list[ProcessEnvironment]:
        """The live child-process environments, busy or idle (none in thread isolation)."""
        with self._condition:
            return list(self._live)

    def counted_metrics(self) -> dict[str, float]:
        """Sums of the metric values process environments added, killed invocations' too."""
        with self._stats_lock:
            return dict(self._counted)

    def _count_metric(self, name: str, value: float) -> None:
        with self._stats_lock:
            self._counted[name] = self._counted.get(name, 0.0) + value

    def observe(self, observer: InvocationObserver) -> None:
        """Call ``observer`` after every invocation from now on (benchmarks bill them)."""
        self._observers.append(observer)

    def warm_up(self) -> None:
        """Cold-start one environment now, so a missing setting fails at start-up."""
        environment = self._acquire()
        self._release(environment)

    def invoke(self, event: dict[str, Any]) -> Any:
        """Run the handler in an idle environment; exceptions propagate, as Invoke reports them."""
        environment = self._acquire()
        context = LambdaContext(
            function_name=self.function_name,
            memory_limit_in_mb=self.spec.memory_mb,
            timeout_seconds=self.spec.timeout_seconds,
            region=self.region,
            account_id=self.account_id,
        )
        started = time.perf_counter()
        failed = False
        crashed = False
        try:
            if isinstance(environment, Environment):
                return environment.handler(event, context)
            return environment.invoke(event, context)
        except EnvironmentCrashed as crash:
            failed = crashed = True
            _log.warning("%s invocation %s: %s", self.spec.key, context.aws_request_id, crash)
            raise
        except BaseException:
            failed = True
            _log.error(
                "%s invocation %s failed:\n%s",
                self.spec.key,
                context.aws_request_id,
                traceback.format_exc(),
            )
            raise
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            if crashed:
                self._discard(environment)
            else:
                self._release(environment)
            with self._stats_lock:
                self.stats.invocations += 1
                self.stats.total_ms += elapsed_ms
                self.stats.errors += int(failed)
                self.stats.crashes += int(crashed)
                if elapsed_ms > self.spec.timeout_seconds * 1000:
                    # Lambda would have killed it; a thread cannot be, so it is counted.
                    self.stats.over_timeout += 1
                    _log.warning(
                        "%s ran %.0f ms, past its %d s timeout",
                        self.spec.key,
                        elapsed_ms,
                        self.spec.timeout_seconds,
                    )
            for observer in self._observers:
                try:
                    observer(self.spec, event, elapsed_ms, failed)
                except Exception:
                    # An observer's bug must not turn into the function's failure.
                    _log.exception("invocation observer failed")

    def close(self) -> None:
        """What Lambda does when it retires idle environments: let go of their loops.

        Handlers that keep an ``asyncio.Runner`` in a module global (the sender does, so
        its HTTP/2 connections outlive an invocation) get it closed, closing their clients.
        """
        with self._condition:
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            self._live.difference_update(e for e in idle if not isinstance(e, Environment))
        for environment in idle:
            if not isinstance(environment, Environment):
                environment.close()
                continue
            for value in list(vars(environment.module).values()):
                if isinstance(value, asyncio.Runner):
                    try:
                        value.close()
                    except Exception:
                        _log.debug("closing a runner failed", exc_info=True)

    def _acquire(self) -> Environment | ProcessEnvironment:
        with self._condition:
            while True:
                while self._idle:
                    idle = self._idle.pop()
                    if isinstance(idle, Environment) or idle.alive:
                        return idle
                    # Died while idle (a kill that just missed its invocation).
                    self._count -= 1
                    self._live.discard(idle)
                    idle.close()
                if self._count < self.max_environments:
                    self._count += 1
                    break
                self._condition.wait()
        try:
            if not self.available:
                raise HandlerMissing(f"{self.path} does not exist")
            environment = self._cold_start()
        except BaseException:
            with self._condition:
                self._count -= 1
                self._condition.notify()
            raise
        with self._stats_lock:
            self.stats.cold_starts += 1
        return environment

    def _cold_start(self) -> Environment | ProcessEnvironment:
        if self.isolation == "thread":
            return Environment(self.spec, self.path)
        from infra.local.stack.worker import ProcessEnvironment

        environment = ProcessEnvironment(
            self.spec, self.path, emf=self._emf, on_metric=self._count_metric
        )
        with self._condition:
            self._live.add(environment)
        return environment

    def _release(self, environment: Environment | ProcessEnvironment) -> None:
        with self._condition:
            self._idle.append(environment)
            self._condition.notify()

    def _discard(self, environment: Environment | ProcessEnvironment) -> None:
        """A dead environment leaves the pool; the next invocation cold-starts another."""
        with self._condition:
            self._count -= 1
            if not isinstance(environment, Environment):
                self._live.discard(environment)
            self._condition.notify()
        if not isinstance(environment, Environment):
            environment.close()
