"""moto for AWS and the Graph simulator on localhost for Meta; the manager wired as in Lambda."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pixy_whatsapp.observability import metrics
from pixy_whatsapp.settings import Settings
from pixy_whatsapp.subscriptions import (
    DeliveryWatch,
    SubscriptionClients,
    SubscriptionManager,
    WabaRegistry,
    build_manager,
)

from infra.local.graph_simulator import GraphSimulator, run_simulator
from tests.integration.subscriptions.support import (
    TABLES,
    VERIFY_TOKEN,
    VERIFY_TOKEN_NAME,
    Emitted,
    create_tables,
    settings_for,
    simulator_config,
)


@dataclass
class Aws:
    ddb: Any
    secrets: Any

    def token_secret(self, waba_id: str, prefix: str) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(
            self.secrets.get_secret_value(SecretId=f"{prefix}{waba_id}")["SecretString"]
        )
        return value


@pytest.fixture(scope="session")
def boto_clients() -> tuple[Any, Any]:
    # Creating clients is the slow part of a moto setup; moto intercepts clients made
    # after it is imported, whichever `mock_aws` context is active when they are used.
    return boto3.client("dynamodb"), boto3.client("secretsmanager")


@pytest.fixture
def aws(boto_clients: tuple[Any, Any]) -> Iterator[Aws]:
    ddb, secrets = boto_clients
    with mock_aws():
        create_tables(ddb)
        secrets.create_secret(Name=VERIFY_TOKEN_NAME, SecretString=VERIFY_TOKEN)
        yield Aws(ddb=ddb, secrets=secrets)


@pytest.fixture
def sim() -> Iterator[GraphSimulator]:
    with run_simulator(simulator_config()) as simulator:
        yield simulator


@pytest.fixture
def settings(sim: GraphSimulator) -> Settings:
    return settings_for(sim.base_url)


@pytest.fixture
def make_manager(aws: Aws, sim: GraphSimulator) -> Callable[..., SubscriptionManager]:
    """A manager built by `build_manager` (as the functions build it), with setting changes."""

    def make(**changes: Any) -> SubscriptionManager:
        return build_manager(
            settings_for(sim.base_url, **changes),
            SubscriptionClients(dynamodb=aws.ddb, secrets=aws.secrets),
        )

    return make


@pytest.fixture
def manager(make_manager: Callable[..., SubscriptionManager]) -> SubscriptionManager:
    return make_manager()


@pytest.fixture
def registry(aws: Aws) -> WabaRegistry:
    return WabaRegistry(aws.ddb, TABLES["wabas"])


@pytest.fixture
def watch(aws: Aws) -> DeliveryWatch:
    return DeliveryWatch(aws.ddb, TABLES["control"])


@pytest.fixture
def emitted(capsys: pytest.CaptureFixture[str]) -> Callable[[], Emitted]:
    """Flush the shared Powertools metrics (as `log_metrics` does) and read what they said."""
    metrics.clear_metrics()
    capsys.readouterr()

    def read() -> Emitted:
        metrics.flush_metrics()
        return Emitted.parse(capsys.readouterr().out)

    return read
