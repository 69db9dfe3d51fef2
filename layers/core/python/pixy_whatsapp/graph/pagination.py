"""Walking a paginated Graph collection, restarting when Meta drops our cursor.

Rules, in the order they apply to each page:

- The collection ends when `paging.next` is absent: Graph keeps sending
  `paging.cursors` on the last page, so the cursors alone prove nothing.
- The next page is asked for with our own URL plus `after=<paging.cursors.after>`,
  or, when a collection pages without cursors, with `paging.next` itself, which
  must point at the configured Graph origin (the bearer token is never sent
  anywhere else) and loses any `access_token` parameter (ours goes in a header).
- When Meta answers a cursor request with code 131059 (the cursor expired or is
  corrupted; Meta's advice is to start again from the beginning), the walk
  restarts from the first page, at most `max_restarts` times; after that, or on
  a first page, the error is raised.
- Items carrying an `id` are yielded once per walk, even when a restart (or a
  collection shifting under the cursor) serves them again. Items without an
  `id` cannot be recognised and are yielded again after a restart; a caller
  that needs them exactly once must key them itself. A restart cannot take back
  items already yielded that have since left the collection.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from pixy_whatsapp.graph.exceptions import GraphApiError, GraphUnreadableResponseError

INVALID_CURSOR_CODE = 131059
DEFAULT_MAX_RESTARTS = 2

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PageRequest:
    url: str
    params: tuple[tuple[str, str], ...]
    # True when the request carries a position taken from an earlier page.
    continues: bool = False


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    paging: dict[str, Any] | None
    http_status: int
    latency_ms: float

    @classmethod
    def from_answer(cls, answer: dict[str, Any], *, http_status: int, latency_ms: float) -> Page:
        """Read `{"data": [...], "paging": {...}}`; raises ValueError on another shape."""
        data = answer.get("data")
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise ValueError("'data' is not a list of objects")
        paging = answer.get("paging")
        return cls(
            items=data,
            paging=paging if isinstance(paging, dict) else None,
            http_status=http_status,
            latency_ms=latency_ms,
        )


FetchPage = Callable[[PageRequest], Awaitable[Page]]


async def walk(
    first: PageRequest,
    fetch: FetchPage,
    *,
    origin: httpx.URL,
    operation: str,
    max_restarts: int = DEFAULT_MAX_RESTARTS,
) -> AsyncGenerator[dict[str, Any], None]:
    """Yield every item of the collection whose first page `first` asks for."""
    seen_ids: set[str] = set()
    restarts = 0
    request = first
    while True:
        try:
            page = await fetch(request)
        except GraphApiError as exc:
            if exc.code != INVALID_CURSOR_CODE or not request.continues:
                raise
            if restarts >= max_restarts:
                raise
            restarts += 1
            _log.info(
                "%s: cursor rejected (code %s), restarting from the first page (%d/%d)",
                operation,
                exc.code,
                restarts,
                max_restarts,
            )
            request = first
            continue
        for item in page.items:
            item_id = item.get("id")
            if isinstance(item_id, str):
                if item_id in seen_ids:
                    continue
                seen_ids.add(item_id)
            yield item
        following = next_request(page, first=first, origin=origin, operation=operation)
        if following is None:
            return
        if following == request:
            raise GraphUnreadableResponseError(
                "paging does not advance",
                operation=operation,
                http_status=page.http_status,
                latency_ms=page.latency_ms,
            )
        request = following


def next_request(
    page: Page, *, first: PageRequest, origin: httpx.URL, operation: str
) -> PageRequest | None:
    """The request for the page after `page`, or None when `page` is the last."""
    paging = page.paging
    if paging is None or not paging.get("next"):
        return None
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, dict) else None
    if isinstance(after, str) and after:
        params = tuple((key, value) for key, value in first.params if key != "after")
        return PageRequest(first.url, (*params, ("after", after)), continues=True)
    next_link = paging["next"]
    if isinstance(next_link, str):
        url = httpx.URL(next_link)
        if (url.scheme, url.host, url.port) == (origin.scheme, origin.host, origin.port):
            params = tuple(
                (key, value) for key, value in url.params.multi_items() if key != "access_token"
            )
            return PageRequest(str(url.copy_with(query=None)), params, continues=True)
    raise GraphUnreadableResponseError(
        "paging.next does not point at the configured Graph API origin",
        operation=operation,
        http_status=page.http_status,
        latency_ms=page.latency_ms,
    )
