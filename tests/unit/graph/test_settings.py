"""Client settings: defaults point at Meta, bad values fail at construction."""

from __future__ import annotations

import pytest
from pixy_whatsapp.graph import GraphClientSettings
from pydantic import ValidationError


def test_defaults_point_at_meta_with_http2() -> None:
    settings = GraphClientSettings()

    assert settings.base_url == "https://graph.facebook.com"
    assert settings.api_version == "v24.0"
    assert settings.http2 is True
    timeout = settings.timeouts.to_httpx()
    assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (3.0, 10.0, 5.0, 5.0)


@pytest.mark.parametrize(
    "overrides",
    [
        {"api_version": "24.0"},
        {"base_url": "graph.facebook.com"},
        {"base_url": "ftp://graph.facebook.com"},
        {"base_url": "https://graph.facebook.com/?x=1"},
        {"timeouts": {"read": 0}},
        {"limits": {"max_connections": 0}},
    ],
)
def test_bad_settings_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        GraphClientSettings.model_validate(overrides)
