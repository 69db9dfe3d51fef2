"""Registering and unregistering WABAs against the Graph simulator on localhost and moto."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pixy_whatsapp.subscriptions import (
    CheckResult,
    FailureKind,
    InvalidRegistration,
    RegistrationFailed,
    SubscriptionManager,
    SubscriptionState,
    UnregistrationFailed,
    WabaNotFound,
    WabaRegistry,
)
from pydantic import SecretStr

from infra.local.graph_simulator import GraphSimulator
from tests.integration.subscriptions.conftest import Aws
from tests.integration.subscriptions.support import (
    APP_ID,
    NUMBER_A,
    OVERRIDE_URL,
    SECRET_PREFIX,
    TOKEN_A,
    VERIFY_TOKEN,
    WABA_A,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def subscription(sim: GraphSimulator, waba_id: str) -> object:
    return sim.simulation.accounts.subscription(waba_id)


async def test_register_subscribes_verifies_and_records(
    manager: SubscriptionManager, sim: GraphSimulator, aws: Aws, registry: WabaRegistry
) -> None:
    record = await manager.register(WABA_A, SecretStr(TOKEN_A), phone_number_ids=[NUMBER_A])

    assert subscription(sim, WABA_A) is not None
    assert aws.token_secret(WABA_A, SECRET_PREFIX) == {"access_token": TOKEN_A}
    assert record == registry.get(WABA_A)
    assert record.state is SubscriptionState.SUBSCRIBED
    assert record.app_id == APP_ID
    assert record.apps_seen == (APP_ID,)
    assert record.phone_number_ids == (NUMBER_A,)
    assert record.override_callback_uri is None
    assert record.last_check_result is CheckResult.OK
    assert record.reason is None
    assert manager.status(WABA_A) == record
    assert TOKEN_A not in record.model_dump_json()


async def test_the_deployment_override_goes_with_the_stored_verify_token(
    make_manager: Callable[..., SubscriptionManager], sim: GraphSimulator
) -> None:
    manager = make_manager(callback_override_url=OVERRIDE_URL)

    record = await manager.register(WABA_A, SecretStr(TOKEN_A), phone_number_ids=[NUMBER_A])

    subscribed = sim.simulation.accounts.subscription(WABA_A)
    assert subscribed is not None
    assert subscribed.override_callback_uri == OVERRIDE_URL
    assert subscribed.verify_token == VERIFY_TOKEN
    assert record.state is SubscriptionState.SUBSCRIBED
    assert record.override_callback_uri == OVERRIDE_URL


async def test_a_per_waba_override_wins_over_the_deployment_one(
    make_manager: Callable[..., SubscriptionManager], sim: GraphSimulator
) -> None:
    manager = make_manager(callback_override_url=OVERRIDE_URL)
    own = "https://tenant.example.test/hooks"

    record = await manager.register(WABA_A, SecretStr(TOKEN_A), override_callback_uri=own)

    subscribed = sim.simulation.accounts.subscription(WABA_A)
    assert subscribed is not None
    assert subscribed.override_callback_uri == own
    assert record.override_callback_uri == own


async def test_meta_refusing_records_the_waba_as_failed_with_its_code(
    manager: SubscriptionManager, sim: GraphSimulator, registry: WabaRegistry
) -> None:
    with pytest.raises(RegistrationFailed) as raised:
        await manager.register(WABA_A, SecretStr("not-a-token-meta-knows"))

    failure = raised.value
    assert failure.kind is FailureKind.META_REFUSED
    assert failure.meta_code == 190
    assert failure.meta_message
    assert "code 190" in failure.reason
    record = registry.get(WABA_A)
    assert record is not None
    assert record == failure.record
    assert record.state is SubscriptionState.FAILED
    assert record.meta_code == 190
    assert record.reason == failure.reason
    assert "not-a-token-meta-knows" not in failure.reason
    assert subscription(sim, WABA_A) is None


# waba_id, token, override_callback_uri, phone_number_ids: one thing wrong in each.
INVALID_REGISTRATIONS: list[tuple[str, str, str | None, list[str]]] = [
    ("not-digits", TOKEN_A, None, []),
    (WABA_A, "has a space", None, []),
    (WABA_A, TOKEN_A, "http://hooks.example.test/plain-http", []),
    (WABA_A, TOKEN_A, "https://example.test/" + "x" * 200, []),
    (WABA_A, TOKEN_A, None, ["+15550001001"]),
]


async def test_requests_that_cannot_be_right_store_nothing(
    manager: SubscriptionManager, aws: Aws, registry: WabaRegistry
) -> None:
    for waba_id, token, override, numbers in INVALID_REGISTRATIONS:
        with pytest.raises(InvalidRegistration):
            await manager.register(
                waba_id, SecretStr(token), phone_number_ids=numbers, override_callback_uri=override
            )

        assert registry.get(waba_id) is None
    names = [secret["Name"] for secret in aws.secrets.list_secrets()["SecretList"]]
    assert not [name for name in names if name.startswith(SECRET_PREFIX)]


async def test_unregister_unsubscribes_deletes_the_token_and_forgets(
    manager: SubscriptionManager, sim: GraphSimulator, aws: Aws, registry: WabaRegistry
) -> None:
    await manager.register(WABA_A, SecretStr(TOKEN_A), phone_number_ids=[NUMBER_A])

    result = await manager.unregister(WABA_A)

    assert result.unsubscribed
    assert subscription(sim, WABA_A) is None
    assert registry.get(WABA_A) is None
    described = aws.secrets.describe_secret(SecretId=f"{SECRET_PREFIX}{WABA_A}")
    assert "DeletedDate" in described
    with pytest.raises(WabaNotFound):
        manager.status(WABA_A)
    with pytest.raises(WabaNotFound):
        await manager.unregister(WABA_A)


async def test_unregister_keeps_the_waba_when_meta_refuses_unless_forced(
    manager: SubscriptionManager, sim: GraphSimulator, registry: WabaRegistry
) -> None:
    await manager.register(WABA_A, SecretStr(TOKEN_A))
    sim.revoke_token(TOKEN_A)

    with pytest.raises(UnregistrationFailed) as raised:
        await manager.unregister(WABA_A)
    assert raised.value.meta_code == 190
    assert registry.get(WABA_A) is not None

    forced = await manager.unregister(WABA_A, force=True)
    assert not forced.unsubscribed
    assert forced.reason is not None
    assert "code 190" in forced.reason
    assert registry.get(WABA_A) is None
