"""The local stack answers like the deployed one: HTTP API, webhooks, onboarding, schedule."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx
import pytest
from click.testing import CliRunner
from pixy_whatsapp.cli.main import cli

from infra.local.stack.runner import LocalStack

NEW_WABA = "200000000000090"


def _signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _status_webhook(stack: LocalStack) -> bytes:
    waba = stack.wabas[0]
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": waba.waba_id,
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": waba.numbers[0].display_phone_number,
                                "phone_number_id": waba.numbers[0].phone_number_id,
                            },
                            "statuses": [
                                {
                                    "id": "wamid.unknown-to-us",
                                    "status": "delivered",
                                    "timestamp": str(int(time.time())),
                                    "recipient_id": "15550001111",
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(payload).encode()


def test_a_forged_webhook_is_refused(quiet_stack: LocalStack) -> None:
    url = f"{quiet_stack.api_url}/webhook"
    body = _status_webhook(quiet_stack)
    headers = {"content-type": "application/json"}

    forged = httpx.post(
        url, content=body, headers={**headers, "x-hub-signature-256": _signature(body, "wrong")}
    )
    unsigned = httpx.post(url, content=body, headers=headers)
    tampered = httpx.post(
        url,
        content=body.replace(b"delivered", b"read"),
        headers={**headers, "x-hub-signature-256": _signature(body, quiet_stack.app_secret)},
    )
    genuine = httpx.post(
        url,
        content=body,
        headers={**headers, "x-hub-signature-256": _signature(body, quiet_stack.app_secret)},
    )

    assert (forged.status_code, unsigned.status_code, tampered.status_code) == (401, 401, 401)
    assert genuine.status_code == 200


def test_the_verify_handshake_uses_the_stored_token(quiet_stack: LocalStack) -> None:
    url = f"{quiet_stack.api_url}/webhook"
    params = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}

    good = httpx.get(url, params={**params, "hub.verify_token": quiet_stack.verify_token})
    bad = httpx.get(url, params={**params, "hub.verify_token": "guessed"})

    assert (good.status_code, good.text) == (200, "1158201444")
    assert bad.status_code == 403


def test_a_waba_registered_through_the_api_is_subscribed_in_the_simulator(
    quiet_stack: LocalStack,
) -> None:
    assert NEW_WABA not in quiet_stack.simulator.state()["subscriptions"]

    answer = httpx.post(
        f"{quiet_stack.api_url}/v1/wabas",
        json={"waba_id": NEW_WABA, "access_token": "token-new-waba"},
        timeout=30,
    )

    assert answer.is_success, answer.text
    assert "token-new-waba" not in answer.text
    assert NEW_WABA in quiet_stack.simulator.state()["subscriptions"]
    shown = httpx.get(f"{quiet_stack.api_url}/v1/wabas/{NEW_WABA}", timeout=30)
    assert shown.status_code == 200
    assert shown.json()["state"] == "subscribed"


def test_a_message_sent_through_the_api_ends_delivered_with_its_history(
    quiet_stack: LocalStack,
) -> None:
    waba = quiet_stack.wabas[1]
    request = {
        "waba_id": waba.waba_id,
        "phone_number_id": waba.numbers[0].phone_number_id,
        "to": "+15557654321",
        "category": "utility",
        "message": {"type": "text", "text": {"body": "order 1042 shipped"}},
        "client_reference": "order-1042",
    }
    answer = httpx.post(f"{quiet_stack.api_url}/v1/messages", json={"messages": [request]})
    assert answer.status_code == 202, answer.text
    message_id = answer.json()["messages"][0]["id"]

    view: dict[str, object] = {}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        view = httpx.get(f"{quiet_stack.api_url}/v1/messages/{message_id}").json()
        if view.get("status") in ("delivered", "read"):
            break
        time.sleep(0.5)

    assert view.get("status") in ("delivered", "read"), view
    history = [entry["status"] for entry in view["history"]]  # type: ignore[index]
    assert {"accepted", "sent", "delivered"} <= set(history)
    # (Meta's status times are whole seconds, so the history's order is not checked here.)
    assert view["wamid"]


def test_report_reads_the_local_metrics(quiet_stack: LocalStack) -> None:
    url = f"{quiet_stack.api_url}/webhook"
    body = _status_webhook(quiet_stack)
    signature = _signature(body, quiet_stack.app_secret)
    assert httpx.post(url, content=body).status_code == 401
    assert httpx.post(url, content=body, headers={"x-hub-signature-256": signature}).is_success

    result = CliRunner().invoke(
        cli, ["report", "--local", quiet_stack.api_url, "--since", "10m", "--json"]
    )

    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["totals"]["WebhooksAccepted"] >= 1
    assert figures["totals"]["WebhooksRejected"] >= 1
    assert "WebhooksRejected by Reason" in figures["breakdowns"]


def test_a_schedule_runs_on_demand(quiet_stack: LocalStack) -> None:
    ran = httpx.post(f"{quiet_stack.api_url}/_local/schedules/subscription-check", timeout=60)
    unknown = httpx.post(f"{quiet_stack.api_url}/_local/schedules/nope")

    assert ran.status_code == 200, ran.text
    assert ran.json()["schedule"] == "subscription-check"
    assert unknown.status_code == 404
    assert quiet_stack.scheduler.runs["subscription-check"] >= 1


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/"), ("PUT", "/webhook"), ("GET", "/v2/messages")]
)
def test_routes_the_stack_does_not_have_are_api_gateways_404(
    quiet_stack: LocalStack, method: str, path: str
) -> None:
    answer = httpx.request(method, f"{quiet_stack.api_url}{path}")

    assert answer.status_code == 404
    assert answer.json() == {"message": "Not Found"}
