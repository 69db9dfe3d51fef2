"""moto server on 127.0.0.1: the local stand-in for SQS, DynamoDB, Secrets Manager, S3,
EventBridge and CloudWatch.

Two ways to run it:

- ``process`` (default): ``python -m infra.local.stack.moto_backend`` in a child process.
  moto is pure Python and holds its GIL for every request; in its own process it uses a
  core of its own instead of competing with the handlers, pollers and the Graph simulator.
- ``thread``: moto's ``ThreadedMotoServer`` inside this process (faster to start, one
  process to debug; measured slower under load, see ``docs/architecture.md``).

Either way it binds 127.0.0.1 only (``ThreadedMotoServer`` binds 0.0.0.0 unless told) and
werkzeug's per-request log lines are silenced.

Example::

    with start_moto("process") as moto:
        boto3.client("sqs", endpoint_url=moto.endpoint_url)
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any, Literal, Protocol

import httpx

MotoMode = Literal["process", "thread"]
HOST = "127.0.0.1"
_READY_PREFIX = "MOTO-READY "
_START_TIMEOUT_S = 30.0
_SWITCH_INTERVAL_S = 0.001


class MotoServer(Protocol):
    @property
    def endpoint_url(self) -> str: ...

    def stop(self) -> None: ...


def _locked(method: Any, lock_of: Any) -> Any:
    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock_of(self, *args, **kwargs):
            return method(self, *args, **kwargs)

    return call


def make_moto_thread_safe() -> None:
    """Make the state changes the local stack relies on atomic, as they are in AWS.

    moto serves each request on its own thread but does not lock its models:

    - a DynamoDB conditional write checks its condition and then writes, so two concurrent
      writers can both pass it (rate limiters would over-admit, guards would let two
      invocations through), and a read can see an item half updated;
    - an SQS delete rebuilds the queue's message list while another thread may append to
      it or rebuild it too: a sent message, or a delete, can silently vanish (a message
      lost, or one delivered again after its visibility timeout).

    DynamoDB requests take one lock, from parsing to the serialised answer (the answer is
    built from the live items); every change to a queue's message list takes that queue's
    own lock (moto's condition variable, re-entrant, which a long poll releases while it
    waits). moto is bound to one core by its GIL anyway, so the locks cost little:
    measured on the local demo, no slower.
    """
    from moto.dynamodb.responses import DynamoHandler
    from moto.sqs.models import Queue, SQSBackend

    if getattr(DynamoHandler, "__pixy_thread_safe__", False):
        return
    dynamodb_lock = threading.RLock()
    setattr(  # noqa: B010 - patching moto's class, on purpose
        DynamoHandler,
        "call_action",
        _locked(DynamoHandler.call_action, lambda *_args, **_kwargs: dynamodb_lock),
    )

    def queue_lock(queue: Any, *_args: Any, **_kwargs: Any) -> Any:
        return queue._messages_lock

    def named_queue_lock(backend: Any, queue_name: str, *_args: Any, **_kwargs: Any) -> Any:
        return backend.get_queue(queue_name)._messages_lock

    for name in ("add_message", "delete_message"):
        setattr(Queue, name, _locked(getattr(Queue, name), queue_lock))
    for name in ("receive_message", "change_message_visibility", "purge_queue"):
        setattr(SQSBackend, name, _locked(getattr(SQSBackend, name), named_queue_lock))
    setattr(DynamoHandler, "__pixy_thread_safe__", True)  # noqa: B010


def _make_server(port: int) -> Any:
    """moto's WSGI app on werkzeug's threaded server, as ``ThreadedMotoServer`` builds it,
    with the service lookup cached.

    moto finds the service of every request under one process-wide lock, and the lookup
    lists moto's package directory (``os.listdir`` plus an ``isdir`` per service) and tries
    hundreds of URL patterns each time. Measured on the local stack: most request threads
    of a loaded moto server waited on that lock. The answer for a given host never changes,
    so it is computed once per host.
    """
    from moto import backends
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    make_moto_thread_safe()
    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules

    class CachedDispatcher(DomainDispatcherApplication):
        def __init__(self) -> None:
            super().__init__(create_backend_app)
            self._backend_by_host: dict[str | None, Any] = {}

        def get_backend_for_host(self, host: str | None) -> Any:
            if host not in self._backend_by_host:
                self._backend_by_host[host] = super().get_backend_for_host(host)
            return self._backend_by_host[host]

    return make_server(HOST, port, CachedDispatcher(), True, request_handler=MotoRequestHandler)


class MotoThread:
    """moto's server in a thread of this process."""

    def __init__(self, port: int = 0) -> None:
        self._server = _make_server(port)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="moto-server", daemon=True
        )
        self._thread.start()
        self._url = f"http://{HOST}:{self._server.server_address[1]}"

    @property
    def endpoint_url(self) -> str:
        return self._url

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(5)
        self._server.server_close()


