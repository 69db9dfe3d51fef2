"""Serving the simulator with hypercorn: in a background thread, as an asyncio task, or
in the foreground until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any, TypeVar, cast

from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig
from hypercorn.typing import ASGIFramework

from infra.local.graph_simulator.app import build_app
from infra.local.graph_simulator.config import GRAPH_VERSION, SimulatorConfig
from infra.local.graph_simulator.records import AcceptedMessage, DeliveredStatus, ReadReceipt
from infra.local.graph_simulator.simulation import Simulation
from infra.local.graph_simulator.validation import Validator, validate_with_models

_T = TypeVar("_T")

# Held requests (timeout faults) end when their client leaves; this bounds the wait for
# the ones whose client is still there at shutdown.
_GRACEFUL_SHUTDOWN_SECONDS = 1.0
_THREAD_START_TIMEOUT_SECONDS = 10.0


class GraphSimulator:
    """A stand-in for graph.facebook.com on localhost.

    Example:
        with run_simulator(SimulatorConfig(accept_any_token=True, default_waba_id="2001")) as sim:
            httpx.post(f"{sim.graph_url}/1001/messages", json=body, headers=auth)
            assert len(sim.accepted) == 1

    Read-only views (`accepted`, counters) and the test hooks are safe from any thread.
    """

    def __init__(
        self, config: SimulatorConfig | None = None, *, validate: Validator | None = None
    ) -> None:
        self.simulation = Simulation(config or SimulatorConfig(), validate or validate_with_models)
        self._socket: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None

    # -- where it listens ----------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("the simulator is not started")
        port: int = self._socket.getsockname()[1]
        return port

    @property
    def base_url(self) -> str:
        config = self.simulation.config
        scheme = "https" if config.tls_certfile else "http"
        host = f"[{config.host}]" if ":" in config.host else config.host
        return f"{scheme}://{host}:{self.port}"

    @property
    def graph_url(self) -> str:
        """The versioned base URL a Graph client is pointed at."""
        return f"{self.base_url}/{GRAPH_VERSION}"

    # -- what it recorded ----------------------------------------------------------------

    @property
    def config(self) -> SimulatorConfig:
        return self.simulation.config

    @property
    def accepted(self) -> list[AcceptedMessage]:
        return self.simulation.records.accepted

    @property
    def read_receipts(self) -> list[ReadReceipt]:
        return self.simulation.records.read_receipts

    @property
    def delivered_statuses(self) -> list[DeliveredStatus]:
        """Statuses the webhook receiver took with a 200, in delivery order."""
        return self.simulation.records.delivered_statuses

    @property
    def rejections(self) -> dict[int, int]:
        """Error code -> answers given with it."""
        return self.simulation.records.rejections

    @property
    def fault_counts(self) -> dict[str, int]:
        """Fault kind -> times it was injected."""
        return self.simulation.records.faults

    @property
    def webhook_counts(self) -> dict[str, int]:
        return self.simulation.records.webhooks

    def accepted_by_callback_data(self) -> dict[str, int]:
        return self.simulation.records.accepted_by_callback_data()

    def duplicates_by_callback_data(self) -> dict[str, int]:
        """biz_opaque_callback_data accepted more than once -> times accepted."""
        return self.simulation.records.duplicates_by_callback_data()

    def state(self) -> dict[str, Any]:
        return self.simulation.state()

    # -- test hooks ----------------------------------------------------------------------

    def update_config(self, **changes: Any) -> SimulatorConfig:
        return self.simulation.update_config(changes)

    def revoke_token(self, token: str, seconds: float | None = None) -> None:
        """Make a token answer 190 for `seconds` (until `restore_token` when None)."""
        self.simulation.accounts.revoke(token, time.monotonic(), seconds)

    def restore_token(self, token: str) -> None:
        self.simulation.accounts.restore(token)

    def drop_subscription(self, waba_id: str) -> bool:
        """Unsubscribe the app from a WABA behind the client's back (drift)."""
        return self.simulation.accounts.unsubscribe(waba_id)

    def reset_records(self) -> None:
        self._call_in_loop(self.simulation.reset_records)

    def send_inbound_text(
        self, phone_number_id: str, from_wa_id: str, text: str, profile_name: str = "Test User"
    ) -> str:
        """A user writes to a business number; its `messages` webhook follows. Returns the wamid."""
        return self._call_in_loop(
            lambda: self.simulation.inbound_text(phone_number_id, from_wa_id, text, profile_name)
        )

    def wait_for_webhooks(self, timeout: float = 5.0) -> bool:
        """Block until every planned webhook is delivered or given up (thread mode only)."""
        loop = self._running_loop()
        future = asyncio.run_coroutine_threadsafe(self.simulation.dispatcher.settled(timeout), loop)
        return future.result(timeout + 1.0)

    async def webhooks_settled(self, within: float = 5.0) -> bool:
        """Wait until every planned webhook is delivered or given up (task mode)."""
        return await self.simulation.dispatcher.settled(within)

    # -- running -------------------------------------------------------------------------

    def bind(self) -> socket.socket:
        """Open the listening socket now, so the port is known before serving starts."""
        if self._socket is None:
            config = self.simulation.config
            family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((config.host, config.port))
            # Listening now means clients may connect as soon as `bind` returns; they wait
            # in the backlog until hypercorn accepts.
            sock.listen(1024)
            self._socket = sock
        return self._socket

    async def serve(self, *, stop_on_signals: bool = False) -> None:
        """Serve until `request_stop`, or also SIGINT/SIGTERM with `stop_on_signals`."""
        sock = self.bind()
        self._loop = asyncio.get_running_loop()
        stopping = self._stopping = asyncio.Event()
        if stop_on_signals:
            for signal_number in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError):  # not on Windows loops
                    self._loop.add_signal_handler(signal_number, stopping.set)
        dispatcher = asyncio.create_task(self.simulation.dispatcher.run())
        try:
            # Hypercorn takes a duplicate of the socket by file descriptor and closes it.
            await serve(
                # Starlette's ASGI types are looser than hypercorn's, not different.
                cast(ASGIFramework, build_app(self.simulation)),
                self._hypercorn_config(sock.dup()),
                shutdown_trigger=stopping.wait,
                mode="asgi",
            )
        finally:
            dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await dispatcher
            sock.close()
            self._socket = None

    def request_stop(self) -> None:
        """Ask a running `serve` to stop; safe from any thread."""
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)

    def _hypercorn_config(self, sock: socket.socket) -> HypercornConfig:
        config = HypercornConfig()
        config.bind = [f"fd://{sock.detach()}"]
        config.graceful_timeout = _GRACEFUL_SHUTDOWN_SECONDS
        config.errorlog = logging.getLogger("infra.local.graph_simulator.hypercorn")
        config.accesslog = None
        config.include_server_header = False
        settings = self.simulation.config
        if settings.tls_certfile and settings.tls_keyfile:
            config.certfile = settings.tls_certfile
            config.keyfile = settings.tls_keyfile
        return config

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None or self._loop.is_closed():
            raise RuntimeError("the simulator is not running")
        return self._loop

    def _call_in_loop(self, action: Callable[[], _T]) -> _T:
        # The dispatcher's heap and timers belong to the simulator's loop.
        loop = self._loop
        if loop is None or loop.is_closed():
            return action()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            return action()

        async def run() -> _T:
            return action()

        return asyncio.run_coroutine_threadsafe(run(), loop).result(5.0)


