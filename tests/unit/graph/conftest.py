"""Servers and clients for the Graph client tests: everything on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import trustme
from pixy_whatsapp.graph import GraphClient, GraphClientSettings, GraphTimeouts

from tests.unit.graph.scripted_graph import (
    RawFaultServer,
    RunningServer,
    ScriptedGraph,
    serve_in_thread,
)

TOKEN_VALUE = "EAAG-test-token-0123456789abcdef"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def _h2_server(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with serve_in_thread(
        ScriptedGraph(), ca=ca, workdir=tmp_path_factory.mktemp("h2"), tls=True
    ) as server:
        yield server


@pytest.fixture(scope="session")
def _h1_server(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with serve_in_thread(
        ScriptedGraph(), ca=ca, workdir=tmp_path_factory.mktemp("h1"), tls=False
    ) as server:
        yield server


@pytest.fixture
def h2_server(_h2_server: RunningServer) -> RunningServer:
    """TLS server offering h2 through ALPN; script its answers with `.app`."""
    _h2_server.app.reset()
    return _h2_server


@pytest.fixture
def h1_server(_h1_server: RunningServer) -> RunningServer:
    """Plain-HTTP (HTTP/1.1) server; script its answers with `.app`."""
    _h1_server.app.reset()
    return _h1_server


@pytest.fixture
def reset_server() -> Iterator[RawFaultServer]:
    server = RawFaultServer(reset=True)
    yield server
    server.close()


@pytest.fixture
def hangup_server() -> Iterator[RawFaultServer]:
    server = RawFaultServer(reset=False)
    yield server
    server.close()


MakeClient = Callable[..., GraphClient]


@pytest.fixture
def make_client() -> MakeClient:
    """Build a client for a server; keyword arguments override settings or timeouts."""

    def build(server: RunningServer | str, **overrides: Any) -> GraphClient:
        base_url = server if isinstance(server, str) else server.base_url
        ssl_context = None if isinstance(server, str) else server.client_ssl
        timeouts = {
            k: overrides.pop(k) for k in ("connect", "read", "write", "pool") if k in overrides
        }
        settings = GraphClientSettings(
            base_url=base_url, timeouts=GraphTimeouts(**timeouts), **overrides
        )
        return GraphClient(settings, ssl_context=ssl_context)

    return build
