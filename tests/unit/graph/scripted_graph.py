"""Local stand-ins for Meta used by the Graph client tests.

`ScriptedGraph` is an ASGI app whose answers each test scripts, served by
hypercorn on a real socket (TLS with a trustme certificate for HTTP/2 through
ALPN, or plain HTTP/1.1). `RawFaultServer` is a bare TCP listener that reads a
whole request and then drops the connection, which no ASGI server can do.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import trustme
from hypercorn.asyncio import serve
from hypercorn.config import Config


@dataclass(frozen=True)
class Reply:
    status: int = 200
    json: Any = None
    body: bytes | None = None
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0


@dataclass(frozen=True)
class Seen:
    """A request as the server received it."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    http_version: str
    client: tuple[str, int]

    def json(self) -> Any:
        return json.loads(self.body)

    def param(self, name: str) -> str | None:
        return dict(self.query).get(name)


Handler = Callable[[Seen], Reply]


def graph_error(
    code: int, message: str, *, status: int = 400, details: str = "", **extra: Any
) -> Reply:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AtraceIdForTests",
        **extra,
    }
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return Reply(status=status, json={"error": error})


@dataclass
class ScriptedGraph:
    """ASGI app: answers each (method, path) as scripted and records every request."""

    seen: list[Seen] = field(default_factory=list)
    _routes: dict[tuple[str, str], Handler | list[Reply]] = field(default_factory=dict)

    def reset(self) -> None:
        self.seen.clear()
        self._routes.clear()

    def reply(self, method: str, path: str, *replies: Reply) -> None:
        """Answer with `replies` in turn; the last one repeats."""
        self._routes[(method, path)] = list(replies)

    def handle(self, method: str, path: str, handler: Handler) -> None:
        self._routes[(method, path)] = handler

    def connections(self) -> set[tuple[str, int]]:
        """Client addresses seen: one per TCP connection."""
        return {request.client for request in self.seen}

    def _answer(self, request: Seen) -> Reply:
        route = self._routes.get((request.method, request.path))
        if route is None:
            return graph_error(100, f"no scripted answer for {request.method} {request.path}")
        if callable(route):
            return route(request)
        return route.pop(0) if len(route) > 1 else route[0]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = Seen(
            method=scope["method"],
            path=scope["path"],
            query=parse_qsl(scope["query_string"].decode(), keep_blank_values=True),
            headers={k.decode().lower(): v.decode() for k, v in scope["headers"]},
            body=body,
            http_version=scope["http_version"],
            client=tuple(scope["client"]),
        )
        self.seen.append(request)
        reply = self._answer(request)
        if reply.delay:
            await asyncio.sleep(reply.delay)
        content = reply.body if reply.body is not None else json.dumps(reply.json).encode()
        headers = [(b"content-type", reply.content_type.encode())]
        headers += [(k.encode(), v.encode()) for k, v in reply.headers]
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": content})


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    app: ScriptedGraph
    client_ssl: ssl.SSLContext


@contextmanager
def serve_in_thread(
    app: ScriptedGraph, *, ca: trustme.CA, workdir: Path, tls: bool
) -> Iterator[RunningServer]:
    """Run hypercorn on its own loop in a thread, on a free port of 127.0.0.1."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    config = Config()
    config.bind = [f"fd://{listener.detach()}"]
    config.errorlog = None
    config.graceful_timeout = 0.2
    if tls:
        cert = ca.issue_cert("127.0.0.1", "localhost")
        certfile, keyfile = workdir / "server-chain.pem", workdir / "server-key.pem"
        cert.private_key_and_cert_chain_pem.write_to_path(str(certfile))
        cert.private_key_pem.write_to_path(str(keyfile))
        config.certfile, config.keyfile = str(certfile), str(keyfile)

    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    started = threading.Event()

    async def main() -> None:
        started.set()
        await serve(app, config, shutdown_trigger=stop.wait, mode="asgi")  # type: ignore[arg-type]

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    started.wait(5)
    client_ssl = ssl.create_default_context()
    ca.configure_trust(client_ssl)
    scheme = "https" if tls else "http"
    try:
        yield RunningServer(f"{scheme}://127.0.0.1:{port}", app, client_ssl)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(5)
        # A client that leaked a connection can keep hypercorn from finishing;
        # the thread is a daemon, so leave that loop to die with the process.
        if not thread.is_alive():
            loop.close()


class RawFaultServer:
    """Reads one whole HTTP/1.1 request per connection, then drops the connection.

    `reset=True` aborts with a TCP RST (the client sees a connection reset);
    otherwise it closes cleanly without answering.
    """

    def __init__(self, *, reset: bool) -> None:
        self.reset = reset
        self.requests: list[bytes] = []
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self._listener.settimeout(0.05)
        self.base_url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                self.requests.append(_read_request(conn))
                if self.reset:
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def close(self) -> None:
        self._stopped.set()
        self._thread.join(2)
        self._listener.close()


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


@contextmanager
def unanswered_listener() -> Iterator[str]:
    """A port whose accept queue is full, so a new connection attempt just hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            with suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
            fillers.append(filler)
        yield f"http://127.0.0.1:{port}"
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def closed_port_url() -> str:
    """A URL whose port nothing listens on (connection refused)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}"
