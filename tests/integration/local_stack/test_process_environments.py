"""Lambda environments in child processes: invoked like threads, killed like Lambda's.

A toy handler stands in for the sender (the pool imports ``functions/sender/handler.py``
under a temporary root), so these tests need no AWS and take a few seconds.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.local.stack.emf import EmfAggregator
from infra.local.stack.lambda_runtime import (
    EnvironmentCrashed,
    FunctionPool,
    InvocationTimedOut,
)
from infra.local.stack.pollers import QueuePoller
from infra.local.stack.worker import CrashInjector, InvocationFailed
from infra.topology import FunctionKey, FunctionSpec

HANDLER = """
import os
import time

from aws_lambda_powertools.metrics import Metrics, MetricUnit

metrics = Metrics(namespace="Toy", service="toy")
COLD_PID = os.getpid()


@metrics.log_metrics
def handler(event, context):
    for _ in event.get("Records", []):
        metrics.add_metric(name="Records", unit=MetricUnit.Count, value=1)
    if event.get("raise"):
        raise ValueError("asked to fail")
    time.sleep(event.get("sleep", 0))
    return {
        "pid": os.getpid(),
        "cold_pid": COLD_PID,
        "function": context.function_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "records": len(event.get("Records", [])),
    }
"""


def _records(count: int) -> list[dict[str, Any]]:
    return [{"messageId": f"m{index}", "body": "{}"} for index in range(count)]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    code = tmp_path / "functions" / "sender"
    code.mkdir(parents=True)
    (code / "handler.py").write_text(HANDLER)
    return tmp_path


def _pool(root: Path, emf: EmfAggregator | None = None, timeout_s: int = 10) -> FunctionPool:
    spec = FunctionSpec(
        key=FunctionKey.SENDER, description="toy", memory_mb=128, timeout_seconds=timeout_s
    )
    return FunctionPool(
        spec,
        root=root,
        function_name="toy-sender",
        region="us-east-1",
        account_id="123456789012",
        max_environments=2,
        isolation="process",
        emf=emf,
    )


@pytest.fixture
def pool(root: Path) -> Iterator[FunctionPool]:
    function_pool = _pool(root, EmfAggregator())
    yield function_pool
    function_pool.close()


def test_an_invocation_runs_in_a_warm_child_process_and_its_emf_comes_back(root: Path) -> None:
    emf = EmfAggregator()
    pool = _pool(root, emf)
    try:
        first = pool.invoke({"Records": _records(3)})
        second = pool.invoke({"Records": _records(2)})
    finally:
        pool.close()

    assert first["pid"] != os.getpid()
    assert first["pid"] == first["cold_pid"] == second["pid"]  # one cold start, then warm
    assert first["function"] == "toy-sender"
    assert 0 < first["remaining_ms"] <= 10_000
    assert first["records"] == 3
    assert pool.stats.cold_starts == 1
    assert pool.stats.invocations == 2
    assert sum(emf.values("Toy", "Records")) == 5
    assert pool.counted_metrics() == {"Records": 5.0}


def test_a_handler_error_fails_the_invocation_but_not_the_environment(
    pool: FunctionPool,
) -> None:
    with pytest.raises(InvocationFailed, match="ValueError: asked to fail"):
        pool.invoke({"raise": True})
    answer = pool.invoke({})

    assert pool.stats.errors == 1
    assert pool.stats.crashes == 0
    assert pool.stats.cold_starts == 1
    assert answer["pid"] == answer["cold_pid"]


def test_a_killed_environment_fails_its_invocation_and_a_new_one_takes_over(
    pool: FunctionPool,
) -> None:
    before = pool.invoke({})["pid"]
    killer = threading.Timer(0.3, os.kill, (before, signal.SIGKILL))
    killer.start()

    with pytest.raises(EnvironmentCrashed, match="killed by signal 9"):
        pool.invoke({"Records": _records(4), "sleep": 20})
    after = pool.invoke({})

    assert after["pid"] != before
    assert pool.stats.crashes == 1
    assert pool.stats.cold_starts == 2
    # The killed invocation added its metrics before it slept: counted, never flushed.
    assert pool.counted_metrics()["Records"] == 4
    assert [env.pid for env in pool.process_environments()] == [after["pid"]]


def test_an_invocation_past_the_timeout_is_stopped_with_its_environment(root: Path) -> None:
    pool = _pool(root, timeout_s=1)
    try:
        started = time.monotonic()
        with pytest.raises(InvocationTimedOut):
            pool.invoke({"sleep": 20})
        elapsed = time.monotonic() - started
        assert pool.invoke({})["pid"] > 0
    finally:
        pool.close()

    assert 1 <= elapsed < 5
    assert pool.stats.crashes == 1


def test_the_crash_injector_kills_only_busy_environments_at_random_moments(
    pool: FunctionPool,
) -> None:
    outcomes: list[str] = []

    def keep_invoking(stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                pool.invoke({"Records": _records(2), "sleep": 0.2})
                outcomes.append("ok")
            except EnvironmentCrashed:
                outcomes.append("crashed")

    stop = threading.Event()
    workers = [threading.Thread(target=keep_invoking, args=(stop,)) for _ in range(2)]
    with CrashInjector(pool, mean_interval_s=0.4, seed=3) as injector:
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + 30
        while len(injector.kills) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
    stop.set()
    for worker in workers:
        worker.join(30)

    kills = injector.kills
    assert len(kills) >= 3
    assert outcomes.count("crashed") == len(kills) == pool.stats.crashes
    assert outcomes.count("ok") >= 1
    for kill in kills:
        assert kill.record_ids == ("m0", "m1")
        assert 0 <= kill.into_invocation_s < 5
    assert len({kill.pid for kill in kills}) == len(kills)


class _Sqs:
    def __init__(self) -> None:
        self.deleted: list[str] = []
        self.made_visible: list[str] = []

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> Any:
        self.deleted.extend(entry["ReceiptHandle"] for entry in Entries)
        return {"Successful": Entries}

    def change_message_visibility_batch(self, QueueUrl: str, Entries: list[Any]) -> Any:
        self.made_visible.extend(entry["ReceiptHandle"] for entry in Entries)
        return {"Successful": Entries}


class _Clients:
    region = "us-east-1"
    endpoint_url = "http://127.0.0.1:1"

    def __init__(self, sqs: _Sqs) -> None:
        self.session = self
        self._sqs = sqs

    def client(self, *_args: Any, **_kwargs: Any) -> _Sqs:
        return self._sqs


class _CrashingPool:
    spec = FunctionSpec(key=FunctionKey.SENDER, description="", memory_mb=1, timeout_seconds=1)

    def invoke(self, event: dict[str, Any]) -> Any:
        raise EnvironmentCrashed("killed")


def test_a_crashed_batch_is_neither_deleted_nor_handed_back_until_its_timeout_passed() -> None:
    sqs = _Sqs()
    poller = QueuePoller(
        _CrashingPool(),  # type: ignore[arg-type]
        _Clients(sqs),  # type: ignore[arg-type]
        queue_url="http://127.0.0.1:1/queue/outbound.fifo",
        queue_arn="arn:aws:sqs:us-east-1:123456789012:outbound.fifo",
        batch_size=10,
        concurrency=1,
    )
    messages = [
        {"MessageId": f"m{index}", "ReceiptHandle": f"r{index}", "Body": "{}"} for index in range(3)
    ]

    poller._process(messages)

    stats = poller.stats.as_dict()
    assert sqs.deleted == []
    assert poller.handed_back == 0  # left to the visibility timeout, not to expedite()
    assert stats["crashed_batches"] == stats["batch_failures"] == 1
    assert stats["busy_workers"] == 0
    # Standing in for time passing, only once the queue's visibility timeout has.
    assert poller.expedite(crashed_older_than_s=60) == 0
    assert poller.expedite() == 0
    assert poller.expedite(crashed_older_than_s=0) == 3
    assert sqs.made_visible == ["r0", "r1", "r2"]
    assert poller.stats.as_dict()["expedited_after_crash"] == 3
    assert poller.expedite(crashed_older_than_s=0) == 0


def test_a_record_received_again_after_a_crash_is_no_longer_expedited_as_crashed() -> None:
    sqs = _Sqs()
    poller = QueuePoller(
        _CrashingPool(),  # type: ignore[arg-type]
        _Clients(sqs),  # type: ignore[arg-type]
        queue_url="http://127.0.0.1:1/queue/outbound.fifo",
        queue_arn="arn:aws:sqs:us-east-1:123456789012:outbound.fifo",
        batch_size=10,
        concurrency=1,
    )
    poller._process([{"MessageId": "m0", "ReceiptHandle": "r0", "Body": "{}"}])
    poller._remember([{"messageId": "m0", "receiptHandle": "r1"}], set())

    assert poller.expedite(crashed_older_than_s=0) == 0
    assert sqs.made_visible == []
