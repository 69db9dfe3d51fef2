"""Failures without an answer: was the request sent, or can we not know?"""

from __future__ import annotations

import threading

import anyio
import pytest
from pixy_whatsapp.graph import GraphAmbiguousError, GraphNotSentError, GraphTransportError
from pydantic import SecretStr

from tests.unit.graph.conftest import TOKEN_VALUE, MakeClient
from tests.unit.graph.scripted_graph import (
    RawFaultServer,
    Reply,
    RunningServer,
    Seen,
    closed_port_url,
    unanswered_listener,
)

TOKEN = SecretStr(TOKEN_VALUE)
TEXT = {"to": "+16505551234", "type": "text", "text": {"body": "hi"}}
ACCEPTED = {"messaging_product": "whatsapp", "messages": [{"id": "wamid.A"}]}


@pytest.mark.anyio
async def test_answer_slower_than_read_timeout_is_ambiguous(
    h2_server: RunningServer, make_client: MakeClient
) -> None:
    h2_server.app.reply("POST", "/v24.0/1001/messages", Reply(json=ACCEPTED, delay=0.8))
    async with make_client(h2_server, read=0.15) as graph:
        with pytest.raises(GraphAmbiguousError) as raised:
            await graph.send_message("1001", TEXT, TOKEN)

    error = raised.value
    assert isinstance(error, GraphTransportError)
    assert error.ambiguous is True
    assert "ReadTimeout" in str(error)
    assert error.operation == "send_message"
    assert error.latency_ms is not None
    assert 150 <= error.latency_ms < 800
    assert len(h2_server.app.seen) == 1  # Meta did get it


@pytest.mark.anyio
async def test_closed_port_is_not_sent(make_client: MakeClient) -> None:
    async with make_client(closed_port_url()) as graph:
        with pytest.raises(GraphNotSentError) as raised:
            await graph.send_message("1001", TEXT, TOKEN)

    assert raised.value.ambiguous is False
    assert "ConnectError" in str(raised.value)


@pytest.mark.anyio
async def test_unanswered_connect_hits_the_connect_timeout_and_is_not_sent(
    make_client: MakeClient,
) -> None:
    with unanswered_listener() as url:
        async with make_client(url, connect=0.2) as graph:
            with pytest.raises(GraphNotSentError) as raised:
                await graph.send_message("1001", TEXT, TOKEN)

    assert "ConnectTimeout" in str(raised.value)
    assert raised.value.latency_ms is not None
    assert 200 <= raised.value.latency_ms < 2000


@pytest.mark.anyio
async def test_waiting_too_long_for_a_pooled_connection_is_not_sent(
    h1_server: RunningServer, make_client: MakeClient
) -> None:
    first_arrived = threading.Event()

    def slow_answer(_request: Seen) -> Reply:
        first_arrived.set()
        return Reply(json=ACCEPTED, delay=0.5)

    h1_server.app.handle("POST", "/v24.0/1001/messages", slow_answer)
    outcomes: list[object] = []

    async def send() -> None:
        try:
            outcomes.append(await graph.send_message("1001", TEXT, TOKEN))
        except GraphNotSentError as exc:
            outcomes.append(exc)

    graph = make_client(h1_server, pool=0.1, limits={"max_connections": 1})
    async with graph, anyio.create_task_group() as group:
        group.start_soon(send)
        # Once the server has the first request, that call holds the only connection.
        assert await anyio.to_thread.run_sync(first_arrived.wait, 2)
        group.start_soon(send)

    not_sent = [o for o in outcomes if isinstance(o, GraphNotSentError)]
    assert len(not_sent) == 1
    assert "PoolTimeout" in str(not_sent[0])
    assert len(h1_server.app.seen) == 1  # the second request never went out


@pytest.mark.anyio
async def test_connection_reset_after_the_request_was_sent_is_ambiguous(
    reset_server: RawFaultServer, make_client: MakeClient
) -> None:
    async with make_client(reset_server.base_url) as graph:
        with pytest.raises(GraphAmbiguousError) as raised:
            await graph.send_message("1001", TEXT, TOKEN)

    assert raised.value.ambiguous is True
    assert "ReadError" in str(raised.value)
    assert b'"messaging_product":"whatsapp"' in reset_server.requests[0]  # fully received


@pytest.mark.anyio
async def test_server_hanging_up_without_answer_is_ambiguous(
    hangup_server: RawFaultServer, make_client: MakeClient
) -> None:
    async with make_client(hangup_server.base_url) as graph:
        with pytest.raises(GraphAmbiguousError) as raised:
            await graph.send_message("1001", TEXT, TOKEN)

    assert "RemoteProtocolError" in str(raised.value)
    assert len(hangup_server.requests) == 1
