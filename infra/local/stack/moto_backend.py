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


class MotoServer(Protocol):
    @property
    def endpoint_url(self) -> str: ...

    def stop(self) -> None: ...


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
    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]

    class CachedDispatcher(DomainDispatcherApplication):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(create_backend_app)
            self._backend_by_host: dict[str | None, Any] = {}

        def get_backend_for_host(self, host: str | None) -> Any:
            if host not in self._backend_by_host:
                self._backend_by_host[host] = super().get_backend_for_host(host)
            return self._backend_by_host[host]

    return make_server(
        HOST, port, CachedDispatcher(), True, request_handler=MotoRequestHandler
    )


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
