"""Pointing pywa at the simulator, and the ceiling the comparison is read against."""

from __future__ import annotations

import httpx
import pytest

from benchmarks.vs_library import _retarget, ceiling_ratio, to_origin


def test_to_origin_keeps_path_and_query() -> None:
    url = httpx.URL("https://graph.facebook.com/v24.0/1001/messages?fields=id")
    moved = to_origin(url, httpx.URL("http://127.0.0.1:8123"))
    assert str(moved) == "http://127.0.0.1:8123/v24.0/1001/messages?fields=id"


def test_retarget_moves_the_request_and_its_host_header() -> None:
    request = httpx.Request(
        "POST",
        "https://graph.facebook.com/v24.0/1001/messages",
        headers={"Authorization": "Bearer t"},
        json={"to": "1555"},
    )
    _retarget(request, httpx.URL("http://127.0.0.1:8123"))
    assert str(request.url) == "http://127.0.0.1:8123/v24.0/1001/messages"
    assert request.headers["Host"] == "127.0.0.1:8123"
    assert request.headers["Authorization"] == "Bearer t"
    assert request.content == b'{"to":"1555"}'


@pytest.mark.parametrize("latency_s", [0.01, 0.1, 1.0])
def test_ceiling_ratio_is_the_batch_size(latency_s: float) -> None:
    assert ceiling_ratio(latency_s) == pytest.approx(10.0)
    assert ceiling_ratio(latency_s, batch=5) == pytest.approx(5.0)