class MotoProcess:
    """moto server in a child process that exits when its stdin closes (or we die)."""

    def __init__(self, port: int = 0) -> None:
        environment = dict(os.environ)
        # The child must never see a real account, whatever this shell holds.
        environment.pop("AWS_PROFILE", None)
        environment.update(
            {
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "PYTHONUNBUFFERED": "1",
            }
        )
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "infra.local.stack.moto_backend", "--port", str(port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=environment,
            text=True,
            # Its own session: Ctrl-C in the terminal stops us, and we stop moto after the
            # pollers and servers have let go of it.
            start_new_session=True,
        )
        self._url = self._wait_ready()

    def _wait_ready(self) -> str:
        assert self._process.stdout is not None
        found: list[str] = []

        def read() -> None:
            assert self._process.stdout is not None
            for line in self._process.stdout:
                if line.startswith(_READY_PREFIX):
                    found.append(line[len(_READY_PREFIX) :].strip())
                    return

        reader = threading.Thread(target=read, name="moto-ready", daemon=True)
        reader.start()
        reader.join(_START_TIMEOUT_S)
        if not found:
            self.stop()
            raise RuntimeError("moto server did not start (see its output above)")
        return f"http://{HOST}:{found[0]}"

    @property
    def endpoint_url(self) -> str:
        return self._url

    @property
    def pid(self) -> int:
        return self._process.pid

    def stop(self) -> None:
        if self._process.poll() is not None:
            return
        with contextlib.suppress(OSError):
            assert self._process.stdin is not None
            self._process.stdin.close()
        try:
            self._process.wait(5)
        except subprocess.TimeoutExpired:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def wait_healthy(endpoint_url: str, timeout_s: float = 10.0) -> None:
    """Block until moto answers (its dashboard path needs no credentials)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            httpx.get(f"{endpoint_url}/moto-api/data.json", timeout=2.0)
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextlib.contextmanager
def start_moto(mode: MotoMode = "process", port: int = 0) -> Iterator[MotoServer]:
    server: MotoServer = MotoProcess(port) if mode == "process" else MotoThread(port)
    try:
        wait_healthy(server.endpoint_url)
        yield server
    finally:
        server.stop()


def _child_main(argv: list[str]) -> int:
    """Entry point of the child process: serve until stdin closes."""
    import argparse

    parser = argparse.ArgumentParser(prog="moto_backend")
    parser.add_argument("--port", type=int, default=0)
    arguments = parser.parse_args(argv)
    # Every request is a thread that mostly waits for the GIL; handing it over every 1 ms
    # instead of 5 ms cut the local demo's run time by about a sixth (measured).
    sys.setswitchinterval(_SWITCH_INTERVAL_S)
    server = _make_server(arguments.port)
    threading.Thread(target=server.serve_forever, name="moto-server", daemon=True).start()
    sys.stdout.write(f"{_READY_PREFIX}{server.server_address[1]}\n")
    sys.stdout.flush()
    # The parent holds our stdin: EOF means it stopped us or died.
    while sys.stdin.read(4096):
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(_child_main(sys.argv[1:]))
