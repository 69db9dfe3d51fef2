from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from infra.local.graph_simulator import (
    PairLimit,
    PhoneNumber,
    SimulatorConfig,
    run_simulator,
)

from .harness import NUMBER, OTHER_NUMBER, TOKEN, WABA, SenderHarness


def simulator_config(**changes: object) -> SimulatorConfig:
    config = SimulatorConfig(
        phone_numbers={NUMBER: PhoneNumber(waba_id=WABA), OTHER_NUMBER: PhoneNumber(waba_id=WABA)},
        tokens={TOKEN: (WABA, NUMBER, OTHER_NUMBER)},
        pair_limit=PairLimit(enabled=False),
    )
    return config.model_copy(update=changes)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def make_harness(aws: None) -> Iterator[object]:
    stack: list[object] = []

    def build(**kwargs: object) -> SenderHarness:
        sim_changes = kwargs.pop("simulator", {})
        assert isinstance(sim_changes, dict)
        context = run_simulator(simulator_config(**sim_changes))
        simulator = context.__enter__()
        stack.append(context)
        return SenderHarness(
            ddb=boto3.client("dynamodb"),
            sqs=boto3.client("sqs"),
            secrets=boto3.client("secretsmanager"),
            simulator=simulator,
            **kwargs,  # type: ignore[arg-type]
        )

    yield build
    for context in reversed(stack):
        context.__exit__(None, None, None)  # type: ignore[attr-defined]
