"""What each operation sends and how it reads the answer."""

from __future__ import annotations

from typing import Any

import pytest
from pixy_whatsapp.graph import GraphClientSettings, SentContact
from pydantic import SecretStr

from tests.unit.graph.conftest import TOKEN_VALUE, MakeClient
from tests.unit.graph.scripted_graph import Reply, RunningServer

TOKEN = SecretStr(TOKEN_VALUE)
TEXT = {"to": "+16505551234", "type": "text", "text": {"body": "hi"}}
SUCCESS = Reply(json={"success": True})


@pytest.mark.anyio
async def test_send_message_posts_the_body_and_reads_the_acceptance(
    h2_server: RunningServer, make_client: MakeClient
) -> None:
    answer = {
        "messaging_product": "whatsapp",
        "contacts": [{"input": "+16505551234", "wa_id": "16505551234"}],
        "messages": [{"id": "wamid.HBgL", "message_status": "accepted"}],
    }
    h2_server.app.reply("POST", "/v24.0/1001/messages", Reply(json=answer, delay=0.03))
    body: dict[str, Any] = dict(TEXT)

    async with make_client(h2_server) as graph:
        result = await graph.send_message("1001", body, TOKEN, biz_opaque_callback_data="req-42")

    assert result.wamid == "wamid.HBgL"
    assert result.message_status == "accepted"
    assert result.contacts == (SentContact(input="+16505551234", wa_id="16505551234"),)
    assert result.latency_ms >= 30
    (seen,) = h2_server.app.seen
    assert seen.headers["authorization"] == f"Bearer {TOKEN_VALUE}"
    assert seen.headers["content-type"] == "application/json"
    assert seen.json() == {
        **TEXT,
        "messaging_product": "whatsapp",
        "biz_opaque_callback_data": "req-42",
    }
    assert body == TEXT  # the caller's mapping is left alone


@pytest.mark.anyio
async def test_send_answer_without_status_or_contacts_still_reads(
    h1_server: RunningServer, make_client: MakeClient
) -> None:
    h1_server.app.reply(
        "POST", "/v24.0/1001/messages", Reply(json={"messages": [{"id": "wamid.X"}]})
    )
    async with make_client(h1_server) as graph:
        result = await graph.send_message("1001", TEXT, TOKEN)

    assert (result.wamid, result.message_status, result.contacts) == ("wamid.X", None, ())
    assert "biz_opaque_callback_data" not in h1_server.app.seen[0].json()


@pytest.mark.anyio
async def test_base_url_prefix_and_api_version_are_configurable(
    h1_server: RunningServer,
) -> None:
    from pixy_whatsapp.graph import GraphClient

    h1_server.app.reply(
        "POST", "/graph/v23.0/1001/messages", Reply(json={"messages": [{"id": "wamid.Y"}]})
    )
    settings = GraphClientSettings(base_url=f"{h1_server.base_url}/graph/", api_version="v23.0")
    async with GraphClient(settings) as graph:
        result = await graph.send_message("1001", TEXT, TOKEN)

    assert result.wamid == "wamid.Y"


@pytest.mark.anyio
async def test_send_refuses_bad_input_before_any_request(
    h1_server: RunningServer, make_client: MakeClient
) -> None:
    async with make_client(h1_server) as graph:
        with pytest.raises(ValueError, match="512"):
            await graph.send_message("1001", TEXT, TOKEN, biz_opaque_callback_data="x" * 513)
        with pytest.raises(ValueError, match="path segment"):
            await graph.send_message("1001/../2002", TEXT, TOKEN)
        with pytest.raises(TypeError, match="SecretStr"):
            await graph.send_message("1001", TEXT, TOKEN_VALUE)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="access token"):
            await graph.send_message("1001", TEXT, SecretStr("two words"))

    assert h1_server.app.seen == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("typing_indicator", "extra"),
    [(False, {}), (True, {"typing_indicator": {"type": "text"}})],
)
async def test_mark_as_read(
    h1_server: RunningServer,
    make_client: MakeClient,
    typing_indicator: bool,
    extra: dict[str, Any],
) -> None:
    h1_server.app.reply("POST", "/v24.0/1001/messages", SUCCESS)
    async with make_client(h1_server) as graph:
        done = await graph.mark_as_read(
            "1001", "wamid.IN", TOKEN, typing_indicator=typing_indicator
        )

    assert done is True
    assert h1_server.app.seen[0].json() == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.IN",
        **extra,
    }


