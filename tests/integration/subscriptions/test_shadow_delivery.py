"""Shadow delivery: accepted sends whose status webhooks never come back.

The sender's part is `DeliveryWatch.note_accepted`; the inbound processor's part is the
status it records on the message item (`MessageStore.apply_status`, as it does for every
status webhook). Both are called here as those functions call them.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pixy_whatsapp.graph import GraphClient, GraphClientSettings
from pixy_whatsapp.statuses import MessageStatus, MessageStore
from pixy_whatsapp.subscriptions import DeliveryWatch, SubscriptionManager, WabaRegistry
from pydantic import SecretStr

from infra.local.graph_simulator import GraphSimulator
from tests.integration.subscriptions.conftest import Aws
from tests.integration.subscriptions.support import (
    NUMBER_A,
    NUMBER_B,
    TABLES,
    TOKEN_A,
    TOKEN_B,
    WABA_A,
    WABA_B,
    Emitted,
    minutes_ago,
)

pytestmark = pytest.mark.anyio

ReadMetrics = Callable[[], Emitted]
UNREGISTERED_NUMBER = "1999"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def messages(aws: Aws) -> MessageStore:
    return MessageStore(aws.ddb, TABLES["messages"])


@pytest.fixture
async def registered(manager: SubscriptionManager) -> SubscriptionManager:
    await manager.register(WABA_A, SecretStr(TOKEN_A), phone_number_ids=[NUMBER_A])
    await manager.register(WABA_B, SecretStr(TOKEN_B), phone_number_ids=[NUMBER_B])
    return manager


def accepted(
    messages: MessageStore,
    watch: DeliveryWatch,
    message_id: str,
    at_ms: int,
    *,
    number: str = NUMBER_A,
    waba_id: str = WABA_A,
) -> bool:
    """What the sender does when Meta accepts a send."""
    messages.apply_status(
        message_id,
        MessageStatus.ACCEPTED,
        at_ms,
        wamid=f"wamid.{message_id}",
        descriptive={"phone_number_id": number, "waba_id": waba_id},
    )
    return watch.note_accepted(number, message_id, waba_id=waba_id, at_ms=at_ms)


async def test_a_number_with_unanswered_sends_past_the_threshold_is_reported(
    registered: SubscriptionManager,
    messages: MessageStore,
    watch: DeliveryWatch,
    registry: WabaRegistry,
    emitted: ReadMetrics,
) -> None:
    assert accepted(messages, watch, "m-1", minutes_ago(31))

    report = await registered.check_all()

    assert [silent.phone_number_id for silent in report.silent] == [NUMBER_A]
    assert report.silent[0].waba_id == WABA_A
    assert report.silent[0].message_id == "m-1"
    out = emitted()
    assert out.total("ShadowDelivery") == 1
    assert out.dimensions("ShadowDelivery") == [["service"]]
    record = registry.get(WABA_A)
    assert record is not None
    assert record.silent_phone_number_ids == (NUMBER_A,)
    assert registry.get(WABA_B).silent_phone_number_ids == ()  # type: ignore[union-attr]


async def test_the_number_is_named_in_the_log(
    registered: SubscriptionManager,
    messages: MessageStore,
    watch: DeliveryWatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    accepted(messages, watch, "m-1", minutes_ago(45))

    await registered.check_all()

    lines = [r for r in caplog.records if r.getMessage().startswith("shadow delivery")]
    assert [(r.levelname, r.phone_number_id, r.waba_id) for r in lines] == [  # type: ignore[attr-defined]
        ("WARNING", NUMBER_A, WABA_A)
    ]


async def test_a_status_webhook_for_the_send_means_no_shadow_delivery(
    registered: SubscriptionManager,
    messages: MessageStore,
    watch: DeliveryWatch,
    aws: Aws,
    emitted: ReadMetrics,
) -> None:
    at = minutes_ago(40)
    accepted(messages, watch, "m-1", at)
    messages.apply_status("m-1", MessageStatus.SENT, at + 1_500)

    report = await registered.check_all()

    assert report.silent == ()
    assert emitted().total("ShadowDelivery") == 0
    # The answered canary is cleared: the next accepted send is watched in its place.
    watch_after = DeliveryWatch(aws.ddb, TABLES["control"])  # a fresh sender instance
    assert accepted(messages, watch_after, "m-2", minutes_ago(1))


async def test_a_failed_status_is_an_answer_too(
    registered: SubscriptionManager, messages: MessageStore, watch: DeliveryWatch
) -> None:
    at = minutes_ago(40)
    accepted(messages, watch, "m-1", at)
    messages.apply_status("m-1", MessageStatus.FAILED, at + 800)

    assert (await registered.check_all()).silent == ()


async def test_a_send_younger_than_the_threshold_is_not_yet_silence(
    registered: SubscriptionManager,
    messages: MessageStore,
    watch: DeliveryWatch,
    emitted: ReadMetrics,
) -> None:
    accepted(messages, watch, "m-1", minutes_ago(29))

    report = await registered.check_all()

    assert report.silent == ()
    assert emitted().total("ShadowDelivery") == 0


async def test_silence_lasts_until_a_fresh_send_gets_a_status(
    registered: SubscriptionManager,
    messages: MessageStore,
    watch: DeliveryWatch,
    aws: Aws,
    registry: WabaRegistry,
) -> None:
    accepted(messages, watch, "m-1", minutes_ago(60))
    assert len((await registered.check_all()).silent) == 1
    # Webhooks still missing: a new send replaces the canary, the number stays silent.
    later = DeliveryWatch(aws.ddb, TABLES["control"])
    assert accepted(messages, later, "m-2", minutes_ago(2))
    assert len((await registered.check_all()).silent) == 1

    # Webhooks flow again (say the subscription was repaired): the next send is answered.
    recovered = DeliveryWatch(aws.ddb, TABLES["control"])
    assert accepted(messages, recovered, "m-3", minutes_ago(1))
    messages.apply_status("m-3", MessageStatus.DELIVERED, minutes_ago(0.5))

    assert (await registered.check_all()).silent == ()
    assert registry.get(WABA_A).silent_phone_number_ids == ()  # type: ignore[union-attr]


async def test_a_number_only_the_sender_knows_is_watched_too(
    registered: SubscriptionManager, messages: MessageStore, watch: DeliveryWatch
) -> None:
    accepted(messages, watch, "m-9", minutes_ago(35), number=UNREGISTERED_NUMBER)

    report = await registered.check_all()

    assert [(s.phone_number_id, s.waba_id) for s in report.silent] == [
        (UNREGISTERED_NUMBER, WABA_A)
    ]


async def test_a_dropped_subscription_silences_real_sends_and_both_checks_see_it(
    registered: SubscriptionManager,
    messages: MessageStore,
    watch: DeliveryWatch,
    sim: GraphSimulator,
    emitted: ReadMetrics,
) -> None:
    """Meta accepts sends for a WABA that lost its subscription, and sends no webhooks."""
    sim.drop_subscription(WABA_A)
    quick = {"kind": "fixed", "seconds": 0.01}
    sim.update_config(webhooks={"delivered_delay": quick, "read_delay": quick})
    async with GraphClient(GraphClientSettings(base_url=sim.base_url)) as graph:
        sent = await graph.send_message(
            NUMBER_A,
            {"to": "+16505551234", "type": "text", "text": {"body": "hello"}},
            SecretStr(TOKEN_A),
            biz_opaque_callback_data="m-1",
        )
    assert sim.wait_for_webhooks()
    assert sim.webhook_counts.get("suppressed_unsubscribed", 0) >= 1
    # Recorded as the sender records it; dated as if the threshold had passed since.
    at = minutes_ago(31)
    messages.apply_status("m-1", MessageStatus.ACCEPTED, at, wamid=sent.wamid)
    watch.note_accepted(NUMBER_A, "m-1", waba_id=WABA_A, at_ms=at)

    report = await registered.check_all()

    assert report.repaired == (WABA_A,)
    assert [s.phone_number_id for s in report.silent] == [NUMBER_A]
    out = emitted()
    assert out.total("SubscriptionRepaired") == 1
    assert out.total("ShadowDelivery") == 1


def test_notes_are_throttled_per_number(aws: Aws, messages: MessageStore) -> None:
    watch = DeliveryWatch(aws.ddb, TABLES["control"], note_interval_ms=60_000)
    now = minutes_ago(0)

    assert watch.note_accepted(NUMBER_A, "m-1", waba_id=WABA_A, at_ms=now)
    # Within the interval: no write at all, whatever the table holds.
    aws.ddb.delete_item(TableName=TABLES["control"], Key={"pk": {"S": f"watch#number#{NUMBER_A}"}})
    assert not watch.note_accepted(NUMBER_A, "m-2", waba_id=WABA_A, at_ms=now + 1_000)
    assert (
        aws.ddb.get_item(
            TableName=TABLES["control"], Key={"pk": {"S": f"watch#number#{NUMBER_A}"}}
        ).get("Item")
        is None
    )
    # Another number is not held back by the first one's interval.
    assert watch.note_accepted(NUMBER_B, "m-3", waba_id=WABA_B, at_ms=now + 1_000)
    # After the interval it writes again.
    assert watch.note_accepted(NUMBER_A, "m-4", waba_id=WABA_A, at_ms=now + 61_000)


def test_templates_held_for_pacing_are_not_watched(aws: Aws) -> None:
    watch = DeliveryWatch(aws.ddb, TABLES["control"])

    assert not watch.note_accepted(
        NUMBER_A, "m-1", waba_id=WABA_A, message_status="held_for_quality_assessment"
    )
    assert watch.note_accepted(NUMBER_A, "m-2", waba_id=WABA_A, message_status="accepted")
