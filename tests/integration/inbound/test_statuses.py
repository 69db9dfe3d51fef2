"""Status webhooks: the messages table, the events, the metrics."""

from __future__ import annotations

import pytest
from pixy_whatsapp import metric_names as m
from pixy_whatsapp.inbound import GuardBusy, GuardStore, InboundClients, build_inbound_processor
from pixy_whatsapp.statuses import MessageStatus

from .payloads import BSUID, T0, USER, WABA, meta_error, raw, status, status_webhook
from .support import RECEIVED_AT, World, envelope, metric_values, of_type


def _times(world: World, message_id: str) -> dict[str, int]:
    record = world.messages.get(message_id)
    assert record is not None
    return {entry.status.value: entry.at_ms for entry in record.history}


def test_statuses_move_the_message_forward_and_carry_the_send_reference(world: World) -> None:
    message_id = world.sent_message(wamid="wamid.A1")
    pricing = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}
    world.deliver(raw(status_webhook(status("wamid.A1", "sent", T0 + 1, pricing=pricing))))
    world.deliver(raw(status_webhook(status("wamid.A1", "delivered", T0 + 2))))
    world.deliver(raw(status_webhook(status("wamid.A1", "read", T0 + 60))))

    record = world.messages.get(message_id)
    assert record is not None
    assert record.status is MessageStatus.READ
    assert record.pricing == pricing
    times = _times(world, message_id)
    assert (times["sent"], times["delivered"], times["read"]) == (
        (T0 + 1) * 1000,
        (T0 + 2) * 1000,
        (T0 + 60) * 1000,
    )

    events = of_type(world.published(), "message.status")
    assert [e["status"] for e in events] == ["sent", "delivered", "read"]
    for event in events:
        assert event["message_id"] == message_id
        assert event["known"] is True
        assert event["client_reference"] == "order-42"
        # Numbers come back as the client sent them, not as DynamoDB's decimals.
        assert event["metadata"] == {"campaign": "spring", "batch": 7}
        assert event["waba_id"] == WABA
        assert event["late"] is False
    assert events[0]["pricing"]["category"] == "utility"
    assert events[0]["occurred_at"].startswith("2026-01-01T00:00:01")


def test_a_status_ties_back_to_a_message_left_sending_through_its_callback_data(
    world: World,
) -> None:
    # The sender's call timed out: no wamid recorded, the message is still `sending`.
    message_id = world.sent_message(wamid=None)
    assert world.messages.find_by_wamid("wamid.AMBIG") is None

    world.deliver(raw(status_webhook(status("wamid.AMBIG", "sent", T0, callback=message_id))))

    record = world.messages.get(message_id)
    assert record is not None
    assert record.status is MessageStatus.SENT
    assert record.wamid == "wamid.AMBIG"
    # From now on the wamid alone finds it: later statuses need no callback data.
    world.deliver(raw(status_webhook(status("wamid.AMBIG", "delivered", T0 + 5))))
    record = world.messages.get(message_id)
    assert record is not None
    assert record.status is MessageStatus.DELIVERED
    events = of_type(world.published(), "message.status")
    assert [(e["status"], e["message_id"]) for e in events] == [
        ("sent", message_id),
        ("delivered", message_id),
    ]


def test_a_late_status_is_recorded_and_reported_without_moving_the_message_back(
    world: World,
) -> None:
    message_id = world.sent_message(wamid="wamid.L1")
    world.deliver(raw(status_webhook(status("wamid.L1", "read", T0 + 30))))
    world.deliver(raw(status_webhook(status("wamid.L1", "sent", T0 + 1))))

    record = world.messages.get(message_id)
    assert record is not None
    assert record.status is MessageStatus.READ
    assert _times(world, message_id)["sent"] == (T0 + 1) * 1000
    late = of_type(world.published(), "message.status")[-1]
    assert (late["status"], late["late"], late["message_status"]) == ("sent", True, "read")


def test_a_duplicate_status_changes_nothing_and_publishes_nothing(
    world: World, fresh_metrics: None
) -> None:
    message_id = world.sent_message(wamid="wamid.D1")
    body = raw(status_webhook(status("wamid.D1", "delivered", T0 + 2)))
    world.deliver(body)
    world.deliver(body)
    # Meta also repeats a status inside one body.
    world.deliver(
        raw(
            status_webhook(
                status("wamid.D1", "delivered", T0 + 2), status("wamid.D1", "delivered", T0 + 2)
            )
        )
    )

    assert len(of_type(world.published(), "message.status")) == 1
    assert metric_values(m.STATUSES_APPLIED) == [1.0]
    assert world.messages.get(message_id) is not None


def test_delivery_latency_is_measured_from_acceptance(world: World, fresh_metrics: None) -> None:
    world.sent_message(wamid="wamid.T1", accepted_at=T0 * 1000 + 250)
    world.deliver(raw(status_webhook(status("wamid.T1", "delivered", T0 + 3))))
    assert metric_values(m.DELIVERY_LATENCY_MS) == [2750.0]


def test_a_failed_status_records_metas_error_and_our_classification(
    world: World, fresh_metrics: None
) -> None:
    message_id = world.sent_message(wamid="wamid.F1")
    world.deliver(
        raw(status_webhook(status("wamid.F1", "failed", T0 + 4, errors=[meta_error(131049)])))
    )

    record = world.messages.get(message_id)
    assert record is not None
    assert record.status is MessageStatus.FAILED
    assert record.error is not None
    assert (record.error.code, record.error.error_class, record.error.source) == (
        131049,
        "recipient",
        "webhook",
    )
    events = world.published()
    (changed,) = of_type(events, "message.status")
    (failed,) = of_type(events, "message.failed")
    assert changed["status"] == "failed"
    assert failed["error"]["code"] == 131049
    assert failed["error"]["error_class"] == "recipient"
    assert failed["client_reference"] == "order-42"
    assert failed["opted_out"] is False
    assert metric_values(m.MESSAGES_FAILED) == [1.0]
    # Failed is terminal: a late delivery report does not revive the message.
    world.deliver(raw(status_webhook(status("wamid.F1", "delivered", T0 + 3))))
    record = world.messages.get(message_id)
    assert record is not None
    assert record.status is MessageStatus.FAILED