@pytest.mark.anyio
async def test_mark_as_read_reports_success_false(
    h1_server: RunningServer, make_client: MakeClient
) -> None:
    h1_server.app.reply("POST", "/v24.0/1001/messages", Reply(json={"success": False}))
    async with make_client(h1_server) as graph:
        assert await graph.mark_as_read("1001", "wamid.IN", TOKEN) is False


@pytest.mark.anyio
async def test_subscribe_with_and_without_override(
    h2_server: RunningServer, make_client: MakeClient
) -> None:
    h2_server.app.reply("POST", "/v24.0/2002/subscribed_apps", SUCCESS)
    async with make_client(h2_server) as graph:
        assert await graph.subscribe_app(
            "2002",
            TOKEN,
            override_callback_uri="https://hooks.example.com/meta",
            verify_token=SecretStr("verify-me"),
        )
        assert await graph.subscribe_app("2002", TOKEN)

    with_override, plain = h2_server.app.seen
    assert with_override.json() == {
        "override_callback_uri": "https://hooks.example.com/meta",
        "verify_token": "verify-me",
    }
    assert plain.body == b""  # no body removes an earlier override


@pytest.mark.anyio
async def test_subscribe_needs_override_and_verify_token_together(
    h1_server: RunningServer, make_client: MakeClient
) -> None:
    async with make_client(h1_server) as graph:
        with pytest.raises(ValueError, match="together"):
            await graph.subscribe_app("2002", TOKEN, override_callback_uri="https://x.example")
    assert h1_server.app.seen == []


@pytest.mark.anyio
async def test_list_subscribed_apps_reads_nested_and_flat_shapes(
    h2_server: RunningServer, make_client: MakeClient
) -> None:
    answer = {
        "data": [
            {
                "whatsapp_business_api_data": {
                    "id": "67084",
                    "link": "https://www.facebook.com/games/?app_id=67084",
                    "name": "Pixy",
                },
                "override_callback_uri": "https://hooks.example.com/meta",
            },
            {"id": "1234", "name": "Other app"},
        ]
    }
    h2_server.app.reply("GET", "/v24.0/2002/subscribed_apps", Reply(json=answer))
    async with make_client(h2_server) as graph:
        apps = await graph.list_subscribed_apps("2002", TOKEN)

    assert [(a.id, a.name, a.link, a.override_callback_uri) for a in apps] == [
        (
            "67084",
            "Pixy",
            "https://www.facebook.com/games/?app_id=67084",
            "https://hooks.example.com/meta",
        ),
        ("1234", "Other app", None, None),
    ]


@pytest.mark.anyio
async def test_list_subscribed_apps_empty_means_nothing_subscribed(
    h1_server: RunningServer, make_client: MakeClient
) -> None:
    h1_server.app.reply("GET", "/v24.0/2002/subscribed_apps", Reply(json={"data": []}))
    async with make_client(h1_server) as graph:
        assert await graph.list_subscribed_apps("2002", TOKEN) == []


@pytest.mark.anyio
async def test_unsubscribe_deletes(h1_server: RunningServer, make_client: MakeClient) -> None:
    h1_server.app.reply("DELETE", "/v24.0/2002/subscribed_apps", SUCCESS)
    async with make_client(h1_server) as graph:
        assert await graph.unsubscribe_app("2002", TOKEN) is True
    assert h1_server.app.seen[0].method == "DELETE"
