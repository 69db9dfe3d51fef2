"""POST /{version}/{phone_number_id}/messages: acceptance, validation, records."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from infra.local.graph_simulator import FixedLatency, GraphSimulator, SimulatorConfig
from tests.integration.graph_simulator.scenario import (
    NUMBER_A,
    NUMBER_B,
    TOKEN_A,
    WABA_A,
    base_config,
    graph_client,
    text_message,
)

StartSim = Callable[[SimulatorConfig], GraphSimulator]


def test_a_valid_send_gets_a_wamid_and_is_recorded(start_sim: StartSim) -> None:
    sim = start_sim(base_config())
    with graph_client(sim) as client:
        first = client.post(f"/{NUMBER_A}/messages", json=text_message(callback="req-1"))
        second = client.post(f"/{NUMBER_A}/messages", json=text_message(callback="req-2"))

    assert first.status_code == 200
    answer = first.json()
    assert answer["messaging_product"] == "whatsapp"
    assert answer["contacts"] == [{"input": "+16505551234", "wa_id": "16505551234"}]
    wamid = answer["messages"][0]["id"]
    assert wamid.startswith("wamid.")
    assert second.json()["messages"][0]["id"] != wamid

    recorded = sim.accepted
    assert recorded[0].wamid == wamid
    assert recorded[0].phone_number_id == NUMBER_A
    assert recorded[0].waba_id == WABA_A
    assert recorded[0].recipient == "+16505551234"
    assert recorded[0].biz_opaque_callback_data == "req-1"
    assert recorded[0].body["text"] == {"body": "hello"}
    assert sim.accepted_by_callback_data() == {"req-1": 1, "req-2": 1}
    assert sim.duplicates_by_callback_data() == {}


def test_the_same_callback_data_accepted_twice_is_a_duplicate(start_sim: StartSim) -> None:
    sim = start_sim(base_config())
    with graph_client(sim) as client:
        for callback in ("req-1", "req-2", "req-1"):
            client.post(f"/{NUMBER_A}/messages", json=text_message(callback=callback))

    assert len(sim.accepted) == 3
    assert sim.duplicates_by_callback_data() == {"req-1": 2}


def test_an_invalid_body_answers_code_100_naming_the_path(start_sim: StartSim) -> None:
    sim = start_sim(base_config())
    body = text_message()
    del body["text"]
    with graph_client(sim) as client:
        response = client.post(f"/{NUMBER_A}/messages", json=body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 100
    assert error["type"] == "OAuthException"
    assert error["message"].startswith("(#100)")
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert "text" in error["error_data"]["details"]
    assert error["fbtrace_id"]
    assert sim.accepted == []
    assert sim.rejections == {100: 1}


def test_a_body_that_is_not_json_is_refused_with_code_100(start_sim: StartSim) -> None:
    sim = start_sim(base_config())
    with graph_client(sim) as client:
        response = client.post(f"/{NUMBER_A}/messages", content=b"not json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100


def test_mark_as_read_answers_success(start_sim: StartSim) -> None:
    sim = start_sim(base_config())
    body = {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.inbound-1",
        "typing_indicator": {"type": "text"},
    }
    with graph_client(sim) as client:
        response = client.post(f"/{NUMBER_A}/messages", json=body)

    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert sim.accepted == []
    [receipt] = sim.read_receipts
    assert receipt.message_id == "wamid.inbound-1"
    assert receipt.typing_indicator


def test_a_token_sees_only_its_own_numbers(start_sim: StartSim) -> None:
    sim = start_sim(base_config())
    with graph_client(sim, token=TOKEN_A) as client:
        foreign = client.post(f"/{NUMBER_B}/messages", json=text_message())
        unknown = client.post("/9999/messages", json=text_message())
    with graph_client(sim, token="never-issued") as client:
        bad_token = client.post(f"/{NUMBER_A}/messages", json=text_message())

    for response in (foreign, unknown):
        assert response.status_code == 400
        error = response.json()["error"]
        assert (error["code"], error["error_subcode"]) == (100, 33)
    assert bad_token.status_code == 401
    assert bad_token.json()["error"]["code"] == 190
    assert sim.accepted == []


def test_accept_any_token_mode_and_a_default_waba(start_sim: StartSim) -> None:
    sim = start_sim(SimulatorConfig(accept_any_token=True, default_waba_id="3001"))
    with graph_client(sim, token="anything") as client:
        response = client.post("/4242/messages", json=text_message())

    assert response.status_code == 200
    assert sim.accepted[0].waba_id == "3001"


def test_a_missing_token_is_refused_even_in_accept_any_mode(start_sim: StartSim) -> None:
    sim = start_sim(SimulatorConfig(accept_any_token=True, default_waba_id="3001"))
    response = httpx.post(f"{sim.graph_url}/4242/messages", json=text_message(), trust_env=False)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == 190


def test_latency_delays_the_answer(start_sim: StartSim) -> None:
    sim = start_sim(base_config(latency=FixedLatency(seconds=0.2)))
    with graph_client(sim) as client:
        started = time.perf_counter()
        response = client.post(f"/{NUMBER_A}/messages", json=text_message())
        elapsed = time.perf_counter() - started

    assert response.status_code == 200
    assert 0.2 <= elapsed < 2.0


def test_unknown_paths_and_versions_get_a_graph_error(start_sim: StartSim) -> None:
    sim = start_sim(base_config())
    with graph_client(sim) as client:
        no_version = client.post(f"{sim.base_url}/latest/{NUMBER_A}/messages", json=text_message())
        elsewhere = client.get(f"/{NUMBER_A}/media")

    for response in (no_version, elsewhere):
        assert response.status_code == 400
        assert response.json()["error"]["code"] == 2500


def test_admin_state_counts_what_happened(start_sim: StartSim) -> None:
    sim = start_sim(base_config())
    with graph_client(sim) as client:
        client.post(f"/{NUMBER_A}/messages", json=text_message(callback="req-1"))
        client.post(f"/{NUMBER_A}/messages", json=text_message(callback="req-1"))
        client.post(f"/{NUMBER_A}/messages", json={"messaging_product": "whatsapp"})
        state = client.get(f"{sim.base_url}/_sim/state").json()
        everything = client.get(f"{sim.base_url}/_sim/accepted").json()

    assert state["accepted_total"] == 2
    assert state["duplicates_by_callback_data"] == {"req-1": 2}
    assert state["rejections"] == {"100": 1}
    assert state["subscriptions"] == {
        "2001": {"override_callback_uri": None},
        "2002": {"override_callback_uri": None},
    }
    assert [item["biz_opaque_callback_data"] for item in everything] == ["req-1", "req-1"]