def test_131050_opts_the_recipient_out_of_marketing(world: World) -> None:
    world.sent_message(wamid="wamid.O1", category="marketing")
    world.deliver(
        raw(status_webhook(status("wamid.O1", "failed", T0 + 4, errors=[meta_error(131050)])))
    )

    contact = world.contact(USER)
    assert contact.opted_out_marketing is True
    assert contact.opt_out_source == "meta_131050"
    (failed,) = of_type(world.published(), "message.failed")
    assert failed["opted_out"] is True


def test_a_status_of_a_message_we_never_recorded_is_counted_and_passed_on(
    world: World, fresh_metrics: None
) -> None:
    body = raw(
        status_webhook(
            status("wamid.X1", "delivered", T0, callback="not-ours", recipient=None)
            | {"recipient_user_id": BSUID}
        )
    )
    world.deliver(body)
    world.deliver(body)

    # Nothing is invented in the messages table for a message that is not ours.
    assert world.messages.get("not-ours") is None
    assert world.messages.find_by_wamid("wamid.X1") is None
    assert metric_values(m.STATUSES_IGNORED) == [1.0, 1.0]
    (event,) = of_type(world.published(), "message.status")
    assert event["known"] is False
    assert event["message_id"] is None
    assert (event["wamid"], event["status"], event["recipient_user_id"]) == (
        "wamid.X1",
        "delivered",
        BSUID,
    )


def test_a_status_value_new_to_us_is_passed_on_with_the_send_reference(world: World) -> None:
    message_id = world.sent_message(wamid="wamid.P1")
    world.deliver(raw(status_webhook(status("wamid.P1", "played", T0 + 9))))

    record = world.messages.get(message_id)
    assert record is not None
    assert record.status is MessageStatus.ACCEPTED
    (event,) = of_type(world.published(), "message.status")
    assert (event["status"], event["client_reference"]) == ("played", "order-42")


def test_a_publication_that_fails_is_redone_by_the_retry_exactly_once(world: World) -> None:
    message_id = world.sent_message(wamid="wamid.R1")
    body = envelope(raw(status_webhook(status("wamid.R1", "delivered", T0 + 2))))
    broken = world.build(event_bus="no-such-bus")

    with pytest.raises(Exception, match="does not exist"):
        broken.process(body)
    # The status is applied; only its event is missing.
    record = world.messages.get(message_id)
    assert record is not None
    assert record.status is MessageStatus.DELIVERED
    assert world.published() == []

    world.processor.process(body)
    world.processor.process(body)
    assert [e["status"] for e in of_type(world.published(), "message.status")] == ["delivered"]


def test_a_status_another_invocation_is_publishing_is_retried_later(world: World) -> None:
    message_id = world.sent_message(wamid="wamid.B1")
    guards = GuardStore(world.ddb, world.settings.idempotency_table, ttl_seconds=3600)
    guards.claim(f"status#{message_id}#delivered")
    body = envelope(raw(status_webhook(status("wamid.B1", "delivered", T0 + 2))))

    with pytest.raises(GuardBusy):
        world.processor.process(body)
    assert world.published() == []

    guards.complete([f"status#{message_id}#delivered"])
    world.processor.process(body)
    assert world.published() == []


def test_a_busy_record_comes_back_in_seconds_not_after_the_visibility_timeout(
    world: World,
) -> None:
    message_id = world.sent_message(wamid="wamid.B2")
    GuardStore(world.ddb, world.settings.idempotency_table, ttl_seconds=3600).claim(
        f"status#{message_id}#read"
    )
    queue_url = world.settings.inbound_queue_url
    world.sqs.send_message(
        QueueUrl=queue_url,
        MessageBody=envelope(raw(status_webhook(status("wamid.B2", "read", T0 + 3)))),
    )
    (received,) = world.sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=600)["Messages"]
    processor = build_inbound_processor(  # back at once, so the test need not wait
        world.settings,
        InboundClients(dynamodb=world.ddb, sqs=world.sqs, s3=world.s3, events=world.events),
        busy_retry_seconds=0,
    )

    with pytest.raises(GuardBusy):
        processor.process(received["Body"], receipt_handle=received["ReceiptHandle"])

    again = world.sqs.receive_message(QueueUrl=queue_url).get("Messages", [])
    assert [m["MessageId"] for m in again] == [received["MessageId"]]


def test_received_at_is_the_webhooks_arrival(world: World) -> None:
    world.sent_message(wamid="wamid.W1")
    world.deliver(raw(status_webhook(status("wamid.W1", "sent", T0))))
    (event,) = of_type(world.published(), "message.status")
    assert event["received_at"].startswith("2026-01-01T00:01:40")
    assert RECEIVED_AT == 1_767_225_700_000


def test_131050_for_a_message_sent_elsewhere_still_opts_the_recipient_out(world: World) -> None:
    world.deliver(
        raw(status_webhook(status("wamid.O2", "failed", T0, errors=[meta_error(131050)])))
    )
    assert world.contact(USER).opted_out_marketing is True
    (failed,) = of_type(world.published(), "message.failed")
    assert (failed["known"], failed["opted_out"]) == (False, True)
