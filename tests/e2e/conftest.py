"""The local stack, started once per test module, for the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.local.stack.runner import LocalConfig, LocalStack


def start_stack(config: LocalConfig) -> Iterator[LocalStack]:
    """Start the whole local stack (moto server, simulator, HTTP API, pollers, schedule)."""
    stack = LocalStack(config)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Handlers that emit no metric in an invocation make Powertools warn; in Lambda that
    # goes to the log, here it would fill the test report.
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.filterwarnings("ignore:No application metrics"))
    # A slow run takes many minutes: only when a marker expression asks for it (`make
    # test-slow`, `make fault-run`), not whenever the e2e folder is run.
    if not config.getoption("markexpr", ""):
        skip = pytest.mark.skip(reason="slow: run with `-m slow` (make test-slow, make fault-run)")
        for item in items:
            if "/e2e/" in str(item.fspath) and item.get_closest_marker("slow") is not None:
                item.add_marker(skip)


@pytest.fixture(scope="module")
def quiet_stack() -> Iterator[LocalStack]:
    """A stack without faults, for the request-level checks."""
    yield from start_stack(
        LocalConfig(
            http_port=0,
            latency="uniform:0.005,0.02",
            # A WABA the simulator knows (by its token) but nobody onboarded yet.
            simulator_overrides={"tokens": {"token-new-waba": ("200000000000090",)}},
        )
    )
