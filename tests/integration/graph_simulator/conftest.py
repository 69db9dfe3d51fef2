"""Fixtures for the Graph API simulator tests: a simulator factory and a webhook receiver."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest

from infra.local.graph_simulator import GraphSimulator, SimulatorConfig, Validator, run_simulator
from tests.integration.graph_simulator.webhook_receiver import WebhookReceiver


@pytest.fixture(scope="session")
def validator() -> Validator:
    from pixy_whatsapp.models import validate_message

    return validate_message


@pytest.fixture
def start_sim(validator: Validator) -> Iterator[Callable[[SimulatorConfig], GraphSimulator]]:
    """Start simulators (stopped at teardown) with the project's message validator."""
    with contextlib.ExitStack() as stack:

        def start(config: SimulatorConfig) -> GraphSimulator:
            return stack.enter_context(run_simulator(config, validate=validator))

        yield start


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    webhook_receiver = WebhookReceiver()
    yield webhook_receiver
    webhook_receiver.close()
