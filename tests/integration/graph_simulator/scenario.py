"""The accounts, tokens and messages the simulator tests use."""

from __future__ import annotations

from typing import Any

import httpx

from infra.local.graph_simulator import GraphSimulator, PhoneNumber, SimulatorConfig

WABA_A, WABA_B = "2001", "2002"
NUMBER_A, NUMBER_B = "1001", "1002"
TOKEN_A, TOKEN_B = "token-a", "token-b"
APP_SECRET = "test-app-secret"


def base_config(**changes: Any) -> SimulatorConfig:
    """Two WABAs with one number and one token each; no latency, no webhooks."""
    settings: dict[str, Any] = {
        "phone_numbers": {
            NUMBER_A: PhoneNumber(waba_id=WABA_A, display_phone_number="15550001001"),
            NUMBER_B: PhoneNumber(waba_id=WABA_B, display_phone_number="15550001002"),
        },
        "tokens": {TOKEN_A: (WABA_A,), TOKEN_B: (WABA_B,)},
        "seed": 7,
    }
    settings.update(changes)
    return SimulatorConfig.model_validate(settings)


def text_message(
    to: str = "+16505551234", text: str = "hello", callback: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"body": text},
    }
    if callback is not None:
        body["biz_opaque_callback_data"] = callback
    return body


def graph_client(sim: GraphSimulator, token: str = TOKEN_A, timeout: float = 5.0) -> httpx.Client:
    return httpx.Client(
        base_url=sim.graph_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=timeout,
        trust_env=False,
    )
