"""Send payloads: valid ones pass untouched, bad ones are refused with a reason and a path."""

from __future__ import annotations

import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pixy_whatsapp.models import (
    GraphErrorBody,
    MessageProblem,
    MessageValidationError,
    OutboundMessage,
    SendMessageResponse,
    dump_message,
    parse_message,
    validate_message,
)
from pixy_whatsapp.models import _generated_send as generated
from pixy_whatsapp.models.send import MEDIA_TYPES, MessageVariant
from pydantic import BaseModel, TypeAdapter, ValidationError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "messages"
VALID = sorted(p.name for p in FIXTURES.glob("*.json") if not p.name.startswith("invalid_"))
INVALID = {
    "invalid_text_without_body.json": [MessageProblem("$.text.body", "is required")],
    "invalid_template_without_name.json": [MessageProblem("$.template.name", "is required")],
    "invalid_image_without_id_or_link.json": [
        MessageProblem("$.image", "needs `id` (uploaded media) or `link` (URL)")
    ],
    "invalid_without_recipient.json": [
        MessageProblem(
            "$.to",
            "a recipient is required: `to` (phone number) or `recipient` (business-scoped user id)",
        )
    ],
}
BASE = {"messaging_product": "whatsapp", "to": "+15557654321"}


def test_fixtures_cover_every_message_type(fixture_json: Callable[[str], Any]) -> None:
    types = {fixture_json(f"messages/{name}").get("type") for name in VALID}

    assert types >= {
        "text",
        "image",
        "audio",
        "video",
        "document",
        "sticker",
        "location",
        "contacts",
        "reaction",
        "interactive",
        "template",
    }
    assert {p.name for p in FIXTURES.glob("invalid_*.json")} == set(INVALID)


@pytest.mark.parametrize("name", VALID)
def test_valid_fixture_passes_and_dumps_back_unchanged(
    name: str, fixture_json: Callable[[str], Any]
) -> None:
    payload = fixture_json(f"messages/{name}")

    assert validate_message(payload) == []
    if "status" not in payload:  # read receipts are bodies, not messages
        dumped = dump_message(parse_message(payload))
        assert dumped == {"type": "text", **payload} if "type" not in payload else payload


@pytest.mark.parametrize(("name", "problems"), INVALID.items())
def test_invalid_fixture_is_refused_with_reason_and_path(
    name: str, problems: list[MessageProblem], fixture_json: Callable[[str], Any]
) -> None:
    payload = fixture_json(f"messages/{name}")

    assert validate_message(payload) == problems
    with pytest.raises(MessageValidationError) as caught:
        parse_message(payload)
    assert list(caught.value.problems) == problems


@pytest.mark.parametrize("media", sorted(MEDIA_TYPES))
def test_media_needs_exactly_one_of_id_and_link(media: str) -> None:
    def problems(content: dict[str, Any]) -> list[MessageProblem]:
        return validate_message({**BASE, "type": media, media: content})

    assert problems({"id": "900000000000010"}) == []
    assert problems({"link": "https://cdn.example.com/file"}) == []
    assert problems({}) == [
        MessageProblem(f"$.{media}", "needs `id` (uploaded media) or `link` (URL)")
    ]
    assert problems({"id": "1", "link": "https://cdn.example.com/file"}) == [
        MessageProblem(f"$.{media}", "has both `id` and `link`; send one")
    ]


def test_template_and_interactive_header_media_follow_the_same_rule() -> None:
    template = {
        **BASE,
        "type": "template",
        "template": {
            "name": "order_shipped",
            "language": {"code": "en_US"},
            "components": [{"type": "header", "parameters": [{"type": "video", "video": {}}]}],
        },
    }
    interactive = {
        **BASE,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "header": {"type": "document", "document": {"caption": "no file"}},
            "body": {"text": "Pick one"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": "a", "title": "A"}}]},
        },
    }

    assert validate_message(template) == [
        MessageProblem(
            "$.template.components[0].parameters[0].video",
            "needs `id` (uploaded media) or `link` (URL)",
        )
    ]
    assert validate_message(interactive) == [
        MessageProblem(
            "$.interactive.header.document", "needs `id` (uploaded media) or `link` (URL)"
        )
    ]


def test_recipient_may_be_a_business_scoped_user_id() -> None:
    text = {"type": "text", "text": {"body": "hi"}}

    assert validate_message({"messaging_product": "whatsapp", "recipient": "US.1", **text}) == []
    assert [p.path for p in validate_message({**BASE, "to": "  ", **text})] == ["$.to"]


def test_blank_body_and_name_are_refused() -> None:
    text = {**BASE, "type": "text", "text": {"body": " "}}
    template = {**BASE, "type": "template", "template": {"name": "", "language": {"code": "en"}}}

    assert validate_message(text) == [MessageProblem("$.text.body", "must not be empty")]
    assert validate_message(template) == [MessageProblem("$.template.name", "must not be empty")]


def test_type_is_taken_from_the_single_content_key() -> None:
    message = parse_message({**BASE, "image": {"link": "https://cdn.example.com/a.png"}})

    assert isinstance(message, generated.ImageMessage)
    assert dump_message(message)["type"] == "image"
    assert validate_message({**BASE}) == [
        MessageProblem(
            "$.type",
            "is required: no single content key (text, image, template, ...) to take it from",
        )
    ]
    assert [p.path for p in validate_message({**BASE, "text": {"body": "a"}, "image": {}})] == [
        "$.type"
    ]


