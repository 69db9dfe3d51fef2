"""Fixtures for the Graph API simulator tests: a simulator factory and a webhook receiver."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from infra.local.graph_simulator import (
    GraphSimulator,
    PhoneNumber,
    SimulatorConfig,
    Validator,
    run_simulator,
)

WABA_A, WABA_B = "2001", "2002"
NUMBER_A, NUMBER_B = "1001", "1002"
TOKEN_A, TOKEN_B = "token-a", "token-b"
APP_SECRET = "test-app-secret"


def base_config(**changes: Any) -> SimulatorConfig:
    """Two WABAs with one number and one token each; no latency, no webhooks."""
    settings: dict[str, Any] = {
        "phone_numbers": {
            NUMBER_A: PhoneNumber(waba_id=WABA_A, display_phone_number="15550001001"),
            NUMBER_B: PhoneNumber(waba_id=WABA_B, display_phone_number="15550001002"),
        },
        "tokens": {TOKEN_A: (WABA_A,), TOKEN_B: (WABA_B,)},
        "seed": 7,
    }
    settings.update(changes)
    return SimulatorConfig.model_validate(settings)


def text_message(to: str = "+16505551234", text: str = "hello", callback: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"body": text},
    }
    if callback is not None:
        body["biz_opaque_callback_data"] = callback
    return body


def graph_client(sim: GraphSimulator, token: str = TOKEN_A, timeout: float = 5.0) -> httpx.Client:
    return httpx.Client(
        base_url=sim.graph_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=timeout,
        trust_env=False,
    )


@pytest.fixture(scope="session")
def validator() -> Validator:
    from pixy_whatsapp.models import validate_message

    return validate_message


@pytest.fixture
def start_sim(validator: Validator) -> Iterator[Callable[[SimulatorConfig], GraphSimulator]]:
    """Start simulators (stopped at teardown) with the project's message validator."""
    with contextlib.ExitStack() as stack:

        def start(config: SimulatorConfig) -> GraphSimulator:
            return stack.enter_context(run_simulator(config, validate=validator))

        yield start


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
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
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


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    webhook_receiver = WebhookReceiver()
    yield webhook_receiver
    webhook_receiver.close()
