"""hypothesis on `parse_webhook`: nothing but `WebhookParseError` escapes, nothing unknown is lost.

Bodies are arbitrary bytes, arbitrary JSON, JSON shaped like a webhook with anything in
every record's place, and hostile JSON (nesting thousands deep, numbers thousands of
digits long). What parses must also walk (`iter_*`, `summarize_webhook`) and dump again.
Unknown keys added anywhere in Meta's own payloads (the fixtures) must come back out of
`model_dump` exactly as they went in.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pixy_whatsapp.models import (
    WebhookParseError,
    iter_changes,
    iter_errors,
    iter_messages,
    iter_statuses,
    parse_webhook,
    read_update,
    summarize_webhook,
)

from tests.fuzz.sizes import fuzz_examples
from tests.fuzz.strategies import HOSTILE_JSON, SQS_TEXT, dumps, json_values

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"
WHATSAPP = "whatsapp_business_account"

FUZZ = settings(
    max_examples=fuzz_examples(100),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)


def _parses_or_refuses(body: bytes | str | dict[str, Any]) -> bool:
    """True when `body` parsed (and walks and dumps), False when refused with a reason."""
    reason: str | None = None
    try:
        payload = parse_webhook(body)
    except WebhookParseError as refused:
        reason = refused.reason
    if reason is not None:
        assert reason.strip(), "refused without a reason"
        return False
    # The inbound processor walks and dumps what parsed: none of it may raise either.
    summarize_webhook(payload)
    for _entry, change in iter_changes(payload):
        read_update(change)
    list(iter_messages(payload))
    list(iter_statuses(payload))
    list(iter_errors(payload))
    payload.model_dump(mode="json", by_alias=True)
    return True


def _webhook(entries: Any) -> dict[str, Any]:
    return {"object": WHATSAPP, "entry": entries}


# A webhook's shape with anything in every record's place.
_ANY = json_values(max_leaves=8)
_VALUE = st.fixed_dictionaries(
    {},
    optional={
        "messaging_product": _ANY,
        "metadata": _ANY,
        "contacts": st.lists(_ANY, max_size=2) | _ANY,
        "messages": st.lists(_ANY, max_size=2) | _ANY,
        "statuses": st.lists(_ANY, max_size=2) | _ANY,
        "errors": st.lists(_ANY, max_size=2) | _ANY,
        "event": _ANY,
        "message_template_id": _ANY,
        "current_limit": _ANY,
    },
)
_CHANGE = st.fixed_dictionaries({}, optional={"field": _ANY, "value": _VALUE | _ANY})
_ENTRY = st.fixed_dictionaries({}, optional={"id": _ANY, "changes": st.lists(_CHANGE, max_size=3)})
WEBHOOK_SHAPED = st.lists(_ENTRY | _ANY, max_size=3).map(_webhook)


@FUZZ
@given(body=st.binary(max_size=4096))
def test_arbitrary_bytes_are_refused_with_a_reason(body: bytes, fuzz_tally: Counter[str]) -> None:
    fuzz_tally["parse_webhook: arbitrary bytes"] += 1
    _parses_or_refuses(body)


@FUZZ
@given(document=json_values(max_leaves=30))
def test_arbitrary_json_text_is_read_or_refused(document: Any, fuzz_tally: Counter[str]) -> None:
    parsed = _parses_or_refuses(dumps(document))
    fuzz_tally[f"parse_webhook: arbitrary JSON ({'read' if parsed else 'refused'})"] += 1
    _parses_or_refuses(dumps(document).encode("utf-8"))


@FUZZ
@given(document=WEBHOOK_SHAPED)
def test_webhook_shaped_json_with_anything_inside_is_read_or_refused(
    document: dict[str, Any], fuzz_tally: Counter[str]
) -> None:
    parsed = _parses_or_refuses(dumps(document))
    fuzz_tally[f"parse_webhook: webhook-shaped JSON ({'read' if parsed else 'refused'})"] += 1
    # Decoded JSON goes the same way (the inbound processor may hand a mapping over).
    _parses_or_refuses(document)


@FUZZ
@given(
    hostile=HOSTILE_JSON,
    place=st.sampled_from(["top", "entry", "value", "message", "id"]),
)
def test_deep_nesting_and_huge_numbers_are_refused_not_crashed(
    hostile: str, place: str, fuzz_tally: Counter[str]
) -> None:
    fuzz_tally["parse_webhook: deep nesting, huge numbers"] += 1
    template = {
        "top": "@@",
        "entry": '{"object":"%s","entry":[@@]}',
        "value": '{"object":"%s","entry":[{"changes":[{"value":{"x":@@}}]}]}',
        "message": '{"object":"%s","entry":[{"changes":[{"value":{"messages":[{"x":@@}]}}]}]}',
        "id": '{"object":"%s","entry":[{"id":@@}]}',
    }[place]
    body = template.replace("%s", WHATSAPP).replace("@@", hostile)
    _parses_or_refuses(body)
    _parses_or_refuses(body.encode())


# -- unknown fields are kept -------------------------------------------------------------

FIXTURE_NAMES = sorted(path.name for path in FIXTURES.glob("*.json"))


def _objects(document: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every JSON object in `document`."""
    found: list[tuple[Any, ...]] = []
    if isinstance(document, dict):
        found.append(path)
        for key, value in document.items():
            found.extend(_objects(value, (*path, key)))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found.extend(_objects(value, (*path, index)))
    return found


