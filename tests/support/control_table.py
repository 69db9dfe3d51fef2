"""Test doubles for the limiter and breaker tests: a simulated clock, an atomic moto."""

from __future__ import annotations

import functools
import socket
import threading
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto.dynamodb.models import DynamoDBBackend
from mypy_boto3_dynamodb import DynamoDBClient

CONTROL_TABLE = "pixy-test-control"


class SimClock:
    """Wall-clock epoch milliseconds and a monotonic clock, both moved by hand."""

    def __init__(self, start_ms: float = 1_764_000_000_000.0) -> None:
        self.ms = start_ms
        self.mono = 1_000.0

    def __call__(self) -> float:
        return self.ms

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.ms += seconds * 1_000
        self.mono += seconds


_ITEM_WRITES = ("put_item", "update_item", "delete_item", "get_item")


def make_moto_items_atomic(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB applies a conditional write atomically per item; moto checks the condition
    and writes in separate steps, so threads racing on one item can both pass. One lock
    around moto's item operations restores the guarantee the code relies on."""
    lock = threading.RLock()

    def locked(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return method(*args, **kwargs)

        return wrapper

    for name in _ITEM_WRITES:
        monkeypatch.setattr(DynamoDBBackend, name, locked(getattr(DynamoDBBackend, name)))


def closed_port_dynamodb(region: str) -> DynamoDBClient:
    """A real DynamoDB client aimed at a local port nothing listens on: it fails fast."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return boto3.client(
        "dynamodb",
        region_name=region,
        endpoint_url=f"http://127.0.0.1:{port}",
        config=Config(connect_timeout=0.2, read_timeout=0.2, retries={"total_max_attempts": 1}),
    )