def test_unknown_type_and_unknown_keys_are_refused() -> None:
    (unknown_type,) = validate_message({**BASE, "type": "hologram", "hologram": {}})
    (unknown_key,) = validate_message({**BASE, "type": "text", "text": {"body": "a"}, "txt": "a"})
    (nested_key,) = validate_message({**BASE, "type": "text", "text": {"body": "a", "bdy": "a"}})

    assert unknown_type.path == "$.type"
    assert unknown_type.message.startswith("unknown message type 'hologram'; expected one of")
    assert unknown_key == MessageProblem("$.txt", "is not allowed here")
    assert nested_key == MessageProblem("$.text.bdy", "is not allowed here")


def test_callback_data_and_context_are_allowed_within_limits() -> None:
    message = {
        **BASE,
        "type": "text",
        "text": {"body": "Thanks"},
        "context": {"message_id": "wamid.PIXYTEST0001"},
        "biz_opaque_callback_data": "req-0001",
    }

    assert validate_message(message) == []
    assert dump_message(parse_message(message)) == message
    too_long = {**message, "biz_opaque_callback_data": "x" * 513}
    assert [p.path for p in validate_message(too_long)] == ["$.biz_opaque_callback_data"]


def test_messaging_product_must_be_whatsapp() -> None:
    problems = validate_message({**BASE, "messaging_product": "sms", "text": {"body": "a"}})

    assert problems == [MessageProblem("$.messaging_product", "must be 'whatsapp'")]


def test_body_that_is_not_an_object_is_one_problem() -> None:
    assert validate_message([1]) == [  # type: ignore[arg-type]
        MessageProblem("$", "a send body must be a JSON object")
    ]


def test_read_receipts_are_checked_but_are_not_messages() -> None:
    receipt = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.X"}

    assert validate_message(receipt) == []
    assert validate_message({**receipt, "message_id": None}) == [
        MessageProblem("$.message_id", "Input should be a valid string")
    ]
    assert validate_message({**receipt, "status": "delivered"}) == [
        MessageProblem("$.status", "must be 'read' (the only status a business sets)")
    ]
    with pytest.raises(MessageValidationError, match="a read receipt is not a message"):
        parse_message(receipt)


class _QueuedSend(BaseModel):
    message: OutboundMessage
    note: str | None = None


def test_outbound_message_embeds_with_the_same_rules() -> None:
    with pytest.raises(ValidationError, match=r"\$\.image: needs `id`"):
        _QueuedSend.model_validate({"message": {**BASE, "type": "image", "image": {}}})

    with pytest.raises(ValidationError) as caught:
        _QueuedSend.model_validate({"message": {**BASE, "type": "text", "text": {}}})
    # A tagged union: only the member named by `type` is tried and reported.
    assert [error["loc"] for error in caught.value.errors()] == [
        ("message", "text", "text", "body")
    ]

    queued = _QueuedSend.model_validate({"message": {**BASE, "text": {"body": "hi"}}})

    assert isinstance(queued.message, generated.TextMessage)
    # Only the keys given (plus the filled-in type) come back out, never nulls.
    assert queued.model_dump(mode="json")["message"] == {
        **BASE,
        "type": "text",
        "text": {"body": "hi"},
    }
    assert _QueuedSend.model_validate_json(queued.model_dump_json()) == queued


def test_outbound_message_is_the_generated_union() -> None:
    generated_union = generated.Message.model_fields["root"].annotation

    assert set(typing.get_args(MessageVariant)) == set(typing.get_args(generated_union))


def test_outbound_message_has_a_json_schema_for_other_languages() -> None:
    schema = TypeAdapter(OutboundMessage).json_schema()

    assert schema["discriminator"]["propertyName"] == "type"
    assert len(schema["oneOf"]) == 11


def test_response_and_error_bodies_parse_and_keep_extras() -> None:
    response = SendMessageResponse.model_validate(
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": "+15557654321", "wa_id": "15557654321"}],
            "messages": [{"id": "wamid.PIXYOUT0001", "message_status": "accepted"}],
        }
    )
    error = GraphErrorBody.model_validate(
        {
            "error": {
                "message": "(#131056) (Business Account, Consumer Account) pair rate limit hit",
                "type": "OAuthException",
                "code": 131056,
                "error_data": {"messaging_product": "whatsapp", "details": "Too many messages"},
                "fbtrace_id": "trace-1",
                "new_field": 1,
            }
        }
    )

    assert response.messages
    assert response.messages[0].message_status == "accepted"
    assert error.error.code == 131056
    assert error.error.error_data
    assert error.error.error_data.details == "Too many messages"
    assert error.model_dump()["error"]["new_field"] == 1


def test_fields_set_after_parsing_are_sent() -> None:
    message = parse_message({**BASE, "type": "text", "text": {"body": "hi"}})
    copied = message.model_copy(update={"biz_opaque_callback_data": "req-0009"})
    message.biz_opaque_callback_data = "req-0010"

    assert dump_message(copied)["biz_opaque_callback_data"] == "req-0009"
    assert dump_message(message)["biz_opaque_callback_data"] == "req-0010"
    assert "recipient_type" not in dump_message(message)  # unset, so never sent as null
