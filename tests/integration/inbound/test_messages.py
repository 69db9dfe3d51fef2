"""Inbound messages: events, the customer-service window, opt-out keywords."""

from __future__ import annotations

import pytest
from pixy_whatsapp import metric_names as m

from .payloads import (
    BSUID,
    NUMBER_ID,
    T0,
    USER,
    WABA,
    field_webhook,
    message_webhook,
    raw,
    text_message,
)
from .support import World, envelope, metric_values, of_type


def test_an_inbound_message_becomes_an_event_and_opens_the_window(
    world: World, fresh_metrics: None
) -> None:
    world.deliver(raw(message_webhook(text_message("wamid.IN1", "where is my order?", T0))))

    (event,) = of_type(world.published(), "message.received")
    assert event["wamid"] == "wamid.IN1"
    assert event["type"] == "text"
    assert event["text"] == "where is my order?"
    assert (event["from_phone"], event["profile_name"]) == (USER, "Ana Costa")
    assert (event["waba_id"], event["phone_number_id"]) == (WABA, NUMBER_ID)
    assert event["payload"]["text"] == {"body": "where is my order?"}
    assert event["opt_change"] is None
    contact = world.contact(USER)
    assert contact.last_inbound_at_ms == T0 * 1000
    assert contact.window_open(T0 * 1000 + 3_600_000)
    assert metric_values(m.MESSAGES_RECEIVED) == [1.0]


def test_a_user_without_a_phone_number_is_keyed_by_their_user_id(world: World) -> None:
    body = message_webhook(
        text_message("wamid.IN2", "hello from a username", T0, sender=None, user_id=BSUID),
        sender=None,
        user_id=BSUID,
    )
    world.deliver(raw(body))

    (event,) = of_type(world.published(), "message.received")
    assert (event["from_phone"], event["from_user_id"]) == (None, BSUID)
    assert world.contact(BSUID).last_inbound_at_ms == T0 * 1000


def test_a_message_with_both_ids_keeps_the_window_under_each(world: World) -> None:
    body = message_webhook(
        text_message("wamid.IN3", "hi", T0, sender=USER, user_id=BSUID), user_id=BSUID
    )
    world.deliver(raw(body))
    assert world.contact(USER).last_inbound_at_ms == T0 * 1000
    assert world.contact(BSUID).last_inbound_at_ms == T0 * 1000


def test_a_duplicate_inbound_message_is_published_once(world: World) -> None:
    body = raw(message_webhook(text_message("wamid.IN4", "twice", T0)))
    world.deliver(body)
    world.deliver(body)
    # Meta may batch the same message into a different body on a retry.
    world.deliver(
        raw(
            message_webhook(
                text_message("wamid.IN4", "twice", T0), text_message("wamid.IN5", "new", T0 + 1)
            )
        )
    )
    events = of_type(world.published(), "message.received")
    assert [e["wamid"] for e in events] == ["wamid.IN4", "wamid.IN5"]


def test_an_older_message_does_not_move_the_window_back(world: World) -> None:
    world.deliver(raw(message_webhook(text_message("wamid.IN6", "later", T0 + 100))))
    world.deliver(raw(message_webhook(text_message("wamid.IN7", "earlier", T0))))
    assert world.contact(USER).last_inbound_at_ms == (T0 + 100) * 1000


def test_a_reply_to_our_message_carries_the_original_sends_reference(world: World) -> None:
    message_id = world.sent_message(wamid="wamid.OURS")
    reply = text_message(
        "wamid.IN8", "yes please", T0, context={"from": "1555", "id": "wamid.OURS"}
    )
    world.deliver(raw(message_webhook(reply)))

    (event,) = of_type(world.published(), "message.received")
    assert event["in_reply_to"] == {
        "wamid": "wamid.OURS",
        "message_id": message_id,
        "client_reference": "order-42",
        "metadata": {"campaign": "spring", "batch": 7},
    }


def test_a_message_type_new_to_us_is_passed_on_whole(world: World) -> None:
    poll = {
        "from": USER,
        "id": "wamid.IN9",
        "timestamp": str(T0),
        "type": "poll_response",
        "poll_response": {"poll_id": "poll-7", "selected_options": ["Tuesday"]},
        "new_top_level_flag": True,
    }
    world.deliver(raw(message_webhook(poll)))

    (event,) = of_type(world.published(), "message.received")
    assert event["type"] == "poll_response"
    assert event["payload"]["poll_response"] == poll["poll_response"]
    assert event["payload"]["new_top_level_flag"] is True
    assert world.contact(USER).last_inbound_at_ms == T0 * 1000


