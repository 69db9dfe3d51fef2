"""Answers that are late or never come: holding a request, and resetting its connection.

Both watch for the client leaving (`http.disconnect`), so a held request ends as soon as
the client gives up instead of pinning the server until shutdown.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Mapping

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

# How long a reset answer waits for the server to notice the connection is gone, so that
# the server does not try to answer on it afterwards.
_RESET_SETTLE_SECONDS = 1.0


async def _client_left(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def hold(receive: Receive, seconds: float) -> bool:
    """Wait `seconds`, or less if the client leaves; True if it is still there."""
    if seconds <= 0:
        return True
    try:
        await asyncio.wait_for(_client_left(receive), seconds)
    except TimeoutError:
        return True
    return False


class DelayedResponse(Response):
    """`inner`, sent after `delay` seconds unless the client has left by then."""

    def __init__(self, inner: Response, delay: float) -> None:
        super().__init__(status_code=inner.status_code)
        self.inner = inner
        self.delay = delay

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if await hold(receive, self.delay):
            await self.inner(scope, receive, send)


class ConnectionReset(Response):
    """No answer at all: the TCP connection is reset (RST) under the request."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__(status_code=200)
        self.delay = delay

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not await hold(receive, self.delay):
            return
        if abort_connection(scope):
            await hold(receive, _RESET_SETTLE_SECONDS)
            return
        # Without a transport to abort, promise a body and never send it: the server then
        # closes the connection mid-answer, and the client still gets no usable response.
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"64")]}
        )


def abort_connection(scope: Scope) -> bool:
    """Reset the TCP connection that carries this request; False if it cannot be found.

    ASGI gives an application no handle on its connection, so the connection is found
    among the event loop's transports by its two addresses. Selector event loops (the
    default on Linux and macOS) keep that map; others make this return False.
    """
    client, server = scope.get("client"), scope.get("server")
    transports = getattr(asyncio.get_running_loop(), "_transports", None)
    if not client or not server or not isinstance(transports, Mapping):
        return False
    for transport in list(transports.values()):
        if not isinstance(transport, asyncio.Transport) or transport.is_closing():
            continue
        peer = transport.get_extra_info("peername")
        local = transport.get_extra_info("sockname")
        if not peer or not local:
            continue
        if tuple(peer[:2]) != tuple(client[:2]) or tuple(local[:2]) != tuple(server[:2]):
            continue
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Linger 0 turns the close into an RST, which is what a reset looks like.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
        return True
    return False
