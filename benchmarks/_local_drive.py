"""Driving the local stack for the benchmarks: plan messages, hand them over, wait.

Messages are handed over the two ways other systems do: ``POST /v1/messages`` (1 to 100
per request) or ``pixy_whatsapp.outbound.enqueue`` (SendMessageBatch of 10) on a client the
caller owns. Waiting reads the messages table through a client of the benchmark's own (a
separate boto3 session that no meter watches), so the benchmark's polling is never counted
as the system's cost.

A run is *settled* when every message's record shows ``read`` (or ``failed``), the Graph
API simulator has no webhook left to post, and both queues are drained.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
import httpx
from botocore.config import Config

from infra.topology import FunctionKey, QueueKey

if TYPE_CHECKING:
    from infra.local.stack.runner import LocalStack

_TERMINAL = frozenset({"read", "failed"})


def plan(stack: LocalStack, count: int, tag: str, first_recipient: int = 0) -> list[dict[str, Any]]:
    """``count`` send requests: two per recipient, every demo number in turn (as the demo).

    Two messages per recipient stay inside Meta's pair limit burst, which the simulator
    keeps at Meta's real figure; ``first_recipient`` keeps phases on different recipients.
    """
    numbers = [(waba.waba_id, n.phone_number_id) for waba in stack.wabas for n in waba.numbers]
    planned = []
    for index in range(count):
        recipient = first_recipient + index // 2
        waba_id, phone_number_id = numbers[recipient % len(numbers)]
        planned.append(
            {
                "id": f"bench-{tag}-{index:06d}",
                "waba_id": waba_id,
                "phone_number_id": phone_number_id,
                "to": f"1555{recipient:07d}",
                "message": {"type": "text", "text": {"body": f"pixy-whatsapp bench #{index}"}},
                "category": "utility",
                "client_reference": f"bench-{tag}-{index}",
                "idempotency_key": f"bench-{tag}-{index}",
                "metadata": {"bench": tag, "index": index},
            }
        )
    return planned


@dataclass
class Handover:
    """What handing messages over took, and what the system answered."""

    ids: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: int = 0
    started: float = 0.0  # time.time() of the first request
    finished: float = 0.0  # time.time() when the last answer came back


def submit_api(
    api_url: str, messages: Sequence[dict[str, Any]], per_request: int, concurrency: int = 4
) -> Handover:
    """``POST /v1/messages`` with ``per_request`` messages each, ``concurrency`` at a time."""
    batches = [messages[i : i + per_request] for i in range(0, len(messages), per_request)]
    handover = Handover(requests=len(batches), started=time.time())

    def post(client: httpx.Client, batch: Sequence[dict[str, Any]]) -> tuple[list[str], str]:
        try:
            response = client.post(f"{api_url}/v1/messages", json={"messages": list(batch)})
        except httpx.HTTPError as error:
            return [], f"{type(error).__name__}: {error}"
        if response.status_code not in (200, 201, 202, 207):
            return [], f"HTTP {response.status_code}: {response.text[:200]}"
        entries = response.json().get("messages") or []
        ok = [
            str(e.get("id"))
            for e in entries
            if isinstance(e, dict) and e.get("status") in ("queued", "duplicate")
        ]
        problem = "" if len(ok) == len(batch) else f"{len(batch) - len(ok)} refused: {entries}"
        return ok, problem[:300]

    with (
        httpx.Client(timeout=60.0) as client,
        ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool,
    ):
        for ok, problem in pool.map(lambda b: post(client, b), batches):
            handover.ids.extend(ok)
            if problem:
                handover.errors.append(problem)
    handover.finished = time.time()
    return handover


def submit_enqueue(
    sqs: Any, queue_url: str, messages: Sequence[dict[str, Any]], shard_count: int
) -> Handover:
    """``enqueue()`` as another system calls it: SendMessageBatch of 10 on its own client."""
    from pixy_whatsapp.outbound import SendRequest, enqueue

    handover = Handover(started=time.time())
    requests = [SendRequest.model_validate(body) for body in messages]
    for start in range(0, len(requests), 100):
        results = enqueue(sqs, queue_url, requests[start : start + 100], shard_count=shard_count)
        for result in results:
            if result.ok:
                handover.ids.append(result.id)
            else:
                handover.errors.append(str(result.error))
    handover.requests = -(-len(requests) // 10)
    handover.finished = time.time()
    return handover


class Monitor:
    """The benchmark's own view of the stack, through clients nobody meters."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        session = boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # moto's fake credentials
            region_name=stack.config.region,
        )
        config = Config(retries={"max_attempts": 3, "mode": "standard"})
        self.dynamodb = session.client("dynamodb", endpoint_url=stack.moto_url, config=config)
        self.sqs = session.client("sqs", endpoint_url=stack.moto_url, config=config)
        # The deepest each queue was seen (visible + in flight), as polled.
        self.peak: dict[str, int] = {str(k): 0 for k in (QueueKey.OUTBOUND, QueueKey.INBOUND)}

    def caller_sqs(self) -> Any:
        """A separate SQS client for a caller's enqueue (metered on its own)."""
        session = boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name=self.stack.config.region,
        )
        return session.client("sqs", endpoint_url=self.stack.moto_url)

    def statuses(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """``status`` and the ms time of each status in the record's history, by id."""
        from pixy_whatsapp.statuses import MessageStore

        store = MessageStore(self.dynamodb, self.stack.settings.messages_table)
        found: dict[str, dict[str, Any]] = {}
        for record in store.get_many(ids).values():
            flat: dict[str, Any] = {"status": record.status.value}
            for entry in record.history:
                flat[entry.status.value] = entry.at_ms
            found[record.id] = flat
        return found

    def queue_depth(self, key: QueueKey) -> dict[str, int]:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.stack.queue_url(key),
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        depth = {
            "visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
            "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
            "delayed": int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
        }
        self.peak[str(key)] = max(self.peak[str(key)], depth["visible"] + depth["in_flight"])
        return depth

    def drained(self) -> bool:
        """No webhook left to post, nothing left in either queue."""
        depths = {key: self.queue_depth(key) for key in (QueueKey.OUTBOUND, QueueKey.INBOUND)}
        if self.stack.simulator.state().get("webhooks_pending"):
            return False
        for key, depth in depths.items():
            poller = self.stack.pollers.get(
                FunctionKey.INBOUND if key is QueueKey.INBOUND else FunctionKey.SENDER
            )
            # A record the function handed back waits out its visibility timeout (minutes),
            # as in AWS; it cannot change a message that is already `read`.
            handed_back = poller.handed_back if poller is not None else 0
            if depth["visible"] + depth["delayed"] + max(0, depth["in_flight"] - handed_back):
                return False
        return True


@dataclass
class Settled:
    records: dict[str, dict[str, Any]]
    settled_at: float | None  # time.time() when the stack was seen drained, every message read
    timed_out: bool


def wait_settled(
    monitor: Monitor,
    ids: Sequence[str],
    *,
    timeout_s: float,
    poll_s: float = 1.0,
    progress: Callable[[str], None] | None = None,
) -> Settled:
    """Wait until the stack is drained and every message is read (or failed), or time out.

    Reading a thousand records takes ten BatchGetItem calls of moto's time, the resource
    every function is waiting for; so the poll looks at what is cheap (the simulator's
    pending webhooks, two queue depths) and reads the records only once that is quiet.
    """
    say = progress or (lambda _line: None)
    deadline = time.time() + timeout_s
    last_note = time.monotonic()
    while True:
        if monitor.drained():
            seen_at = time.time()
            records = monitor.statuses(ids)
            if all(records.get(i, {}).get("status") in _TERMINAL for i in ids):
                return Settled(records, seen_at, False)
        if time.time() > deadline:
            return Settled(monitor.statuses(ids), None, True)
        if time.monotonic() - last_note > 10:
            last_note = time.monotonic()
            pending = monitor.stack.simulator.state().get("webhooks_pending")
            depths = {str(k): monitor.queue_depth(k) for k in (QueueKey.OUTBOUND, QueueKey.INBOUND)}
            say(f"  waiting: webhooks pending {pending}, queues {depths}")
        time.sleep(poll_s)
