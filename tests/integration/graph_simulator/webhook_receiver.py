"""A local webhook endpoint for the simulator's signed webhooks."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class ReceivedWebhook:
    path: str
    headers: Mapping[str, str]
    body: bytes

    def payload(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value

    def statuses(self) -> list[dict[str, Any]]:
        return [
            status
            for entry in self.payload()["entry"]
            for change in entry["changes"]
            for status in change["value"].get("statuses", [])
        ]


class WebhookReceiver:
    """A local webhook endpoint that keeps every POST and answers as planned (200 by default)."""

    def __init__(self) -> None:
        self.received: list[ReceivedWebhook] = []
        self._planned: list[int] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    status = receiver._planned.pop(0) if receiver._planned else 200
                    if status == 200:
                        receiver.received.append(
                            ReceivedWebhook(self.path, dict(self.headers.items()), body)
                        )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/webhook"

    def answer_next(self, statuses: Sequence[int]) -> None:
        with self._lock:
            self._planned.extend(statuses)

    def statuses(self) -> list[dict[str, Any]]:
        with self._lock:
            received = list(self.received)
        return [status for webhook in received for status in webhook.statuses()]

    def wait_for_statuses(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            statuses = self.statuses()
            if len(statuses) >= count:
                return statuses
            time.sleep(0.01)
        raise AssertionError(f"expected {count} statuses, got {len(self.statuses())}")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