def _at(document: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        document = document[step]
    return document


UNKNOWN_KEY = st.one_of(
    st.from_regex(r"\Ax_[a-z0-9_]{1,20}\Z"),
    SQS_TEXT.map(lambda text: f"unknown {text}"),
)


@FUZZ
@given(
    name=st.sampled_from(FIXTURE_NAMES),
    additions=st.lists(
        st.tuples(st.integers(min_value=0), UNKNOWN_KEY, json_values(max_leaves=10)),
        min_size=1,
        max_size=5,
    ),
    as_bytes=st.booleans(),
)
def test_unknown_fields_anywhere_in_a_real_payload_are_kept(
    name: str,
    additions: list[tuple[int, str, Any]],
    as_bytes: bool,
    fuzz_tally: Counter[str],
) -> None:
    fuzz_tally["parse_webhook: unknown fields kept"] += 1
    document = json.loads((FIXTURES / name).read_text())
    objects = _objects(document)
    for index, key, value in additions:
        _at(document, objects[index % len(objects)])[key] = copy.deepcopy(value)
    text = dumps(document)

    payload = parse_webhook(text.encode() if as_bytes else text)

    assert payload.model_dump(mode="json", by_alias=True) == json.loads(text)


@pytest.mark.parametrize("depth", [90, 200, 900, 5000])
def test_nesting_past_what_can_be_dumped_again_is_refused(depth: int) -> None:
    body = _webhook([{"changes": [{"value": {"x": "@"}}]}])
    text = json.dumps(body).replace('"@"', "[" * depth + "]" * depth)
    assert _parses_or_refuses(text) is (depth == 90)


# The inputs the fuzz first failed on (RecursionError and ValueError escaped).
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="nesting-past-the-parser"),
        pytest.param(b"1" * 5000, id="5000-digit-number"),
        pytest.param(
            b'{"object":"whatsapp_business_account","entry":[{"id":' + b"9" * 5000 + b"}]}",
            id="5000-digit-id",
        ),
    ],
)
def test_inputs_that_once_escaped_as_other_errors_are_refused(body: bytes) -> None:
    assert _parses_or_refuses(body) is False


def test_decoded_json_with_an_unconvertible_number_is_refused() -> None:
    document = _webhook([{"changes": [{"value": {"messages": [{"timestamp": 10**5000}]}}]}])
    assert _parses_or_refuses(document) is False
