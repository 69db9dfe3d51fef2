"""One `httpx.AsyncClient` per running event loop.

An httpx client's pooled connections belong to the event loop that opened them;
used from another loop they fail with "Event loop is closed". A Lambda handler
that calls `asyncio.run` on every invocation gets a new loop each time, so the
pool is kept per loop: the first call in a loop creates that loop's client, and
the client is closed cleanly (connections shut, no socket left to the garbage
collector) while the loop shuts down.

Connections therefore live as long as their loop. To keep them warm across
warm invocations, run every invocation on one long-lived loop, e.g. an
`asyncio.Runner` kept in a module global.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import httpx

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _LoopClient:
    client: httpx.AsyncClient
    closer: asyncio.Task[None]


class LoopBoundClients:
    """Hands out the calling loop's `httpx.AsyncClient`, creating it on first use."""

    def __init__(self, factory: Callable[[], httpx.AsyncClient]) -> None:
        self._factory = factory
        self._by_loop: dict[asyncio.AbstractEventLoop, _LoopClient] = {}
        # Loops in different threads may share one instance.
        self._lock = threading.Lock()

    def current(self) -> httpx.AsyncClient:
        """The running loop's client. Must be called from inside a coroutine."""
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._by_loop.get(loop)
            if entry is not None and not entry.client.is_closed:
                return entry.client
            self._forget_closed_loops()
            client = self._factory()
            closer = loop.create_task(
                self._close_when_loop_stops(loop, client), name="pixy-graph-client-closer"
            )
            self._by_loop[loop] = _LoopClient(client, closer)
            return client

    async def aclose(self) -> None:
        """Close the running loop's client now (clients of other loops close with their loop)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._by_loop.get(loop)
        if entry is not None:
            entry.closer.cancel()
            await asyncio.wait([entry.closer])

    def _forget_closed_loops(self) -> None:
        # A loop closed without cancelling its tasks never ran our closer; drop
        # its entry so the dead loop and its client can be garbage collected.
        for loop in [loop for loop in self._by_loop if loop.is_closed()]:
            del self._by_loop[loop]

    async def _close_when_loop_stops(
        self, loop: asyncio.AbstractEventLoop, client: httpx.AsyncClient
    ) -> None:
        # asyncio.run (and asyncio.Runner.close) cancel every pending task and
        # run the loop until they finish, which is the last moment the loop can
        # still close our connections.
        try:
            await loop.create_future()
        finally:
            with self._lock:
                entry = self._by_loop.get(loop)
                if entry is not None and entry.client is client:
                    del self._by_loop[loop]
            try:
                await client.aclose()
            except Exception:  # a failing close must not disturb the loop's shutdown
                _log.debug("closing the Graph HTTP client failed", exc_info=True)
