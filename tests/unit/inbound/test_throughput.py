"""What a phone number update says about the number's throughput."""

from __future__ import annotations

from typing import Any

import pytest
from pixy_whatsapp.inbound import throughput_mps

DEFAULT = 80.0


@pytest.mark.parametrize(
    ("value", "mps"),
    [
        ({"event": "THROUGHPUT_UPGRADE", "current_limit": "TIER_UNLIMITED"}, 1000.0),
        ({"throughput": {"level": "STANDARD"}}, DEFAULT),
        ({"throughput": {"level": "HIGH"}}, 1000.0),
        ({"throughput_level": "high"}, 1000.0),
        ({"throughput": {"level": "STANDARD", "mps": 250}}, 250.0),
        ({"mps": "500"}, 500.0),
        # Messaging-limit changes say nothing about throughput.
        ({"event": "UPGRADE", "old_limit": "TIER_2K", "current_limit": "TIER_10K"}, None),
        ({"event": "FLAGGED"}, None),
        # A level whose meaning Meta has not published is not guessed at.
        ({"throughput": {"level": "SOMETHING_NEW"}}, None),
        ({"mps": "lots"}, None),
        ({}, None),
    ],
)
def test_throughput_mps(value: dict[str, Any], mps: float | None) -> None:
    assert throughput_mps(value, DEFAULT) == mps
