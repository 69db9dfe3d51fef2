"""Webhook fixtures parse with exact counts, keep what they do not know, and walk cleanly."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pixy_whatsapp.models import (
    PhoneNumberQualityUpdate,
    TemplateStatusUpdate,
    WebhookParseError,
    WebhookSummary,
    iter_changes,
    iter_errors,
    iter_messages,
    iter_statuses,
    parse_webhook,
    read_update,
    summarize_webhook,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
WABA, PHONE_NUMBER_ID = "110000000000001", "120000000000001"
USER = "15557654321"


def summary(
    fields: tuple[str, ...] = ("messages",),
    messages: int = 0,
    statuses: int = 0,
    errors: int = 0,
    unknown_types: tuple[str, ...] = (),
) -> WebhookSummary:
    return WebhookSummary(fields, messages, statuses, errors, unknown_types)


EXPECTED = {
    "text.json": summary(messages=1),
    "text_reply_with_referral.json": summary(messages=1),
    "media.json": summary(messages=5),
    "location_contacts_reaction.json": summary(messages=3),
    "interactive_replies.json": summary(messages=3),
    "button.json": summary(messages=1),
    "order.json": summary(messages=1),
    "system.json": summary(messages=1),
    "unsupported.json": summary(messages=1, errors=1),
    "unknown_type.json": summary(messages=2, unknown_types=("message:poll_response",)),
    "statuses.json": summary(statuses=4, errors=1),
    "statuses_unlisted.json": summary(
        statuses=2, unknown_types=("status:deleted", "status:played")
    ),
    "bsuid_only.json": summary(fields=("messages", "messages"), messages=1, statuses=1),
    "value_errors.json": summary(errors=2),
    "template_status_update.json": summary(fields=("message_template_status_update",)),
    "phone_number_quality_update.json": summary(fields=("phone_number_quality_update",)),
    "batch_two_wabas.json": summary(fields=("messages", "messages"), messages=1, statuses=1),
}


def test_every_fixture_has_expectations() -> None:
    assert {path.name for path in (FIXTURES / "webhooks").glob("*.json")} == set(EXPECTED)


@pytest.mark.parametrize(("name", "expected"), EXPECTED.items())
def test_fixture_summary_is_exact(name: str, expected: WebhookSummary) -> None:
    raw = (FIXTURES / "webhooks" / name).read_bytes()

    assert summarize_webhook(parse_webhook(raw)) == expected


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_dumps_back_to_what_meta_sent(name: str) -> None:
    raw = (FIXTURES / "webhooks" / name).read_text()

    dumped = parse_webhook(raw).model_dump(mode="json", by_alias=True)

    assert dumped == json.loads(raw)


def test_unknown_types_and_fields_are_kept(fixture_json: Callable[[str], Any]) -> None:
    payload = parse_webhook(fixture_json("webhooks/unknown_type.json"))
    received = list(iter_messages(payload))
    future, text = received[0].message, received[1].message
    value = payload.entry[0].changes[0].value  # type: ignore[index]

    assert future.type == "poll_response"
    assert future.model_extra == {
        "poll_response": {"poll_id": "poll-7", "selected_options": ["Tuesday"]},
        "new_top_level_flag": True,
    }
    assert text.text is not None
    assert text.text.body == "and one more thing"
    assert text.text.model_extra == {"formatting": "plain"}
    assert value is not None
    assert value.model_extra == {"experimental_block": {"k": 1}}
    assert received[0].contact is not None
    assert received[0].contact.model_dump()["identity_key_hash"] == "aWRlbnRpdHk="
    assert payload.entry[0].time == 1767225600  # type: ignore[index]


def test_statuses_carry_ids_callback_data_pricing_and_errors(
    fixture_json: Callable[[str], Any],
) -> None:
    received = list(iter_statuses(parse_webhook(fixture_json("webhooks/statuses.json"))))

    assert [r.status.status for r in received] == ["sent", "delivered", "read", "failed"]
    assert {(r.waba_id, r.phone_number_id) for r in received} == {(WABA, PHONE_NUMBER_ID)}
    assert [r.status.biz_opaque_callback_data for r in received] == ["req-0001"] * 3 + ["req-0002"]
    sent, failed = received[0].status, received[3].status
    assert sent.timestamp == "1767225601"
    assert sent.pricing is not None
    assert (sent.pricing.pricing_model, sent.pricing.type, sent.pricing.category) == (
        "PMP",
        "regular",
        "utility",
    )
    assert sent.conversation is not None
    assert sent.conversation.origin is not None
    assert sent.conversation.origin.type == "utility"
    assert failed.errors is not None
    assert failed.errors[0].code == 131049
    assert failed.errors[0].error_data is not None
    assert (
        failed.errors[0].error_data.details == "Meta chose not to deliver this marketing message."
    )


def test_phone_less_user_parses_with_business_scoped_ids(
    fixture_json: Callable[[str], Any],
) -> None:
    payload = parse_webhook(fixture_json("webhooks/bsuid_only.json"))
    (message,) = iter_messages(payload)
    (status,) = iter_statuses(payload)

    assert message.message.from_ is None
    assert message.message.from_user_id == "PT.1300000000000000001"
    assert message.contact is not None
    assert message.contact.wa_id is None
    assert message.contact.user_id == "PT.1300000000000000001"
    assert message.contact.profile is not None
    assert message.contact.profile.username == "@mira.k"
    assert status.status.recipient_id is None
    assert status.status.recipient_user_id == "PT.1300000000000000001"
    assert status.status.biz_opaque_callback_data == "req-0003"


def test_messages_come_with_their_sender(fixture_json: Callable[[str], Any]) -> None:
    received = list(iter_messages(parse_webhook(fixture_json("webhooks/media.json"))))

    assert [r.message.type for r in received] == ["image", "audio", "video", "document", "sticker"]
    assert {r.contact.wa_id if r.contact else None for r in received} == {USER}
    assert {(r.waba_id, r.phone_number_id) for r in received} == {(WABA, PHONE_NUMBER_ID)}
    image, audio, _video, document, sticker = (r.message for r in received)
    assert image.image is not None
    assert image.image.caption == "Broken lid"
    assert audio.audio is not None
    assert audio.audio.voice is True
    assert document.document is not None
    assert document.document.filename == "invoice-2026-01.pdf"
    assert sticker.sticker is not None
    assert sticker.sticker.animated is False


def test_system_message_has_no_contact(fixture_json: Callable[[str], Any]) -> None:
    (received,) = iter_messages(parse_webhook(fixture_json("webhooks/system.json")))

    assert received.contact is None
    assert received.message.system is not None
    assert received.message.system.type == "user_changed_number"
    assert received.message.system.wa_id == "15557650000"


def test_inbound_payloads_are_typed(fixture_json: Callable[[str], Any]) -> None:
    replies = [
        r.message.interactive
        for r in iter_messages(parse_webhook(fixture_json("webhooks/interactive_replies.json")))
    ]
    (order,) = iter_messages(parse_webhook(fixture_json("webhooks/order.json")))
    location, contacts, reaction = (
        r.message
        for r in iter_messages(
            parse_webhook(fixture_json("webhooks/location_contacts_reaction.json"))
        )
    )

    assert [reply.type if reply else None for reply in replies] == [
        "button_reply",
        "list_reply",
        "nfm_reply",
    ]
    assert replies[0]
    assert replies[0].button_reply
    assert replies[0].button_reply.id == "confirm-delivery"
    assert replies[1]
    assert replies[1].list_reply
    assert replies[1].list_reply.description == "08:00 to 12:00"
    assert replies[2]
    assert replies[2].nfm_reply
    assert json.loads(replies[2].nfm_reply.response_json or "") == {
        "flow_token": "ft-1",
        "rating": "5",
    }
    assert order.message.order
    assert order.message.order.product_items
    assert [item.quantity for item in order.message.order.product_items] == [2, 1]
    assert location.location
    assert location.location.latitude == pytest.approx(41.14961)
    assert contacts.contacts
    assert contacts.contacts[0].phones
    assert contacts.contacts[0].phones[0].type == "MOBILE"
    assert reaction.reaction
    assert reaction.reaction.emoji == "\u2764\ufe0f"


def test_errors_are_found_wherever_meta_puts_them(fixture_json: Callable[[str], Any]) -> None:
    def errors(name: str) -> list[tuple[str, str | None, int | None]]:
        payload = parse_webhook(fixture_json(f"webhooks/{name}"))
        return [(e.source, e.message_id, e.error.code) for e in iter_errors(payload)]

    assert errors("statuses.json") == [("status", "wamid.PIXYOUT0011", 131049)]
    assert errors("unsupported.json") == [("message", "wamid.PIXYTEST0017", 131051)]
    assert errors("value_errors.json") == [("value", None, 131000), ("value", None, 130497)]


def test_batches_keep_each_entry_with_its_account(fixture_json: Callable[[str], Any]) -> None:
    payload = parse_webhook(fixture_json("webhooks/batch_two_wabas.json"))

    (message,) = iter_messages(payload)
    (status,) = iter_statuses(payload)

    assert (message.waba_id, message.phone_number_id) == (WABA, PHONE_NUMBER_ID)
    assert (status.waba_id, status.phone_number_id) == ("110000000000002", "120000000000002")
    assert [entry.id for entry, _ in iter_changes(payload)] == [WABA, "110000000000002"]


def test_account_updates_get_a_typed_view(fixture_json: Callable[[str], Any]) -> None:
    template = parse_webhook(fixture_json("webhooks/template_status_update.json"))
    quality = parse_webhook(fixture_json("webhooks/phone_number_quality_update.json"))
    text = parse_webhook(fixture_json("webhooks/text.json"))

    (template_change,) = (change for _, change in iter_changes(template))
    (quality_change,) = (change for _, change in iter_changes(quality))
    (text_change,) = (change for _, change in iter_changes(text))

    template_update = read_update(template_change)
    quality_update = read_update(quality_change)
    assert isinstance(template_update, TemplateStatusUpdate)
    assert template_update.event == "APPROVED"
    assert template_update.message_template_id == "1500000000000001"
    assert template_update.message_template_name == "order_shipped"
    assert isinstance(quality_update, PhoneNumberQualityUpdate)
    assert (quality_update.old_limit, quality_update.current_limit) == ("TIER_2K", "TIER_10K")
    assert read_update(text_change) is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "body is not JSON (Expecting value at char 0)"),
        (b"\xff\xfe\x00", "body is not UTF-8 text"),
        ("[1, 2]", "body is not a JSON object (got an array)"),
        ('{"object": "page", "entry": []}', "`object` is 'page', not 'whatsapp_business_account'"),
        ('{"entry": []}', "`object` is missing, not 'whatsapp_business_account'"),
        ('{"object": "whatsapp_business_account"}', "`entry` is missing"),
        (
            '{"object": "whatsapp_business_account", "entry": {}}',
            "`entry` is not a list (got an object)",
        ),
        (
            '{"object": "whatsapp_business_account", "entry": [{"changes": "none"}]}',
            "$.entry[0].changes: Input should be a valid list",
        ),
    ],
)
def test_bodies_that_are_not_webhooks_give_a_one_line_reason(
    body: bytes | str, reason: str
) -> None:
    with pytest.raises(WebhookParseError) as caught:
        parse_webhook(body)

    assert caught.value.reason.startswith(reason)
    assert "\n" not in caught.value.reason


def test_bytes_text_and_decoded_bodies_parse_the_same(fixture_json: Callable[[str], Any]) -> None:
    raw = (FIXTURES / "webhooks" / "text.json").read_bytes()

    parsed = [parse_webhook(raw), parse_webhook(raw.decode()), parse_webhook(json.loads(raw))]

    assert parsed[0] == parsed[1] == parsed[2]
