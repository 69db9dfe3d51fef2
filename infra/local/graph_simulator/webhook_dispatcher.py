"""Posting signed webhooks in the background, with retries, as Meta does.

Items wait in a heap until due. Items due together for the same number may share a POST.
The destination is decided when a POST goes out, not when the item was planned, so a
subscription dropped in between silences the webhooks that were still to come, as it does
at Meta. Runs on the simulator's event loop; other threads go through the simulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from infra.local.graph_simulator.accounts import Accounts
from infra.local.graph_simulator.config import SimulatorConfig
from infra.local.graph_simulator.records import DeliveredStatus, SimulatorRecords
from infra.local.graph_simulator.webhook_payloads import (
    SIGNATURE_HEADER,
    encode_like_graph,
    messages_webhook,
    signature_header,
)

_log = logging.getLogger(__name__)

WebhookField = Literal["statuses", "messages"]


@dataclass(frozen=True, slots=True)
class WebhookItem:
    """One status or one inbound message, still to be posted."""

    waba_id: str
    phone_number_id: str
    display_phone_number: str
    kind: WebhookField
    item: dict[str, Any]
    contact: dict[str, Any] | None = None

    @property
    def group(self) -> tuple[str, str, str, str]:
        return (self.waba_id, self.phone_number_id, self.display_phone_number, self.kind)


@dataclass(order=True, slots=True)
class _Due:
    at: float
    sequence: int
    item: WebhookItem = field(compare=False)


class WebhookDispatcher:
    def __init__(
        self,
        config: Callable[[], SimulatorConfig],
        accounts: Accounts,
        records: SimulatorRecords,
    ) -> None:
        self._config = config
        self._accounts = accounts
        self._records = records
        self._heap: list[_Due] = []
        self._sequence = itertools.count()
        self._wakeup = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        self._slots: asyncio.Semaphore | None = None

    @property
    def pending(self) -> int:
        """Items not yet delivered or given up, counting POSTs still retrying."""
        return len(self._heap) + len(self._in_flight)

    def schedule(self, item: WebhookItem, delay: float) -> None:
        due = asyncio.get_running_loop().time() + max(delay, 0.0)
        heapq.heappush(self._heap, _Due(due, next(self._sequence), item))
        self._wakeup.set()

    async def run(self) -> None:
        settings = self._config().webhooks
        self._slots = asyncio.Semaphore(settings.max_concurrent_posts)
        # trust_env=False: a proxy from the environment must never see local webhooks.
        async with httpx.AsyncClient(trust_env=False) as client:
            self._client = client
            try:
                await self._loop()
            finally:
                for task in list(self._in_flight):
                    task.cancel()
                await asyncio.gather(*self._in_flight, return_exceptions=True)
                self._client = None

    async def settled(self, within: float) -> bool:
        """Wait until nothing is pending; False if `within` seconds pass first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while self.pending:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._wakeup.clear()
            if not self._heap:
                await self._wakeup.wait()
                continue
            wait = self._heap[0].at - loop.time()
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), wait)
                continue
            horizon = loop.time() + self._config().webhooks.batch_window_seconds
            due: list[WebhookItem] = []
            while self._heap and self._heap[0].at <= horizon:
                due.append(heapq.heappop(self._heap).item)
            for batch in self._batches(due):
                task = asyncio.create_task(self._deliver(batch))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)

    def _batches(self, due: list[WebhookItem]) -> list[list[WebhookItem]]:
        size = self._config().webhooks.max_statuses_per_post
        groups: dict[tuple[str, str, str, str], list[WebhookItem]] = {}
        for item in due:
            groups.setdefault(item.group, []).append(item)
        return [
            items[start : start + size]
            for items in groups.values()
            for start in range(0, len(items), size)
        ]

    def _destination(self, config: SimulatorConfig, waba_id: str, items: int) -> str | None:
        subscription = self._accounts.subscription(waba_id)
        if subscription is None and config.webhooks.require_subscription:
            self._records.count_webhook("suppressed_unsubscribed", items)
            return None
        if subscription is not None and subscription.override_callback_uri:
            return subscription.override_callback_uri
        if config.webhooks.url is None:
            self._records.count_webhook("suppressed_no_destination", items)
        return config.webhooks.url

    async def _deliver(self, batch: list[WebhookItem]) -> None:
        config = self._config()
        settings = config.webhooks
        first = batch[0]
        url = self._destination(config, first.waba_id, len(batch))
        if url is None:
            return
        items = [entry.item for entry in batch]
        contacts = [entry.contact for entry in batch if entry.contact is not None]
        payload = messages_webhook(
            first.waba_id,
            first.phone_number_id,
            first.display_phone_number,
            statuses=items if first.kind == "statuses" else (),
            messages=items if first.kind == "messages" else (),
            contacts=contacts,
        )
        body = encode_like_graph(payload)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature_header(body, settings.app_secret),
        }
        assert self._client is not None
        assert self._slots is not None
        for attempt in range(settings.max_attempts):
            if attempt:
                await asyncio.sleep(settings.retry_backoff_seconds * 2 ** (attempt - 1))
            try:
                async with self._slots:
                    response = await self._client.post(
                        url, content=body, headers=headers, timeout=settings.request_timeout_seconds
                    )
            except httpx.HTTPError as error:
                _log.debug("webhook POST to %s failed: %s", url, error)
                self._records.count_webhook("failed_attempts")
                continue
            # Meta wants exactly 200; anything else is retried.
            if response.status_code == 200:
                self._records.count_webhook("posts_delivered")
                self._records.count_webhook(f"{first.kind}_delivered", len(batch))
                if first.kind == "statuses":
                    self._records.add_delivered_statuses(
                        [DeliveredStatus(item["id"], item["status"], url) for item in items]
                    )
                return
            self._records.count_webhook("failed_attempts")
        self._records.count_webhook("posts_given_up")
