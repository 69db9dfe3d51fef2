"""Meta's error answers become one exception type carrying every field."""

from __future__ import annotations

import json
import pickle

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pixy_whatsapp.graph import (
    GraphAmbiguousError,
    GraphApiError,
    GraphError,
    GraphUnreadableResponseError,
)
from pixy_whatsapp.graph.error_mapping import api_error
from pydantic import SecretStr

from tests.unit.graph.conftest import TOKEN_VALUE, MakeClient
from tests.unit.graph.scripted_graph import Reply, RunningServer

TOKEN = SecretStr(TOKEN_VALUE)
TEXT = {"to": "+16505551234", "type": "text", "text": {"body": "hi"}}
PATH = "/v24.0/1001/messages"

RATE_LIMIT_BODY = {
    "error": {
        "message": "(#130429) Rate limit hit",
        "type": "OAuthException",
        "code": 130429,
        "error_data": {
            "messaging_product": "whatsapp",
            "details": "Cloud API message throughput has been reached.",
        },
        "error_subcode": 2494055,
        "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam",
        "is_transient": True,
        "error_user_title": "Slow down",
        "error_user_msg": "Too many messages",
    }
}


async def _send_and_catch(server: RunningServer, make_client: MakeClient) -> GraphApiError:
    async with make_client(server) as graph:
        with pytest.raises(GraphApiError) as raised:
            await graph.send_message("1001", TEXT, TOKEN)
    return raised.value


@pytest.mark.anyio
async def test_graph_error_body_fills_every_field(
    h2_server: RunningServer, make_client: MakeClient
) -> None:
    h2_server.app.reply("POST", PATH, Reply(status=429, json=RATE_LIMIT_BODY, delay=0.02))

    error = await _send_and_catch(h2_server, make_client)

    assert error.http_status == 429
    assert error.code == 130429
    assert error.subcode == 2494055
    assert error.error_type == "OAuthException"
    assert error.message == "(#130429) Rate limit hit"
    assert error.details == "Cloud API message throughput has been reached."
    assert error.fbtrace_id == "Az8or2yhqkZfEZ-_4Qn_Bam"
    assert error.is_transient is True
    assert error.user_title == "Slow down"
    assert error.user_message == "Too many messages"
    assert error.operation == "send_message"
    assert error.latency_ms is not None
    assert error.latency_ms >= 20
    assert "130429/2494055" in str(error)
    assert "Az8or2yhqkZfEZ-_4Qn_Bam" in str(error)


@pytest.mark.anyio
async def test_html_page_from_a_proxy_keeps_http_status_and_has_no_code(
    h2_server: RunningServer, make_client: MakeClient
) -> None:
    page = b"<html><body><h1>502 Bad Gateway</h1>\n upstream closed </body></html>"
    h2_server.app.reply(
        "POST",
        PATH,
        Reply(
            status=502,
            body=page,
            content_type="text/html",
            headers=(("x-fb-trace-id", "HtmlTrace1"),),
        ),
    )

    error = await _send_and_catch(h2_server, make_client)

    assert error.http_status == 502
    assert error.code is None
    assert error.subcode is None
    assert error.fbtrace_id == "HtmlTrace1"
    assert error.message is not None
    assert "text/html" in error.message
    assert "502 Bad Gateway" in error.message


@pytest.mark.anyio
async def test_error_data_sent_as_a_json_string_is_read(
    h1_server: RunningServer, make_client: MakeClient
) -> None:
    body = {
        "error": {
            "message": "(#100) Invalid parameter",
            "type": "OAuthException",
            "code": 100,
            "error_data": json.dumps({"details": "Param text cannot have new-line"}),
            "fbtrace_id": "T1",
        }
    }
    h1_server.app.reply("POST", PATH, Reply(status=400, json=body))

    error = await _send_and_catch(h1_server, make_client)

    assert (error.code, error.details, error.subcode) == (
        100,
        "Param text cannot have new-line",
        None,
    )


@pytest.mark.anyio
async def test_2xx_without_a_message_id_is_unreadable_and_ambiguous(
    h1_server: RunningServer, make_client: MakeClient
) -> None:
    h1_server.app.reply("POST", PATH, Reply(json={"messaging_product": "whatsapp"}))
    async with make_client(h1_server) as graph:
        with pytest.raises(GraphUnreadableResponseError) as raised:
            await graph.send_message("1001", TEXT, TOKEN)

    assert isinstance(raised.value, GraphAmbiguousError)
    assert raised.value.ambiguous is True
    assert raised.value.http_status == 200


@pytest.mark.anyio
async def test_2xx_that_is_not_json_is_unreadable(
    h1_server: RunningServer, make_client: MakeClient
) -> None:
    h1_server.app.reply("POST", PATH, Reply(body=b"OK", content_type="text/plain"))
    async with make_client(h1_server) as graph:
        with pytest.raises(GraphUnreadableResponseError):
            await graph.send_message("1001", TEXT, TOKEN)


def test_api_error_survives_pickling() -> None:
    error = api_error(
        operation="send_message",
        http_status=400,
        content=json.dumps(RATE_LIMIT_BODY).encode(),
        headers=httpx.Headers(),
        latency_ms=12.5,
        secret=TOKEN_VALUE,
    )

    copy = pickle.loads(pickle.dumps(error))

    assert type(copy) is GraphApiError
    assert (copy.code, copy.subcode, copy.details, copy.latency_ms) == (
        130429,
        2494055,
        "Cloud API message throughput has been reached.",
        12.5,
    )
    assert str(copy) == str(error)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
_error_like = st.fixed_dictionaries(
    {},
    optional={
        "code": _json,
        "error_subcode": _json,
        "message": _json,
        "type": _json,
        "error_data": _json,
        "fbtrace_id": _json,
        "is_transient": _json,
    },
)


@given(
    status=st.integers(min_value=300, max_value=599),
    content=st.one_of(
        st.binary(max_size=200),
        _json.map(lambda v: json.dumps(v).encode()),
        _error_like.map(lambda e: json.dumps({"error": e}).encode()),
    ),
)
def test_any_error_answer_becomes_a_graph_api_error(status: int, content: bytes) -> None:
    error = api_error(
        operation="op",
        http_status=status,
        content=content,
        headers=httpx.Headers(),
        latency_ms=1.0,
        secret=TOKEN_VALUE,
    )

    assert isinstance(error, GraphError)
    assert error.http_status == status
    assert error.code is None or isinstance(error.code, int)
    str(error)
