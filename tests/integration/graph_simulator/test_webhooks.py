"""Signed status webhooks: shape, signature, duplicates, reordering, retries, routing."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from infra.local.graph_simulator import (
    SIGNATURE_HEADER,
    FixedLatency,
    GraphSimulator,
    SimulatorConfig,
    WebhookSettings,
)
from tests.integration.graph_simulator.scenario import (
    APP_SECRET,
    NUMBER_A,
    WABA_A,
    base_config,
    graph_client,
    text_message,
)
from tests.integration.graph_simulator.webhook_receiver import ReceivedWebhook, WebhookReceiver

StartSim = Callable[[SimulatorConfig], GraphSimulator]


def _webhooks(url: str | None, **changes: Any) -> WebhookSettings:
    """Every status quickly, none skipped, no randomness unless asked."""
    settings: dict[str, Any] = {
        "url": url,
        "app_secret": APP_SECRET,
        "sent_probability": 1.0,
        "delivered_probability": 1.0,
        "read_probability": 0.0,
        "sent_delay": FixedLatency(seconds=0),
        "delivered_delay": FixedLatency(seconds=0.1),
        "read_delay": FixedLatency(seconds=0.1),
        "retry_backoff_seconds": 0.02,
    }
    settings.update(changes)
    return WebhookSettings.model_validate(settings)


def _signature_is_valid(webhook: ReceivedWebhook) -> bool:
    expected = hmac.new(APP_SECRET.encode(), webhook.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(webhook.headers[SIGNATURE_HEADER], f"sha256={expected}")


def _send_many(sim: GraphSimulator, count: int) -> list[str]:
    with graph_client(sim) as client:
        return [
            client.post(
                f"/{NUMBER_A}/messages", json=text_message(to=f"+1650{i:07d}", callback=f"req-{i}")
            ).json()["messages"][0]["id"]
            for i in range(count)
        ]


def test_status_webhooks_are_signed_and_shaped_like_meta(
    start_sim: StartSim, receiver: WebhookReceiver
) -> None:
    sim = start_sim(base_config(webhooks=_webhooks(receiver.url, read_probability=1.0)))
    with graph_client(sim) as client:
        answer = client.post(f"/{NUMBER_A}/messages", json=text_message(callback="req/1 é"))
    wamid = answer.json()["messages"][0]["id"]

    statuses = receiver.wait_for_statuses(3)
    assert sim.wait_for_webhooks()
    assert all(_signature_is_valid(webhook) for webhook in receiver.received)
    # Graph escapes slashes and non-ASCII, so only the raw bytes verify.
    assert b"req\\/1 \\u00e9" in receiver.received[0].body

    payload = receiver.received[0].payload()
    assert payload["object"] == "whatsapp_business_account"
    [entry] = payload["entry"]
    assert entry["id"] == WABA_A
    [change] = entry["changes"]
    assert change["field"] == "messages"
    assert change["value"]["messaging_product"] == "whatsapp"
    assert change["value"]["metadata"] == {
        "display_phone_number": "15550001001",
        "phone_number_id": NUMBER_A,
    }

    assert [status["status"] for status in statuses] == ["sent", "delivered", "read"]
    for status in statuses:
        assert status["id"] == wamid
        assert status["recipient_id"] == "16505551234"
        assert status["biz_opaque_callback_data"] == "req/1 é"
        assert isinstance(status["timestamp"], str)
    timestamps = [int(status["timestamp"]) for status in statuses]
    assert timestamps == sorted(timestamps)
    priced = [status["pricing"] for status in statuses if "pricing" in status]
    assert priced == [
        {
            "billable": False,
            "pricing_model": "PMP",
            "type": "free_customer_service",
            "category": "service",
        }
    ]
    assert statuses[0]["pricing"] == priced[0]
    assert sim.delivered_statuses[0].wamid == wamid


def test_template_sends_are_priced_by_category(
    start_sim: StartSim, receiver: WebhookReceiver
) -> None:
    settings = _webhooks(
        receiver.url,
        delivered_probability=0.0,
        template_categories={"order_update": "utility", "promo": "marketing"},
    )
    sim = start_sim(base_config(webhooks=settings))
    template = {
        "messaging_product": "whatsapp",
        "to": "+16505551234",
        "type": "template",
        "template": {"name": "promo", "language": {"code": "en_US"}},
    }
    with graph_client(sim) as client:
        assert client.post(f"/{NUMBER_A}/messages", json=template).status_code == 200

    [status] = receiver.wait_for_statuses(1)
    assert status["pricing"] == {
        "billable": True,
        "pricing_model": "PMP",
        "type": "regular",
        "category": "marketing",
    }


def test_duplicates_happen_at_the_configured_rate(
    start_sim: StartSim, receiver: WebhookReceiver
) -> None:
    settings = _webhooks(receiver.url, delivered_probability=0.0, duplicate_rate=0.5)
    sim = start_sim(base_config(webhooks=settings))
    wamids = _send_many(sim, 40)

    assert sim.wait_for_webhooks()
    duplicates = sim.webhook_counts["duplicates_planned"]
    assert 10 <= duplicates <= 30
    received = [status["id"] for status in receiver.statuses()]
    assert len(received) == 40 + duplicates
    assert set(received) == set(wamids)
    assert all(_signature_is_valid(webhook) for webhook in receiver.received)


def test_reordering_happens_at_the_configured_rate(
    start_sim: StartSim, receiver: WebhookReceiver
) -> None:
    # Wide gaps between statuses keep the host's own jitter from reordering most of them.
    settings = _webhooks(receiver.url, reorder_rate=0.5, delivered_delay=FixedLatency(seconds=0.3))
    sim = start_sim(base_config(webhooks=settings))
    wamids = _send_many(sim, 30)

    assert sim.wait_for_webhooks()
    arrival: dict[str, list[str]] = {}
    stamps: dict[str, dict[str, int]] = {}
    for status in receiver.statuses():
        arrival.setdefault(status["id"], []).append(status["status"])
        stamps.setdefault(status["id"], {})[status["status"]] = int(status["timestamp"])
    swapped = sum(1 for wamid in wamids if arrival[wamid] == ["delivered", "sent"])
    planned = sim.webhook_counts["reordered_planned"]
    assert 6 <= planned <= 24
    # Concurrent POSTs on a busy host may land a little out of the planned order too.
    assert abs(swapped - planned) <= 3
    # Only the arrival order moves; the timestamps still tell the true story.
    assert all(stamps[wamid]["sent"] <= stamps[wamid]["delivered"] for wamid in wamids)


def test_webhooks_are_retried_on_non_200_then_given_up(
    start_sim: StartSim, receiver: WebhookReceiver
) -> None:
    settings = _webhooks(receiver.url, delivered_probability=0.0, max_attempts=3)
    sim = start_sim(base_config(webhooks=settings))
    receiver.answer_next([500, 503])
    _send_many(sim, 1)
    assert sim.wait_for_webhooks()
    assert len(receiver.statuses()) == 1

    receiver.answer_next([500, 500, 500])
    _send_many(sim, 1)
    assert sim.wait_for_webhooks()
    assert len(receiver.statuses()) == 1

    counts = sim.webhook_counts
    assert counts["failed_attempts"] == 5
    assert counts["posts_delivered"] == 1
    assert counts["posts_given_up"] == 1


def test_a_waba_override_receives_its_webhooks(
    start_sim: StartSim, receiver: WebhookReceiver
) -> None:
    override = WebhookReceiver()
    try:
        settings = _webhooks(receiver.url, delivered_probability=0.0)
        sim = start_sim(base_config(webhooks=settings))
        with graph_client(sim) as client:
            client.post(
                f"/{WABA_A}/subscribed_apps",
                json={"override_callback_uri": override.url, "verify_token": "vt"},
            )
        _send_many(sim, 2)
        assert sim.wait_for_webhooks()
        assert len(override.statuses()) == 2
        assert receiver.statuses() == []
    finally:
        override.close()


def test_an_unsubscribed_waba_gets_no_webhooks(
    start_sim: StartSim, receiver: WebhookReceiver
) -> None:
    settings = _webhooks(receiver.url, delivered_probability=0.0)
    sim = start_sim(base_config(webhooks=settings, subscribed_at_start=False))
    _send_many(sim, 3)

    assert sim.wait_for_webhooks()
    assert len(sim.accepted) == 3
    assert receiver.received == []
    assert sim.webhook_counts["suppressed_unsubscribed"] == 3


def test_statuses_due_together_share_a_post(start_sim: StartSim, receiver: WebhookReceiver) -> None:
    settings = _webhooks(
        receiver.url,
        delivered_probability=0.0,
        sent_delay=FixedLatency(seconds=0.1),
        max_statuses_per_post=10,
        batch_window_seconds=0.5,
    )
    sim = start_sim(base_config(webhooks=settings))
    wamids = _send_many(sim, 5)

    assert sim.wait_for_webhooks()
    [webhook] = receiver.received
    assert [status["id"] for status in webhook.statuses()] == wamids
    assert _signature_is_valid(webhook)


def test_an_inbound_message_arrives_as_a_signed_messages_webhook(
    start_sim: StartSim, receiver: WebhookReceiver
) -> None:
    sim = start_sim(base_config(webhooks=_webhooks(receiver.url)))
    wamid = sim.send_inbound_text(NUMBER_A, "16505550000", "hi there", profile_name="Ana")

    assert sim.wait_for_webhooks()
    [webhook] = receiver.received
    assert _signature_is_valid(webhook)
    value = webhook.payload()["entry"][0]["changes"][0]["value"]
    assert value["contacts"] == [{"profile": {"name": "Ana"}, "wa_id": "16505550000"}]
    [message] = value["messages"]
    assert message["id"] == wamid
    assert (message["from"], message["type"], message["text"]) == (
        "16505550000",
        "text",
        {"body": "hi there"},
    )
