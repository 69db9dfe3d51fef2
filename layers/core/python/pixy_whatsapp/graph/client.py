"""The async client for the Graph API endpoints the backbone calls."""

from __future__ import annotations

import json
import logging
import re
import ssl
import time
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from typing import Any

import httpx
from pydantic import SecretStr, ValidationError

from pixy_whatsapp.graph.error_mapping import api_error, json_object, transport_error
from pixy_whatsapp.graph.exceptions import GraphApiError, GraphUnreadableResponseError
from pixy_whatsapp.graph.loop_clients import LoopBoundClients
from pixy_whatsapp.graph.pagination import DEFAULT_MAX_RESTARTS, Page, PageRequest, walk
from pixy_whatsapp.graph.redaction import install_log_redaction
from pixy_whatsapp.graph.results import SendResult, SubscribedApp
from pixy_whatsapp.graph.settings import GraphClientSettings

MAX_CALLBACK_DATA_CHARS = 512

# Graph node ids and edge names; anything else in a path is refused so that a
# caller's value can never redirect a call (and its token) to another path.
_PATH_SEGMENT = re.compile(r"^[A-Za-z0-9_.-]+$")
# Printable ASCII without spaces: what a bearer token may contain.
_TOKEN_CHARS = re.compile(r"^[\x21-\x7e]+$")

_log = logging.getLogger(__name__)