@pytest.mark.parametrize("word", ["STOP", "  stop ", "Baja", "PARE"])
def test_an_opt_out_keyword_opts_the_contact_out(
    world: World, fresh_metrics: None, word: str
) -> None:
    world.deliver(raw(message_webhook(text_message("wamid.S1", word, T0))))

    contact = world.contact(USER)
    assert contact.opted_out_marketing is True
    assert contact.opt_out_source == "keyword"
    (event,) = of_type(world.published(), "message.received")
    assert event["opt_change"] == "opt_out"
    assert metric_values(m.OPT_OUTS) == [1.0]


def test_a_keyword_inside_a_sentence_is_not_an_opt_out(world: World) -> None:
    world.deliver(raw(message_webhook(text_message("wamid.S2", "please don't stop", T0))))
    assert world.contact(USER).opted_out_marketing is False


@pytest.mark.parametrize("word", ["START", "resume"])
def test_an_opt_in_keyword_clears_the_opt_out(world: World, word: str) -> None:
    world.deliver(raw(message_webhook(text_message("wamid.S3", "stop", T0))))
    world.deliver(raw(message_webhook(text_message("wamid.S4", word, T0 + 60))))

    contact = world.contact(USER)
    assert contact.opted_out_marketing is False
    assert contact.opted_out_at_ms == (T0 + 60) * 1000


def test_a_late_stop_does_not_undo_a_newer_start(world: World) -> None:
    world.deliver(raw(message_webhook(text_message("wamid.S5", "start", T0 + 60))))
    world.deliver(raw(message_webhook(text_message("wamid.S6", "stop", T0))))
    assert world.contact(USER).opted_out_marketing is False


def test_the_keywords_come_from_the_settings(world: World) -> None:
    processor = world.build(opt_out_keywords=("basta",), opt_in_keywords=("ancora",))
    processor.process(envelope(raw(message_webhook(text_message("wamid.S7", "Basta", T0)))))
    assert world.contact(USER).opted_out_marketing is True
    processor.process(envelope(raw(message_webhook(text_message("wamid.S8", "stop", T0 + 1)))))
    processor.process(envelope(raw(message_webhook(text_message("wamid.S9", "ancora", T0 + 2)))))
    assert world.contact(USER).opted_out_marketing is False


def test_a_quick_reply_payload_can_be_the_keyword(world: World) -> None:
    button = {
        "from": USER,
        "id": "wamid.S10",
        "timestamp": str(T0),
        "type": "button",
        "button": {"payload": "STOP", "text": "Stop promotions"},
    }
    world.deliver(raw(message_webhook(button)))
    assert world.contact(USER).opted_out_marketing is True
    (event,) = of_type(world.published(), "message.received")
    assert event["text"] == "Stop promotions"


def test_metas_user_preferences_webhook_stops_and_resumes_marketing(world: World) -> None:
    def preference(value: str, at: int) -> bytes:
        return raw(
            field_webhook(
                "user_preferences",
                {
                    "messaging_product": "whatsapp",
                    "metadata": {
                        "display_phone_number": "15550001111",
                        "phone_number_id": NUMBER_ID,
                    },
                    "contacts": [{"wa_id": USER}],
                    "user_preferences": [
                        {
                            "wa_id": USER,
                            "detail": f"User requested to {value} marketing messages",
                            "category": "marketing_messages",
                            "value": value,
                            "timestamp": at,
                        }
                    ],
                },
                time=at,
            )
        )

    world.deliver(preference("stop", T0))
    contact = world.contact(USER)
    assert (contact.opted_out_marketing, contact.opt_out_source) == (
        True,
        "meta_user_preferences",
    )
    world.deliver(preference("resume", T0 + 10))
    assert world.contact(USER).opted_out_marketing is False
    events = of_type(world.published(), "account.updated")
    assert [e["field"] for e in events] == ["user_preferences", "user_preferences"]


def test_metas_older_system_message_for_a_preference_change_is_honoured(world: World) -> None:
    notice = {
        "from": USER,
        "id": "wamid.SYS1",
        "timestamp": str(T0),
        "type": "system",
        "system": {
            "body": "User requested to stop marketing messages",
            "marketing": "stop",
            "type": "user_preference_changed",
        },
    }
    world.deliver(raw(message_webhook(notice)))

    contact = world.contact(USER)
    assert (contact.opted_out_marketing, contact.opt_out_source) == (
        True,
        "meta_user_preferences",
    )
    # Meta's notice is not the user writing: the customer-service window stays closed.
    assert contact.last_inbound_at_ms is None
    (event,) = of_type(world.published(), "message.received")
    assert (event["type"], event["opt_change"]) == ("system", "opt_out")
