"""Template, number and account updates: events, and throughput into the limits."""

from __future__ import annotations

from pixy_whatsapp.limits import DynamoDBLimitStore

from .payloads import (
    DISPLAY_NUMBER,
    NUMBER_ID,
    T0,
    WABA,
    field_webhook,
    message_webhook,
    messages_change,
    raw,
    text_message,
    webhook,
)
from .support import World, envelope, of_type


def _throughput_upgrade(display: str = DISPLAY_NUMBER, at: int = T0) -> bytes:
    return raw(
        field_webhook(
            "phone_number_quality_update",
            {
                "display_phone_number": display,
                "event": "THROUGHPUT_UPGRADE",
                "current_limit": "TIER_UNLIMITED",
            },
            time=at,
        )
    )


def _stored_mps(world: World) -> float | None:
    return DynamoDBLimitStore(world.ddb, world.settings.control_table).read_number_mps(NUMBER_ID)


def test_a_throughput_upgrade_sets_the_numbers_limit_to_1000_mps(world: World) -> None:
    # Any messages webhook teaches the processor which id the display number belongs to.
    world.deliver(raw(message_webhook(text_message("wamid.U0", "hi", T0 - 10))))
    world.published()

    world.deliver(_throughput_upgrade())

    assert _stored_mps(world) == 1000.0
    (event,) = of_type(world.published(), "number.updated")
    assert (event["event"], event["phone_number_id"], event["mps"]) == (
        "THROUGHPUT_UPGRADE",
        NUMBER_ID,
        1000.0,
    )
    assert event["current_limit"] == "TIER_UNLIMITED"


def test_the_number_directory_outlives_the_environment_that_learned_it(world: World) -> None:
    world.deliver(raw(message_webhook(text_message("wamid.U1", "hi", T0 - 10))))
    # A cold start: nothing in memory, the control table still knows the number.
    world.build().process(envelope(_throughput_upgrade()))
    assert _stored_mps(world) == 1000.0


def test_a_throughput_change_for_a_number_never_seen_is_still_reported(world: World) -> None:
    world.deliver(_throughput_upgrade(display="15559990000"))
    assert _stored_mps(world) is None
    (event,) = of_type(world.published(), "number.updated")
    assert (event["phone_number_id"], event["mps"]) == (None, None)
    assert event["display_phone_number"] == "15559990000"


def test_a_messaging_limit_change_is_an_event_and_leaves_throughput_alone(world: World) -> None:
    world.deliver(raw(message_webhook(text_message("wamid.U2", "hi", T0 - 10))))
    world.deliver(
        raw(
            field_webhook(
                "phone_number_quality_update",
                {
                    "display_phone_number": DISPLAY_NUMBER,
                    "event": "UPGRADE",
                    "old_limit": "TIER_2K",
                    "current_limit": "TIER_10K",
                },
            )
        )
    )
    assert _stored_mps(world) is None
    (event,) = of_type(world.published(), "number.updated")
    assert (event["event"], event["old_limit"], event["current_limit"]) == (
        "UPGRADE",
        "TIER_2K",
        "TIER_10K",
    )


def test_a_template_status_update_becomes_template_updated(world: World) -> None:
    value = {
        "event": "APPROVED",
        "message_template_id": 1500000000000001,
        "message_template_name": "order_shipped",
        "message_template_language": "en_US",
        "reason": "NONE",
        "message_template_category": "UTILITY",
    }
    world.deliver(raw(field_webhook("message_template_status_update", value)))

    (event,) = of_type(world.published(), "template.updated")
    assert event["field"] == "message_template_status_update"
    assert (event["event"], event["template_id"], event["template_name"]) == (
        "APPROVED",
        "1500000000000001",
        "order_shipped",
    )
    assert (event["language"], event["category"], event["waba_id"]) == ("en_US", "UTILITY", WABA)
    assert event["payload"] == value
    assert event["occurred_at"].startswith("2026-01-01T00:00:00")


def test_a_redelivered_update_is_published_once(world: World) -> None:
    body = raw(
        field_webhook(
            "template_category_update",
            {
                "message_template_id": 7,
                "message_template_name": "promo",
                "previous_category": "UTILITY",
                "new_category": "MARKETING",
            },
        )
    )
    world.deliver(body)
    world.deliver(body)
    (event,) = of_type(world.published(), "template.updated")
    assert (event["previous_category"], event["new_category"]) == ("UTILITY", "MARKETING")


def test_value_level_errors_become_account_updated_with_their_classification(
    world: World,
) -> None:
    errors = [
        {"code": 131000, "title": "Something went wrong", "message": "Something went wrong"},
        {"code": 130497, "title": "Business account is restricted from messaging users"},
    ]
    world.deliver(raw(webhook(messages_change(errors=errors))))

    (event,) = of_type(world.published(), "account.updated")
    assert (event["field"], event["phone_number_id"]) == ("messages", NUMBER_ID)
    assert [e["code"] for e in event["errors"]] == [131000, 130497]
    assert all(e["error_class"] for e in event["errors"])


def test_an_account_update_and_an_unknown_field_are_passed_on(world: World) -> None:
    world.deliver(
        raw(
            field_webhook(
                "account_update", {"event": "ACCOUNT_VIOLATION", "violation_info": {"x": 1}}
            )
        )
    )
    world.deliver(raw(field_webhook("brand_new_field", {"anything": ["kept"]})))

    first, second = of_type(world.published(), "account.updated")
    assert (first["field"], first["event"]) == ("account_update", "ACCOUNT_VIOLATION")
    assert first["payload"]["violation_info"] == {"x": 1}
    assert (second["field"], second["payload"]) == ("brand_new_field", {"anything": ["kept"]})
