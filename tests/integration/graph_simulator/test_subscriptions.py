"""GET/POST/DELETE /{version}/{waba_id}/subscribed_apps, and drift behind the client's back."""

from __future__ import annotations

from collections.abc import Callable

from infra.local.graph_simulator import GraphSimulator, SimulatorConfig
from tests.integration.graph_simulator.scenario import (
    TOKEN_A,
    WABA_A,
    WABA_B,
    base_config,
    graph_client,
)

StartSim = Callable[[SimulatorConfig], GraphSimulator]
OVERRIDE = "https://hooks.example.test/whatsapp"


def test_subscribing_listing_and_unsubscribing(start_sim: StartSim) -> None:
    sim = start_sim(base_config(subscribed_at_start=False, app_id="555", app_name="pixy"))
    path = f"/{WABA_A}/subscribed_apps"
    with graph_client(sim) as client:
        empty = client.get(path).json()
        subscribed = client.post(path).json()
        listed = client.get(path).json()
        overridden = client.post(
            path, json={"override_callback_uri": OVERRIDE, "verify_token": "vt-1"}
        ).json()
        listed_with_override = client.get(path).json()
        cleared = client.post(path).json()
        listed_without_override = client.get(path).json()
        deleted = client.delete(path).json()
        after_delete = client.get(path).json()

    assert empty == {"data": []}
    assert subscribed == overridden == cleared == deleted == {"success": True}
    app = {"id": "555", "name": "pixy", "link": sim.config.app_link}
    assert listed == {"data": [{"whatsapp_business_api_data": app}]}
    assert listed_with_override == {
        "data": [{"whatsapp_business_api_data": app, "override_callback_uri": OVERRIDE}]
    }
    assert listed_without_override == listed
    assert after_delete == {"data": []}


def test_override_parameters_may_come_as_a_form_or_query(start_sim: StartSim) -> None:
    sim = start_sim(base_config())
    path = f"/{WABA_A}/subscribed_apps"
    with graph_client(sim) as client:
        client.post(path, data={"override_callback_uri": OVERRIDE, "verify_token": "vt"})
        form = client.get(path).json()["data"][0]["override_callback_uri"]
        client.post(path, params={"override_callback_uri": OVERRIDE + "/2", "verify_token": "vt"})
        query = client.get(path).json()["data"][0]["override_callback_uri"]
        alone = client.post(path, json={"override_callback_uri": OVERRIDE})

    assert (form, query) == (OVERRIDE, OVERRIDE + "/2")
    assert alone.status_code == 400
    assert alone.json()["error"]["code"] == 100


def test_a_dropped_subscription_shows_as_drift(start_sim: StartSim) -> None:
    sim = start_sim(base_config())
    with graph_client(sim) as client:
        before = client.get(f"/{WABA_A}/subscribed_apps").json()
        assert sim.drop_subscription(WABA_A)
        after = client.get(f"/{WABA_A}/subscribed_apps").json()
        dropped_by_admin = client.post(
            f"{sim.base_url}/_sim/drop-subscription", json={"waba_id": WABA_A}
        ).json()

    assert len(before["data"]) == 1
    assert after == {"data": []}
    assert dropped_by_admin == {"success": False}


def test_subscribed_apps_checks_the_token_and_the_waba(start_sim: StartSim) -> None:
    sim = start_sim(base_config())
    with graph_client(sim, token=TOKEN_A) as client:
        foreign = client.get(f"/{WABA_B}/subscribed_apps")
        sim.revoke_token(TOKEN_A)
        revoked = client.post(f"/{WABA_A}/subscribed_apps")

    assert foreign.status_code == 400
    assert foreign.json()["error"]["error_subcode"] == 33
    assert revoked.status_code == 401
    assert revoked.json()["error"]["code"] == 190
    assert sim.state()["subscriptions"][WABA_A] == {"override_callback_uri": None}