class GraphClient:
    """Calls the WhatsApp Cloud API on behalf of any number of WABAs.

    Every operation takes the WABA's access token as a `SecretStr`; the client
    stores none, and no repr, exception text or log record of its shows one.

    The client never retries. Each call either returns or raises exactly one
    of `GraphApiError` (Meta said no), `GraphNotSentError` (safe to send again)
    or `GraphAmbiguousError` (Meta may have acted): retrying is the caller's
    decision, made with Meta's error code in hand. A call cancelled by the
    caller (`asyncio.CancelledError`) is just as ambiguous as a read timeout.

    Create one instance per process and keep it in a module global. It holds
    one HTTP/2 connection pool per event loop (see `loop_clients`), so it works
    under a fresh `asyncio.run` per invocation; for connections that stay warm
    between invocations, run them all on one loop::

        GRAPH = GraphClient()
        RUNNER = asyncio.Runner()

        def handler(event, context):
            return RUNNER.run(process(event, GRAPH))
    """

    def __init__(
        self,
        settings: GraphClientSettings | None = None,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._settings = settings if settings is not None else GraphClientSettings()
        # Loading the CA bundle takes about 20 ms: done once, here,
        # rather than for every loop's connection pool.
        self._ssl_context = ssl_context if ssl_context is not None else httpx.create_ssl_context()
        self._origin = httpx.URL(self._settings.base_url)
        self._clients = LoopBoundClients(self._new_http_client)
        install_log_redaction()

    @property
    def settings(self) -> GraphClientSettings:
        return self._settings

    def __repr__(self) -> str:
        return (
            f"GraphClient(base_url={self._settings.base_url!r}, "
            f"api_version={self._settings.api_version!r})"
        )

    async def aclose(self) -> None:
        """Close the running loop's connections now (otherwise they close with the loop)."""
        await self._clients.aclose()

    async def __aenter__(self) -> GraphClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    # -- messages --------------------------------------------------------------

    async def send_message(
        self,
        phone_number_id: str,
        body: Mapping[str, Any],
        token: SecretStr,
        *,
        biz_opaque_callback_data: str | None = None,
    ) -> SendResult:
        """`POST /{phone_number_id}/messages`: Meta's acceptance of one message.

        `body` is the message object (`to`/`recipient`, `type`, ...); the client
        adds `messaging_product` and, when given, `biz_opaque_callback_data`
        (echoed by Meta in every status webhook of the message).
        """
        if biz_opaque_callback_data is not None and (
            len(biz_opaque_callback_data) > MAX_CALLBACK_DATA_CHARS
        ):
            raise ValueError(
                f"biz_opaque_callback_data is longer than {MAX_CALLBACK_DATA_CHARS} characters"
            )
        payload = {**body, "messaging_product": "whatsapp"}
        if biz_opaque_callback_data is not None:
            payload["biz_opaque_callback_data"] = biz_opaque_callback_data
        operation = "send_message"
        answer, status, latency_ms = await self._call(
            operation, "POST", self._url(phone_number_id, "messages"), token, json_body=payload
        )
        try:
            return SendResult.from_answer(answer, latency_ms=latency_ms)
        except (ValueError, ValidationError):
            raise GraphUnreadableResponseError(
                "no message id in the send answer",
                operation=operation,
                http_status=status,
                latency_ms=latency_ms,
            ) from None

    async def mark_as_read(
        self,
        phone_number_id: str,
        message_id: str,
        token: SecretStr,
        *,
        typing_indicator: bool = False,
    ) -> bool:
        """Mark an inbound message (and the thread before it) read; optionally show "typing"."""
        payload: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": message_id,
        }
        if typing_indicator:
            payload["typing_indicator"] = {"type": "text"}
        return await self._success_call(
            "mark_as_read", "POST", self._url(phone_number_id, "messages"), token, payload
        )

    # -- webhook subscriptions -------------------------------------------------

    async def subscribe_app(
        self,
        waba_id: str,
        token: SecretStr,
        *,
        override_callback_uri: str | None = None,
        verify_token: SecretStr | str | None = None,
    ) -> bool:
        """`POST /{waba_id}/subscribed_apps`: subscribe this app to the WABA's webhooks.

        With `override_callback_uri` (and its `verify_token`) the WABA's webhooks
        go to that URL; without, any earlier override is removed.
        """
        if (override_callback_uri is None) != (verify_token is None):
            raise ValueError("override_callback_uri and verify_token go together")
        payload: dict[str, Any] | None = None
        if override_callback_uri is not None and verify_token is not None:
            secret = (
                verify_token.get_secret_value()
                if isinstance(verify_token, SecretStr)
                else verify_token
            )
            payload = {"override_callback_uri": override_callback_uri, "verify_token": secret}
        return await self._success_call(
            "subscribe_app", "POST", self._url(waba_id, "subscribed_apps"), token, payload
        )

    async def list_subscribed_apps(self, waba_id: str, token: SecretStr) -> list[SubscribedApp]:
        """`GET /{waba_id}/subscribed_apps`; an empty list means no app gets its webhooks."""
        operation = "list_subscribed_apps"
        apps: list[SubscribedApp] = []
        items = self._walk(f"{waba_id}/subscribed_apps", token, None, operation=operation)
        async with aclosing(items):
            async for item in items:
                try:
                    apps.append(SubscribedApp.model_validate(item))
                except ValidationError:
                    raise GraphUnreadableResponseError(
                        "a subscribed app entry has an unexpected shape",
                        operation=operation,
                        http_status=200,
                        latency_ms=None,
                    ) from None
        return apps

    async def unsubscribe_app(self, waba_id: str, token: SecretStr) -> bool:
        """`DELETE /{waba_id}/subscribed_apps`: webhooks for the WABA stop at once."""
        return await self._success_call(
            "unsubscribe_app", "DELETE", self._url(waba_id, "subscribed_apps"), token, None
        )

    # -- collections -----------------------------------------------------------

    async def paginate(
        self,
        path: str,
        token: SecretStr,
        params: Mapping[str, str | int] | None = None,
        *,
        max_restarts: int = DEFAULT_MAX_RESTARTS,
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Yield every item of the collection at `GET /{version}/{path}`.

        Follows `paging.cursors.after` (or `paging.next`) until `paging.next`
        is gone; on an expired cursor (code 131059) it starts over, at most
        `max_restarts` times, skipping items whose `id` it already yielded.
        Items without an `id` may come twice after a restart. The full rules
        are in `pixy_whatsapp.graph.pagination`.
        """
        operation = f"GET {path.strip('/')}"
        # Closing the inner walk when our caller stops early, not at garbage collection.
        items = self._walk(path, token, params, operation=operation, max_restarts=max_restarts)
        async with aclosing(items):
            async for item in items:
                yield item

    # -- plumbing --------------------------------------------------------------

    async def _walk(
        self,
        path: str,
        token: SecretStr,
        params: Mapping[str, str | int] | None,
        *,
        operation: str,
        max_restarts: int = DEFAULT_MAX_RESTARTS,
    ) -> AsyncGenerator[dict[str, Any], None]:
        first = PageRequest(
            self._url(*path.strip("/").split("/")),
            tuple((key, str(value)) for key, value in (params or {}).items()),
        )

        async def fetch(request: PageRequest) -> Page:
            answer, status, latency_ms = await self._call(
                operation, "GET", request.url, token, params=request.params
            )
            try:
                return Page.from_answer(answer, http_status=status, latency_ms=latency_ms)
            except ValueError as exc:
                raise GraphUnreadableResponseError(
                    str(exc), operation=operation, http_status=status, latency_ms=latency_ms
                ) from None

        items = walk(
            first, fetch, origin=self._origin, operation=operation, max_restarts=max_restarts
        )
        async with aclosing(items):
            async for item in items:
                yield item

    def _new_http_client(self) -> httpx.AsyncClient:
        settings = self._settings
        return httpx.AsyncClient(
            http2=settings.http2,
            verify=self._ssl_context,
            timeout=settings.timeouts.to_httpx(),
            limits=settings.limits.to_httpx(),
            headers={"User-Agent": settings.user_agent, "Accept": "application/json"},
            follow_redirects=False,
        )

    def _url(self, *segments: str) -> str:
        for segment in segments:
            if not _PATH_SEGMENT.match(segment) or segment in (".", ".."):
                raise ValueError(f"not a Graph path segment: {segment!r}")
        return "/".join((self._settings.base_url, self._settings.api_version, *segments))

    async def _success_call(
        self,
        operation: str,
        method: str,
        url: str,
        token: SecretStr,
        payload: dict[str, Any] | None,
    ) -> bool:
        answer, status, latency_ms = await self._call(
            operation, method, url, token, json_body=payload
        )
        success = answer.get("success")
        if not isinstance(success, bool):
            raise GraphUnreadableResponseError(
                "no 'success' flag in the answer",
                operation=operation,
                http_status=status,
                latency_ms=latency_ms,
            )
        return success

    async def _call(
        self,
        operation: str,
        method: str,
        url: str,
        token: SecretStr,
        *,
        json_body: dict[str, Any] | None = None,
        params: tuple[tuple[str, str], ...] = (),
    ) -> tuple[dict[str, Any], int, float]:
        """One request; returns the JSON object answered, the HTTP status and the latency."""
        secret = _bearer_secret(token)
        headers = {"Authorization": f"Bearer {secret}"}
        content: bytes | None = None
        if json_body is not None:
            content = json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        http = self._clients.current()
        started = time.perf_counter()
        try:
            response = await http.request(
                method, url, params=params, content=content, headers=headers
            )
        except httpx.HTTPError as exc:
            latency_ms = _elapsed_ms(started)
            error = transport_error(exc, operation=operation, latency_ms=latency_ms, secret=secret)
            _log.debug("%s %s failed after %.1f ms: %s", method, url, latency_ms, error)
            # httpx texts can quote request headers; never chain one that holds the token.
            raise error from (None if secret in str(exc) else exc)
        latency_ms = _elapsed_ms(started)
        status = response.status_code
        answer = json_object(response.content)
        _log.debug(
            "%s %s -> %s %s in %.1f ms",
            method,
            response.url.copy_with(query=None),
            response.http_version,
            status,
            latency_ms,
        )
        if not 200 <= status < 300 or (
            answer is not None and isinstance(answer.get("error"), dict)
        ):
            error_from_meta: GraphApiError = api_error(
                operation=operation,
                http_status=status,
                content=response.content,
                headers=response.headers,
                latency_ms=latency_ms,
                secret=secret,
            )
            raise error_from_meta
        if answer is None:
            raise GraphUnreadableResponseError(
                "the body is not a JSON object",
                operation=operation,
                http_status=status,
                latency_ms=latency_ms,
            )
        return answer, status, latency_ms


def _bearer_secret(token: SecretStr) -> str:
    # A plain str would work too, until the day it lands in a log line.
    if not isinstance(token, SecretStr):
        raise TypeError("the access token must be a pydantic SecretStr")
    secret = token.get_secret_value()
    if not _TOKEN_CHARS.match(secret):
        raise ValueError("the access token is empty or holds characters a header cannot carry")
    return secret


def _elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