@contextlib.contextmanager
def run_simulator(
    config: SimulatorConfig | Mapping[str, Any] | None = None, *, validate: Validator | None = None
) -> Iterator[GraphSimulator]:
    """Run a simulator on its own event loop in a background thread.

    Example:
        with run_simulator(SimulatorConfig(accept_any_token=True)) as sim:
            ...  # sim.base_url, sim.accepted
    """
    simulator = GraphSimulator(_as_config(config), validate=validate)
    simulator.bind()
    started = threading.Event()
    failure: list[BaseException] = []

    async def main() -> None:
        serving = asyncio.create_task(simulator.serve())
        await asyncio.sleep(0)
        started.set()
        await serving

    def thread_main() -> None:
        try:
            asyncio.run(main())
        except BaseException as error:  # reported to the caller, not lost in the thread
            failure.append(error)
            started.set()

    thread = threading.Thread(target=thread_main, name="graph-simulator", daemon=True)
    thread.start()
    if not started.wait(_THREAD_START_TIMEOUT_SECONDS) or failure:
        raise RuntimeError("the Graph API simulator did not start") from (
            failure[0] if failure else None
        )
    try:
        yield simulator
    finally:
        simulator.request_stop()
        thread.join(_THREAD_START_TIMEOUT_SECONDS)
        if failure:
            raise RuntimeError("the Graph API simulator failed") from failure[0]


@contextlib.asynccontextmanager
async def start_simulator(
    config: SimulatorConfig | Mapping[str, Any] | None = None, *, validate: Validator | None = None
) -> AsyncIterator[GraphSimulator]:
    """Run a simulator as a task on the current event loop.

    Example:
        async with start_simulator(SimulatorConfig(accept_any_token=True)) as sim:
            ...
    """
    simulator = GraphSimulator(_as_config(config), validate=validate)
    simulator.bind()
    serving = asyncio.create_task(simulator.serve())
    await asyncio.sleep(0)
    try:
        yield simulator
    finally:
        simulator.request_stop()
        await serving


def _as_config(config: SimulatorConfig | Mapping[str, Any] | None) -> SimulatorConfig:
    if config is None:
        return SimulatorConfig()
    if isinstance(config, SimulatorConfig):
        return config
    return SimulatorConfig.model_validate(config)
