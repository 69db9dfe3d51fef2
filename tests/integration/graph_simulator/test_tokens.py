"""Revoked tokens answer 190 until restored or until their revocation ends."""

from __future__ import annotations

import time
from collections.abc import Callable

from infra.local.graph_simulator import GraphSimulator, SimulatorConfig
from tests.integration.graph_simulator.scenario import (
    NUMBER_A,
    NUMBER_B,
    TOKEN_A,
    TOKEN_B,
    base_config,
    graph_client,
    text_message,
)

StartSim = Callable[[SimulatorConfig], GraphSimulator]


def test_a_revoked_token_answers_190_until_restored(start_sim: StartSim) -> None:
    sim = start_sim(base_config())
    with graph_client(sim) as client, graph_client(sim, token=TOKEN_B) as other:
        sim.revoke_token(TOKEN_A)
        revoked = client.post(f"/{NUMBER_A}/messages", json=text_message())
        untouched = other.post(f"/{NUMBER_B}/messages", json=text_message())
        sim.restore_token(TOKEN_A)
        restored = client.post(f"/{NUMBER_A}/messages", json=text_message())

    assert revoked.status_code == 401
    error = revoked.json()["error"]
    assert error["code"] == 190
    assert error["type"] == "OAuthException"
    assert "WWW-Authenticate" in revoked.headers
    assert untouched.status_code == 200
    assert restored.status_code == 200
    assert sim.rejections == {190: 1}


def test_a_revocation_for_a_period_ends_by_itself(start_sim: StartSim) -> None:
    sim = start_sim(base_config())
    with graph_client(sim) as client:
        admin = client.post(
            f"{sim.base_url}/_sim/revoke-token", json={"token": TOKEN_A, "seconds": 1.0}
        )
        during = client.post(f"/{NUMBER_A}/messages", json=text_message())
        time.sleep(1.05)
        after = client.post(f"/{NUMBER_A}/messages", json=text_message())

    assert admin.json() == {"success": True}
    assert during.json()["error"]["code"] == 190
    assert after.status_code == 200


def test_the_admin_endpoint_restores_a_token(start_sim: StartSim) -> None:
    sim = start_sim(base_config())
    with graph_client(sim) as client:
        client.post(f"{sim.base_url}/_sim/revoke-token", json={"token": TOKEN_A})
        assert client.post(f"/{NUMBER_A}/messages", json=text_message()).status_code == 401
        client.post(f"{sim.base_url}/_sim/restore-token", json={"token": TOKEN_A})
        assert client.post(f"/{NUMBER_A}/messages", json=text_message()).status_code == 200
