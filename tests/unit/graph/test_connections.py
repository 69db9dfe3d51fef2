"""HTTP/2, connection reuse, and living through more than one event loop."""

from __future__ import annotations

import asyncio
import gc
import warnings

import anyio
import pytest
from pydantic import SecretStr

from tests.unit.graph.conftest import TOKEN_VALUE, MakeClient
from tests.unit.graph.scripted_graph import Reply, RunningServer

TOKEN = SecretStr(TOKEN_VALUE)
TEXT = {"to": "+16505551234", "type": "text", "text": {"body": "hi"}}


def _accept_sends(server: RunningServer) -> None:
    server.app.reply(
        "POST",
        "/v24.0/1001/messages",
        Reply(json={"messaging_product": "whatsapp", "messages": [{"id": "wamid.A"}]}),
    )


@pytest.mark.anyio
async def test_http2_is_negotiated_and_one_connection_carries_every_call(
    h2_server: RunningServer, make_client: MakeClient
) -> None:
    _accept_sends(h2_server)
    async with make_client(h2_server) as graph:
        for _ in range(3):
            await graph.send_message("1001", TEXT, TOKEN)
        async with anyio.create_task_group() as group:
            for _ in range(10):
                group.start_soon(graph.send_message, "1001", TEXT, TOKEN)

    assert len(h2_server.app.seen) == 13
    assert {request.http_version for request in h2_server.app.seen} == {"2"}
    assert len(h2_server.app.connections()) == 1


def test_client_survives_successive_asyncio_run_calls(
    h2_server: RunningServer, make_client: MakeClient
) -> None:
    _accept_sends(h2_server)
    graph = make_client(h2_server)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = asyncio.run(graph.send_message("1001", TEXT, TOKEN))
        second = asyncio.run(graph.send_message("1001", TEXT, TOKEN))
        gc.collect()

    assert first.wamid == second.wamid == "wamid.A"
    # Each loop opened its own connection and closed it as the loop shut down,
    # leaving no socket for the garbage collector to complain about.
    assert len(h2_server.app.connections()) == 2
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_one_long_lived_loop_keeps_the_connection_across_invocations(
    h2_server: RunningServer, make_client: MakeClient
) -> None:
    _accept_sends(h2_server)
    graph = make_client(h2_server)

    with asyncio.Runner() as runner:
        for _ in range(3):  # three "invocations" of a warm Lambda environment
            runner.run(graph.send_message("1001", TEXT, TOKEN))

    assert len(h2_server.app.seen) == 3
    assert len(h2_server.app.connections()) == 1


@pytest.mark.anyio
async def test_aclose_drops_connections_and_the_next_call_opens_a_new_one(
    h2_server: RunningServer, make_client: MakeClient
) -> None:
    _accept_sends(h2_server)
    graph = make_client(h2_server)
    await graph.send_message("1001", TEXT, TOKEN)
    await graph.aclose()
    await graph.send_message("1001", TEXT, TOKEN)
    await graph.aclose()

    assert len(h2_server.app.connections()) == 2


@pytest.mark.anyio
async def test_plain_http_base_url_talks_http1(
    h1_server: RunningServer, make_client: MakeClient
) -> None:
    _accept_sends(h1_server)
    async with make_client(h1_server) as graph:
        result = await graph.send_message("1001", TEXT, TOKEN)

    assert result.wamid == "wamid.A"
    assert h1_server.app.seen[0].http_version == "1.1"
