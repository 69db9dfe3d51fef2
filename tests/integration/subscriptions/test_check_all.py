"""The scheduled re-check: verify every WABA, repair drift, keep going past failures."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import httpx
import pytest
from pixy_whatsapp.subscriptions import (
    CheckResult,
    RegistrationFailed,
    SubscriptionManager,
    SubscriptionState,
    WabaCheck,
    WabaRegistry,
)
from pydantic import SecretStr

from infra.local.graph_simulator import GraphSimulator
from tests.integration.subscriptions.conftest import Aws
from tests.integration.subscriptions.support import (
    NUMBER_A,
    NUMBER_B,
    NUMBER_C,
    OVERRIDE_URL,
    ROTATED_TOKEN_A,
    SECRET_PREFIX,
    TOKEN_A,
    TOKEN_B,
    TOKEN_C,
    VERIFY_TOKEN,
    WABA_A,
    WABA_B,
    WABA_C,
    Emitted,
)

pytestmark = pytest.mark.anyio

ReadMetrics = Callable[[], Emitted]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def register_three(manager: SubscriptionManager) -> None:
    await manager.register(WABA_A, SecretStr(TOKEN_A), phone_number_ids=[NUMBER_A])
    await manager.register(WABA_B, SecretStr(TOKEN_B), phone_number_ids=[NUMBER_B])
    await manager.register(WABA_C, SecretStr(TOKEN_C), phone_number_ids=[NUMBER_C])


def results(checks: Sequence[WabaCheck]) -> dict[str, CheckResult]:
    return {check.waba_id: check.result for check in checks}


async def test_every_registered_waba_is_verified(
    manager: SubscriptionManager, emitted: ReadMetrics
) -> None:
    await register_three(manager)

    report = await manager.check_all()

    assert results(report.checks) == dict.fromkeys((WABA_A, WABA_B, WABA_C), CheckResult.OK)
    metrics = emitted()
    assert metrics.total("SubscriptionChecks") == 3
    assert metrics.total("SubscriptionRepaired") == 0
    assert metrics.total("SubscriptionCheckFailed") == 0
    assert metrics.total("ShadowDelivery") == 0
    # Totals only: ids belong in the log, never in a dimension.
    assert metrics.dimensions("SubscriptionChecks") == [["service"]]


async def test_a_dropped_subscription_is_repaired_and_counted(
    manager: SubscriptionManager,
    sim: GraphSimulator,
    registry: WabaRegistry,
    emitted: ReadMetrics,
) -> None:
    await register_three(manager)
    assert sim.drop_subscription(WABA_B)

    report = await manager.check_all()

    assert results(report.checks) == {
        WABA_A: CheckResult.OK,
        WABA_B: CheckResult.REPAIRED,
        WABA_C: CheckResult.OK,
    }
    assert sim.simulation.accounts.subscription(WABA_B) is not None
    record = registry.get(WABA_B)
    assert record is not None
    assert record.state is SubscriptionState.SUBSCRIBED
    assert record.last_check_result is CheckResult.REPAIRED
    assert record.repairs == 1
    metrics = emitted()
    assert metrics.total("SubscriptionRepaired") == 1
    assert metrics.total("SubscriptionCheckFailed") == 0

    again = await manager.check_all()
    assert set(results(again.checks).values()) == {CheckResult.OK}


async def test_an_override_changed_behind_our_back_is_put_back(
    make_manager: Callable[..., SubscriptionManager], sim: GraphSimulator
) -> None:
    manager = make_manager(callback_override_url=OVERRIDE_URL)
    await manager.register(WABA_A, SecretStr(TOKEN_A))
    # Someone re-subscribes the app without the override: webhooks go to the app's URL.
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{sim.graph_url}/{WABA_A}/subscribed_apps",
            headers={"Authorization": f"Bearer {TOKEN_A}"},
        )
    assert answer.json() == {"success": True}

    report = await manager.check_all()

    assert results(report.checks) == {WABA_A: CheckResult.REPAIRED}
    subscribed = sim.simulation.accounts.subscription(WABA_A)
    assert subscribed is not None
    assert subscribed.override_callback_uri == OVERRIDE_URL
    assert subscribed.verify_token == VERIFY_TOKEN


async def test_a_revoked_token_fails_its_waba_and_the_others_are_still_checked(
    manager: SubscriptionManager,
    sim: GraphSimulator,
    registry: WabaRegistry,
    emitted: ReadMetrics,
) -> None:
    await register_three(manager)
    sim.revoke_token(TOKEN_B)
    sim.drop_subscription(WABA_C)

    report = await manager.check_all()

    assert results(report.checks) == {
        WABA_A: CheckResult.OK,
        WABA_B: CheckResult.FAILED,
        WABA_C: CheckResult.REPAIRED,
    }
    failed = next(check for check in report.checks if check.waba_id == WABA_B)
    assert failed.meta_code == 190
    record = registry.get(WABA_B)
    assert record is not None
    # It was subscribed and Meta could not be asked: unknown, not known-lost.
    assert record.state is SubscriptionState.UNVERIFIED
    assert record.last_check_result is CheckResult.FAILED
    assert record.reason is not None
    assert "code 190" in record.reason
    assert TOKEN_B not in record.reason
    metrics = emitted()
    assert metrics.total("SubscriptionChecks") == 3
    assert metrics.total("SubscriptionCheckFailed") == 1
    assert metrics.total("SubscriptionRepaired") == 1

    sim.restore_token(TOKEN_B)
    healed = await manager.check_all()
    assert results(healed.checks)[WABA_B] is CheckResult.OK
    assert registry.get(WABA_B).state is SubscriptionState.SUBSCRIBED  # type: ignore[union-attr]


async def test_a_token_rotated_in_secrets_manager_is_picked_up_at_once(
    manager: SubscriptionManager, sim: GraphSimulator, aws: Aws
) -> None:
    await manager.register(WABA_A, SecretStr(TOKEN_A))
    await manager.check_all()  # the token is now cached
    aws.secrets.put_secret_value(
        SecretId=f"{SECRET_PREFIX}{WABA_A}",
        SecretString=f'{{"access_token": "{ROTATED_TOKEN_A}"}}',
    )
    sim.revoke_token(TOKEN_A)

    report = await manager.check_all()

    assert results(report.checks) == {WABA_A: CheckResult.OK}


async def test_a_failed_registration_is_completed_by_the_schedule_without_a_drift_alarm(
    manager: SubscriptionManager,
    sim: GraphSimulator,
    registry: WabaRegistry,
    emitted: ReadMetrics,
) -> None:
    sim.revoke_token(TOKEN_A)
    with pytest.raises(RegistrationFailed):
        await manager.register(WABA_A, SecretStr(TOKEN_A))
    sim.restore_token(TOKEN_A)

    report = await manager.check_all()

    assert results(report.checks) == {WABA_A: CheckResult.OK}
    assert sim.simulation.accounts.subscription(WABA_A) is not None
    record = registry.get(WABA_A)
    assert record is not None
    assert record.state is SubscriptionState.SUBSCRIBED
    assert record.reason is None
    assert record.meta_code is None
    assert emitted().total("SubscriptionRepaired") == 0


async def test_a_waba_without_a_stored_token_fails_its_check(
    manager: SubscriptionManager,
    make_manager: Callable[..., SubscriptionManager],
    aws: Aws,
    emitted: ReadMetrics,
) -> None:
    await manager.register(WABA_A, SecretStr(TOKEN_A))
    await manager.register(WABA_B, SecretStr(TOKEN_B))
    aws.secrets.delete_secret(SecretId=f"{SECRET_PREFIX}{WABA_A}", ForceDeleteWithoutRecovery=True)

    # A new instance, as after a cold start: nothing cached.
    report = await make_manager().check_all()

    assert results(report.checks) == {WABA_A: CheckResult.FAILED, WABA_B: CheckResult.OK}
    assert emitted().total("SubscriptionCheckFailed") == 1


async def test_one_waba_can_be_checked_on_demand(
    manager: SubscriptionManager, sim: GraphSimulator, emitted: ReadMetrics
) -> None:
    await manager.register(WABA_A, SecretStr(TOKEN_A))
    sim.drop_subscription(WABA_A)

    check = await manager.verify(WABA_A)

    assert check.result is CheckResult.REPAIRED
    assert check.state is SubscriptionState.SUBSCRIBED
    assert sim.simulation.accounts.subscription(WABA_A) is not None
    # Only the schedule's runs feed the alarms.
    with pytest.warns(UserWarning, match="No application metrics"):
        assert emitted().total("SubscriptionRepaired") is None
