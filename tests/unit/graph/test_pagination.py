"""Paginated GETs: cursors, `next` links, and restarts after an expired cursor."""

from __future__ import annotations

from typing import Any

import pytest
from pixy_whatsapp.graph import GraphApiError, GraphUnreadableResponseError
from pydantic import SecretStr

from tests.unit.graph.conftest import TOKEN_VALUE, MakeClient
from tests.unit.graph.scripted_graph import Reply, RunningServer, Seen, graph_error

TOKEN = SecretStr(TOKEN_VALUE)
PATH = "/v24.0/2002/groups"
EXPIRED_CURSOR = graph_error(
    131059,
    "(#131059) Invalid cursor",
    details="The cursor has either expired or become corrupted.",
)


def page(items: list[dict[str, Any]], after: str | None, *, more: bool) -> Reply:
    paging: dict[str, Any] = {"cursors": {"before": "b", "after": after or "last"}}
    if more:
        paging["next"] = f"https://graph.facebook.com/v24.0/2002/groups?after={after}"
    return Reply(json={"data": items, "paging": paging})


async def collect(graph: Any, **kwargs: Any) -> list[dict[str, Any]]:
    return [item async for item in graph.paginate("2002/groups", TOKEN, **kwargs)]


@pytest.mark.anyio
async def test_follows_cursors_until_next_is_gone(
    h2_server: RunningServer, make_client: MakeClient
) -> None:
    pages = {
        None: page([{"id": "1"}, {"id": "2"}], "c1", more=True),
        "c1": page([{"id": "3"}], "c2", more=True),
        # Graph keeps sending cursors on the last page; only `next` is missing.
        "c2": page([{"id": "4"}], "c3", more=False),
    }
    h2_server.app.handle("GET", PATH, lambda r: pages[r.param("after")])

    async with make_client(h2_server) as graph:
        items = await collect(graph, params={"fields": "id,subject", "limit": 2})

    assert [item["id"] for item in items] == ["1", "2", "3", "4"]
    assert [r.query for r in h2_server.app.seen] == [
        [("fields", "id,subject"), ("limit", "2")],
        [("fields", "id,subject"), ("limit", "2"), ("after", "c1")],
        [("fields", "id,subject"), ("limit", "2"), ("after", "c2")],
    ]
    assert all(r.headers["authorization"] == f"Bearer {TOKEN_VALUE}" for r in h2_server.app.seen)


@pytest.mark.anyio
async def test_expired_cursor_restarts_once_and_skips_items_already_seen(
    h1_server: RunningServer, make_client: MakeClient
) -> None:
    first_pages = iter(
        [
            page([{"id": "1"}, {"id": "2"}], "old", more=True),
            page([{"id": "1"}, {"id": "2"}], "fresh", more=True),
        ]
    )

    def answer(request: Seen) -> Reply:
        after = request.param("after")
        if after is None:
            return next(first_pages)
        if after == "old":
            return EXPIRED_CURSOR
        return page([{"id": "3"}, {"name": "no id"}], "end", more=False)

    h1_server.app.handle("GET", PATH, answer)

    async with make_client(h1_server) as graph:
        items = await collect(graph, max_restarts=1)

    assert items == [{"id": "1"}, {"id": "2"}, {"id": "3"}, {"name": "no id"}]
    assert [r.param("after") for r in h1_server.app.seen] == [None, "old", None, "fresh"]


@pytest.mark.anyio
async def test_restarts_are_bounded(h1_server: RunningServer, make_client: MakeClient) -> None:
    h1_server.app.handle(
        "GET",
        PATH,
        lambda r: EXPIRED_CURSOR if r.param("after") else page([{"id": "1"}], "c", more=True),
    )

    async with make_client(h1_server) as graph:
        with pytest.raises(GraphApiError) as raised:
            await collect(graph, max_restarts=1)

    assert raised.value.code == 131059
    assert [r.param("after") for r in h1_server.app.seen] == [None, "c", None, "c"]


@pytest.mark.anyio
async def test_invalid_cursor_on_the_first_page_is_not_restarted(
    h1_server: RunningServer, make_client: MakeClient
) -> None:
    h1_server.app.reply("GET", PATH, EXPIRED_CURSOR)

    async with make_client(h1_server) as graph:
        with pytest.raises(GraphApiError):
            await collect(graph)

    assert len(h1_server.app.seen) == 1


@pytest.mark.anyio
async def test_next_link_without_cursors_is_followed_on_the_same_origin_only(
    h1_server: RunningServer, make_client: MakeClient
) -> None:
    next_link = f"{h1_server.base_url}{PATH}?offset=2&access_token=leaked&limit=2"
    pages = {
        None: Reply(json={"data": [{"id": "1"}], "paging": {"next": next_link}}),
        "2": Reply(json={"data": [{"id": "2"}], "paging": {}}),
    }
    h1_server.app.handle("GET", PATH, lambda r: pages[r.param("offset")])

    async with make_client(h1_server) as graph:
        items = await collect(graph)

    assert [item["id"] for item in items] == ["1", "2"]
    assert h1_server.app.seen[1].query == [("offset", "2"), ("limit", "2")]
    assert h1_server.app.seen[1].headers["authorization"] == f"Bearer {TOKEN_VALUE}"


@pytest.mark.anyio
async def test_next_link_to_another_host_is_refused(
    h1_server: RunningServer, make_client: MakeClient
) -> None:
    h1_server.app.reply(
        "GET",
        PATH,
        Reply(json={"data": [{"id": "1"}], "paging": {"next": "https://evil.example/v24.0/x"}}),
    )

    async with make_client(h1_server) as graph:
        with pytest.raises(GraphUnreadableResponseError, match="origin"):
            await collect(graph)

    assert len(h1_server.app.seen) == 1


@pytest.mark.anyio
async def test_paging_that_does_not_advance_stops(
    h1_server: RunningServer, make_client: MakeClient
) -> None:
    h1_server.app.handle("GET", PATH, lambda r: page([{"id": "1"}], "same", more=True))

    async with make_client(h1_server) as graph:
        with pytest.raises(GraphUnreadableResponseError, match="advance"):
            await collect(graph)

    assert len(h1_server.app.seen) == 2


@pytest.mark.anyio
async def test_stopping_early_asks_for_no_further_page(
    h1_server: RunningServer, make_client: MakeClient
) -> None:
    h1_server.app.reply("GET", PATH, page([{"id": "1"}, {"id": "2"}], "c1", more=True))

    async with make_client(h1_server) as graph:
        async for item in graph.paginate("2002/groups", TOKEN):
            assert item == {"id": "1"}
            break

    assert len(h1_server.app.seen) == 1
