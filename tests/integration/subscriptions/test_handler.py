"""The scheduled entry point, invoked as Lambda invokes it: EMF metrics on stdout."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pixy_whatsapp.settings import Settings
from pixy_whatsapp.subscriptions import SubscriptionManager
from pydantic import SecretStr

from infra.local.graph_simulator import GraphSimulator
from tests.integration.subscriptions.conftest import Aws
from tests.integration.subscriptions.support import (
    NUMBER_A,
    NUMBER_B,
    TOKEN_A,
    TOKEN_B,
    WABA_A,
    WABA_B,
    Emitted,
    lambda_context,
)

HANDLER = Path(__file__).parents[3] / "functions" / "subscriptions" / "handler.py"

# What EventBridge Scheduler/rules send; the handler needs none of it.
SCHEDULED_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-01-01T00:15:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/subscription-check"],
    "detail": {},
}


@pytest.fixture
def load_handler(
    aws: Aws, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[], ModuleType]]:
    """Import the handler module fresh (a cold start) with the test's environment."""
    for name, value in settings.to_env().items():
        monkeypatch.setenv(name, value)
    loaded: list[ModuleType] = []

    def load() -> ModuleType:
        name = f"subscriptions_handler_{len(loaded)}"
        spec = importlib.util.spec_from_file_location(name, HANDLER)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        loaded.append(module)
        spec.loader.exec_module(module)
        return module

    yield load
    for module in loaded:
        module._runner.close()
        sys.modules.pop(module.__name__, None)


def test_a_scheduled_run_repairs_drift_and_emits_its_metrics(
    manager: SubscriptionManager,
    sim: GraphSimulator,
    load_handler: Callable[[], ModuleType],
    capsys: pytest.CaptureFixture[str],
) -> None:
    asyncio.run(manager.register(WABA_A, SecretStr(TOKEN_A), phone_number_ids=[NUMBER_A]))
    asyncio.run(manager.register(WABA_B, SecretStr(TOKEN_B), phone_number_ids=[NUMBER_B]))
    sim.drop_subscription(WABA_A)
    module = load_handler()
    capsys.readouterr()

    result = module.handler(SCHEDULED_EVENT, lambda_context())

    assert result == {
        "checked": 2,
        "repaired": [WABA_A],
        "failed": [],
        "silent_phone_number_ids": [],
        "shadow_check_failed": False,
    }
    assert sim.simulation.accounts.subscription(WABA_A) is not None
    emitted = Emitted.parse(capsys.readouterr().out)
    assert emitted.total("SubscriptionChecks") == 2
    assert emitted.total("SubscriptionRepaired") == 1
    assert emitted.total("SubscriptionCheckFailed") == 0
    assert emitted.total("ShadowDelivery") == 0
