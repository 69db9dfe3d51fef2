"""The simulator's settings: JSON loading, short forms, latency draws."""

from __future__ import annotations

import random
import statistics

import pytest
from pydantic import ValidationError

from infra.local.graph_simulator import (
    FaultKind,
    FixedLatency,
    LognormalLatency,
    SimulatorConfig,
    UniformLatency,
    parse_latency,
)
from infra.local.graph_simulator.latency import draw_seconds


def test_settings_load_from_json() -> None:
    config = SimulatorConfig.model_validate_json(
        """{
            "phone_numbers": {"1001": {"waba_id": "2001", "mps": 250}},
            "tokens": {"t": ["2001"]},
            "latency": {"kind": "lognormal", "median": 0.12, "sigma": 0.4},
            "faults": [{"kind": "undeliverable", "rate": 0.1, "phase": "after_accept"}],
            "webhooks": {"url": "http://127.0.0.1:9000/webhook", "duplicate_rate": 0.05}
        }"""
    )

    assert config.mps_of("1001") == 250
    assert config.mps_of("1002") == 80
    assert config.waba_of("1001") == "2001"
    assert config.waba_of("1002") is None
    assert config.latency == LognormalLatency(median=0.12, sigma=0.4)
    assert config.faults[0].kind is FaultKind.UNDELIVERABLE
    assert config.webhooks.duplicate_rate == 0.05


@pytest.mark.parametrize(
    "settings",
    [
        {"latency": {"kind": "uniform", "low": 0.5, "high": 0.1}},
        {"faults": [{"kind": "token_revoked", "phase": "after_accept"}]},
        {"faults": [{"kind": "server_error", "windows": [{"start": 2, "end": 1}]}]},
        {"tls_certfile": "cert.pem"},
        {"unknown_setting": True},
    ],
)
def test_inconsistent_settings_are_refused(settings: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SimulatorConfig.model_validate(settings)


def test_latencies_read_from_their_short_form() -> None:
    assert parse_latency("0.05") == FixedLatency(seconds=0.05)
    assert parse_latency("uniform:0.01,0.2") == UniformLatency(low=0.01, high=0.2)
    assert parse_latency("lognormal:0.12") == LognormalLatency(median=0.12)
    with pytest.raises(ValueError, match="not a latency"):
        parse_latency("gaussian:1")


def test_latency_draws_follow_their_distribution_and_seed() -> None:
    lognormal = LognormalLatency(median=0.1, sigma=0.5, cap=1.0)
    draws = [draw_seconds(lognormal, random.Random(3)) for _ in range(3)]
    assert len(set(draws)) == 1  # same seed, same draw

    rng = random.Random(11)
    sample = [draw_seconds(lognormal, rng) for _ in range(4000)]
    assert statistics.median(sample) == pytest.approx(0.1, rel=0.1)
    assert max(sample) <= 1.0

    uniform = [draw_seconds(UniformLatency(low=0.2, high=0.3), rng) for _ in range(500)]
    assert min(uniform) >= 0.2
    assert max(uniform) <= 0.3
