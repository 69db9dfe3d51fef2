"""Injected faults, as an HTTP client sees them, before and after acceptance."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from infra.local.graph_simulator import (
    FaultKind,
    FaultPhase,
    FaultRule,
    FixedLatency,
    GraphSimulator,
    PairLimit,
    SimulatorConfig,
    TimeWindow,
    WebhookSettings,
    parse_fault,
)
from tests.integration.graph_simulator.scenario import (
    NUMBER_A,
    NUMBER_B,
    TOKEN_B,
    base_config,
    graph_client,
    text_message,
)
from tests.integration.graph_simulator.webhook_receiver import WebhookReceiver

StartSim = Callable[[SimulatorConfig], GraphSimulator]
BEFORE, AFTER = FaultPhase.BEFORE_ACCEPT, FaultPhase.AFTER_ACCEPT
QUICK_STATUSES = WebhookSettings(delivered_probability=0.0, sent_delay=FixedLatency(seconds=0))


def _config(*rules: FaultRule, webhook_url: str | None = None) -> SimulatorConfig:
    return base_config(
        faults=rules,
        pair_limit=PairLimit(enabled=False),
        webhooks=QUICK_STATUSES.model_copy(update={"url": webhook_url}),
    )


@pytest.mark.parametrize(
    ("kind", "http_status", "code"),
    [
        (FaultKind.SERVER_ERROR, 500, 131000),
        (FaultKind.TOKEN_REVOKED, 401, 190),
        (FaultKind.UNDELIVERABLE, 400, 131026),
        (FaultKind.POLICY_BLOCK, 403, 368),
    ],
)
def test_an_error_fault_before_acceptance_refuses_the_send(
    start_sim: StartSim, kind: FaultKind, http_status: int, code: int
) -> None:
    sim = start_sim(_config(FaultRule(kind=kind, max_count=1)))
    with graph_client(sim) as client:
        faulted = client.post(f"/{NUMBER_A}/messages", json=text_message())
        next_one = client.post(f"/{NUMBER_A}/messages", json=text_message())

    assert faulted.status_code == http_status
    assert faulted.json()["error"]["code"] == code
    assert next_one.status_code == 200
    assert len(sim.accepted) == 1
    assert sim.fault_counts == {kind.value: 1}


def test_a_timeout_before_acceptance_leaves_nothing_sent(start_sim: StartSim) -> None:
    sim = start_sim(_config(FaultRule(kind=FaultKind.TIMEOUT, hold_seconds=5, max_count=1)))
    with graph_client(sim, timeout=0.3) as client:
        started = time.perf_counter()
        with pytest.raises(httpx.ReadTimeout):
            client.post(f"/{NUMBER_A}/messages", json=text_message())
        # Well short of the 5 s hold: the client gave up on its own read timeout.
        assert time.perf_counter() - started < 3.0

    assert sim.accepted == []
    assert sim.fault_counts == {"timeout": 1}


def test_a_timeout_after_acceptance_is_an_ambiguous_send(
    start_sim: StartSim, receiver: WebhookReceiver
) -> None:
    rule = FaultRule(kind=FaultKind.TIMEOUT, phase=AFTER, hold_seconds=5, max_count=1)
    sim = start_sim(_config(rule, webhook_url=receiver.url))
    with graph_client(sim, timeout=0.3) as client, pytest.raises(httpx.ReadTimeout):
        client.post(f"/{NUMBER_A}/messages", json=text_message(callback="req-1"))

    [message] = sim.accepted
    assert message.fault is FaultKind.TIMEOUT
    [status] = receiver.wait_for_statuses(1)
    assert (status["id"], status["status"]) == (message.wamid, "sent")
    assert status["biz_opaque_callback_data"] == "req-1"


def test_a_reset_before_acceptance_gives_a_connection_error(start_sim: StartSim) -> None:
    sim = start_sim(_config(FaultRule(kind=FaultKind.CONNECTION_RESET, max_count=1)))
    with graph_client(sim) as client:
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            client.post(f"/{NUMBER_A}/messages", json=text_message())
        # The client recovers on a new connection.
        assert client.post(f"/{NUMBER_A}/messages", json=text_message()).status_code == 200

    assert len(sim.accepted) == 1
    assert sim.accepted[0].fault is None
    assert sim.fault_counts == {"connection_reset": 1}


def test_a_reset_after_acceptance_still_sends_status_webhooks(
    start_sim: StartSim, receiver: WebhookReceiver
) -> None:
    rule = FaultRule(kind=FaultKind.CONNECTION_RESET, phase=AFTER, max_count=1)
    sim = start_sim(_config(rule, webhook_url=receiver.url))
    with graph_client(sim) as client, pytest.raises(httpx.TransportError):
        client.post(f"/{NUMBER_A}/messages", json=text_message(callback="req-9"))

    [message] = sim.accepted
    assert message.fault is FaultKind.CONNECTION_RESET
    [status] = receiver.wait_for_statuses(1)
    assert status["id"] == message.wamid


def test_a_server_error_after_acceptance_hides_an_accepted_message(
    start_sim: StartSim,
) -> None:
    rule = FaultRule(kind=FaultKind.SERVER_ERROR, phase=AFTER, max_count=1)
    sim = start_sim(_config(rule))
    with graph_client(sim) as client:
        response = client.post(f"/{NUMBER_A}/messages", json=text_message())

    assert response.status_code == 500
    assert response.json()["error"]["code"] == 131000
    assert [message.fault for message in sim.accepted] == [FaultKind.SERVER_ERROR]


def test_undeliverable_after_acceptance_arrives_as_a_failed_status(
    start_sim: StartSim, receiver: WebhookReceiver
) -> None:
    rule = FaultRule(kind=FaultKind.UNDELIVERABLE, phase=AFTER, max_count=1)
    sim = start_sim(_config(rule, webhook_url=receiver.url))
    with graph_client(sim) as client:
        response = client.post(f"/{NUMBER_A}/messages", json=text_message(callback="req-3"))

    assert response.status_code == 200
    [status] = receiver.wait_for_statuses(1)
    assert status["status"] == "failed"
    assert status["id"] == response.json()["messages"][0]["id"]
    assert status["biz_opaque_callback_data"] == "req-3"
    [error] = status["errors"]
    assert error["code"] == 131026
    assert error["title"] == error["message"]
    assert error["error_data"]["details"]


def test_rate_based_faults_are_seeded(start_sim: StartSim) -> None:
    def outcomes() -> list[int]:
        sim = start_sim(_config(FaultRule(kind=FaultKind.SERVER_ERROR, rate=0.3)))
        with graph_client(sim) as client:
            codes = [
                client.post(
                    f"/{NUMBER_A}/messages", json=text_message(to=f"+1650{i:07d}")
                ).status_code
                for i in range(60)
            ]
        assert sim.fault_counts.get("server_error", 0) == codes.count(500)
        assert len(sim.accepted) == codes.count(200)
        return codes

    first, second = outcomes(), outcomes()
    assert first == second
    assert 6 <= first.count(500) <= 30


def test_scheduled_faults_happen_only_inside_their_window(start_sim: StartSim) -> None:
    sim = start_sim(_config())
    window = TimeWindow(start=0.3, end=1.2)
    with graph_client(sim) as client:
        armed = time.monotonic()
        sim.update_config(faults=[FaultRule(kind=FaultKind.POLICY_BLOCK, windows=(window,))])

        def send_at(offset: float) -> httpx.Response:
            time.sleep(max(0.0, armed + offset - time.monotonic()))
            return client.post(f"/{NUMBER_A}/messages", json=text_message())

        before, during, after = send_at(0.0), send_at(0.6), send_at(1.3)

    assert [before.status_code, during.status_code, after.status_code] == [200, 403, 200]
    assert during.json()["error"]["code"] == 368


def test_faults_can_target_one_number(start_sim: StartSim) -> None:
    rule = FaultRule(kind=FaultKind.SERVER_ERROR, phone_number_ids=(NUMBER_B,))
    sim = start_sim(_config(rule))
    with graph_client(sim) as client, graph_client(sim, token=TOKEN_B) as client_b:
        on_a = client.post(f"/{NUMBER_A}/messages", json=text_message())
        on_b = client_b.post(f"/{NUMBER_B}/messages", json=text_message())

    assert (on_a.status_code, on_b.status_code) == (200, 500)


def test_faults_change_at_run_time_through_the_admin_endpoint(start_sim: StartSim) -> None:
    sim = start_sim(_config())
    with graph_client(sim) as client:
        assert client.post(f"/{NUMBER_A}/messages", json=text_message()).status_code == 200
        changed = client.post(
            f"{sim.base_url}/_sim/config",
            json={"faults": [{"kind": "server_error", "max_count": 2}]},
        )
        codes = [
            client.post(f"/{NUMBER_A}/messages", json=text_message()).status_code for _ in range(3)
        ]
        refused = client.post(f"{sim.base_url}/_sim/config", json={"faults": [{"kind": "nope"}]})

    assert changed.status_code == 200
    assert changed.json()["faults"][0]["kind"] == "server_error"
    assert codes == [500, 500, 200]
    assert refused.status_code == 422


def test_fault_rules_read_from_their_short_form() -> None:
    rule = parse_fault("timeout:0.25:after_accept@1-3")
    assert (rule.kind, rule.rate, rule.phase) == (FaultKind.TIMEOUT, 0.25, AFTER)
    assert rule.windows == (TimeWindow(start=1, end=3),)
    assert parse_fault("server_error").phase is BEFORE
    with pytest.raises(ValueError, match="before_accept"):
        parse_fault("policy_block:1:after_accept")
