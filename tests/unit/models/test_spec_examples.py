"""Meta's own examples, read from the spec: every send body validates, every webhook parses."""

from __future__ import annotations

from typing import Any

import pytest
from pixy_whatsapp.models import (
    dump_message,
    parse_message,
    parse_webhook,
    summarize_webhook,
    validate_message,
)
from pixy_whatsapp.models.send import fill_type, is_read_receipt

pytestmark = pytest.mark.spec

SEND_PATH = "/{Version}/{Phone-Number-ID}/messages"
WEBHOOK_PATH = "/whatsapp/webhooks"
# The spec holds this many examples today; a change means new examples to look at.
SEND_EXAMPLES = 50
WEBHOOK_EXAMPLES = 16


def request_examples(spec: dict[str, Any], path: str) -> dict[str, Any]:
    """Every request-body example of ``POST path``, by example name."""
    content = spec["paths"][path]["post"]["requestBody"]["content"]
    return {
        name: example["value"]
        for media in content.values()
        for name, example in media.get("examples", {}).items()
    }


def test_send_examples_all_validate(meta_spec: dict[str, Any]) -> None:
    examples = request_examples(meta_spec, SEND_PATH)

    failures = {name: validate_message(body) for name, body in examples.items()}

    assert len(examples) == SEND_EXAMPLES
    assert {name: problems for name, problems in failures.items() if problems} == {}


def test_send_examples_dump_back_unchanged(meta_spec: dict[str, Any]) -> None:
    examples = request_examples(meta_spec, SEND_PATH)
    messages = {name: body for name, body in examples.items() if not is_read_receipt(body)}

    changed = {
        name: dump_message(parse_message(body))
        for name, body in messages.items()
        if dump_message(parse_message(body)) != fill_type(body)
    }

    # One example is a read receipt (same endpoint), the rest are messages.
    assert len(messages) == SEND_EXAMPLES - 1
    assert changed == {}


def test_send_examples_without_type_get_it_filled_in(meta_spec: dict[str, Any]) -> None:
    examples = request_examples(meta_spec, SEND_PATH)
    untyped = {
        name: dump_message(parse_message(body))["type"]
        for name, body in examples.items()
        if "type" not in body and not is_read_receipt(body)
    }

    assert untyped == {
        "Send Reply to List Message": "interactive",
        "Send Text Message with Preview URL": "text",
    }


def test_webhook_examples_all_parse(meta_spec: dict[str, Any]) -> None:
    examples = request_examples(meta_spec, WEBHOOK_PATH)

    summaries = {name: summarize_webhook(parse_webhook(body)) for name, body in examples.items()}

    assert len(examples) == WEBHOOK_EXAMPLES
    # 13 examples carry one inbound message each; 3 are group lifecycle updates.
    assert sum(summary.messages for summary in summaries.values()) == 13
    assert sum(len(summary.fields) for summary in summaries.values()) == WEBHOOK_EXAMPLES
    assert {name: s.unknown_types for name, s in summaries.items() if s.unknown_types} == {}


def test_webhook_examples_keep_every_key(meta_spec: dict[str, Any]) -> None:
    examples = request_examples(meta_spec, WEBHOOK_PATH)

    changed = {
        name
        for name, body in examples.items()
        if parse_webhook(body).model_dump(mode="json", by_alias=True) != body
    }

    # Both group examples send participant numbers as JSON numbers; they are read as the
    # strings the spec declares. Nothing else changes.
    assert changed == {"Group Create Message", "Group Remove Participants"}
