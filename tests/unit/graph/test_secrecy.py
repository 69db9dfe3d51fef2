"""The access token never shows in a repr, an exception text or a log record."""

from __future__ import annotations

import logging

import pytest
from pixy_whatsapp.graph import GraphApiError, GraphNotSentError
from pydantic import SecretStr

from tests.unit.graph.conftest import TOKEN_VALUE, MakeClient
from tests.unit.graph.scripted_graph import Reply, RunningServer, closed_port_url, graph_error

TOKEN = SecretStr(TOKEN_VALUE)
TEXT = {"to": "+16505551234", "type": "text", "text": {"body": "hi"}}


@pytest.mark.anyio
async def test_token_stays_out_of_reprs_errors_and_debug_logs(
    h2_server: RunningServer, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    h2_server.app.reply(
        "POST",
        "/v24.0/1001/messages",
        Reply(json={"messages": [{"id": "wamid.A"}], "contacts": [{"input": "+1", "wa_id": "1"}]}),
        # An answer quoting the token back must not carry it into our exception.
        graph_error(
            190,
            f"Invalid OAuth access token: {TOKEN_VALUE}",
            status=401,
            details=f"token {TOKEN_VALUE} expired",
        ),
    )
    h2_server.app.reply("GET", "/v24.0/2002/subscribed_apps", Reply(json={"data": [{"id": "9"}]}))

    shown: list[str] = []
    graph = make_client(h2_server)
    shown += [repr(graph), str(graph)]
    result = await graph.send_message("1001", TEXT, TOKEN)
    shown += [repr(result), str(result), result.model_dump_json()]
    with pytest.raises(GraphApiError) as api_failure:
        await graph.send_message("1001", TEXT, TOKEN)
    shown += [repr(api_failure.value), str(api_failure.value), str(vars(api_failure.value))]
    apps = await graph.list_subscribed_apps("2002", TOKEN)
    shown += [repr(apps)]
    await graph.aclose()
    async with make_client(closed_port_url()) as unreachable:
        with pytest.raises(GraphNotSentError) as transport_failure:
            await unreachable.send_message("1001", TEXT, TOKEN)
    shown += [repr(transport_failure.value), str(transport_failure.value)]
    shown += [repr(transport_failure.value.__cause__)]

    # The test means something only if the token did travel, over HTTP/2,
    # with the header codec logging at DEBUG.
    assert h2_server.app.seen[0].headers["authorization"] == f"Bearer {TOKEN_VALUE}"
    assert any(record.name.startswith("hpack") for record in caplog.records)
    assert api_failure.value.code == 190
    assert "[redacted]" in str(api_failure.value)

    logged = [record.getMessage() for record in caplog.records]
    logged += [caplog.text]
    for text in shown + logged:
        assert TOKEN_VALUE not in text
