"""Malformed bodies from other systems on the outbound FIFO queue, next to valid ones.

Each example puts a few valid send requests and a few malformed bodies (not JSON, not an
object, wrong types, missing fields, another contract version, invalid message objects,
unknown keys, huge strings, odd unicode, deep nesting and huge numbers) on the queue in
a random order, then runs the sender (moto, the Graph simulator) until the queue is
empty. Every malformed body must reach the DLQ, unchanged, with a non-empty `reason`
attribute; every valid neighbour must reach Meta exactly once; no batch may raise.

moto takes anything SQS would refuse, so the sender's SQS client here checks SQS's own
rules before each send: the characters a body and a string attribute may hold, and the
message size with its attributes counted (262,144 bytes, the stack's queues).
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from pixy_whatsapp.outbound import SendRequest
from pixy_whatsapp.outbound.contract import CONTRACT_VERSION
from pixy_whatsapp.sender.records import (
    DLQ_MAX_MESSAGE_BYTES,
    dead_letter_attributes,
    parse_record,
)
from pydantic import ValidationError

from infra.local.graph_simulator import PairLimit, PhoneNumber, SimulatorConfig, run_simulator
from tests.fuzz.sizes import fuzz_examples
from tests.fuzz.strategies import (
    HOSTILE_JSON,
    JSON_TEXT,
    ODD_TEXT,
    SQS_ALPHABET,
    SQS_TEXT,
    json_values,
)
from tests.integration.sender.harness import NUMBER, TOKEN, WABA, SenderHarness

# The stack's source queues (infra/topology.py: max_message_bytes; their DLQs take 1 MiB);
# SQS counts the body and every attribute's name, type and value.
MAX_MESSAGE_BYTES = 262_144
_SQS_FORBIDDEN = {c for c in range(0x20) if c not in (0x9, 0xA, 0xD)} | {0xFFFE, 0xFFFF}

FUZZ = settings(
    max_examples=fuzz_examples(25),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)

_serial = itertools.count()


def _sqs_text_problem(text: str) -> str | None:
    for char in text:
        code = ord(char)
        if code in _SQS_FORBIDDEN or 0xD800 <= code <= 0xDFFF:
            return f"invalid character U+{code:04X}"
    return None


def message_size(params: dict[str, Any]) -> int:
    size = len(str(params.get("MessageBody", "")).encode("utf-8", "surrogatepass"))
    for name, attribute in (params.get("MessageAttributes") or {}).items():
        size += len(name.encode()) + len(attribute["DataType"].encode())
        if "StringValue" in attribute:
            size += len(attribute["StringValue"].encode("utf-8", "surrogatepass"))
        else:
            size += len(attribute.get("BinaryValue", b""))
    return size


def sqs_rules_problem(params: dict[str, Any], limit: int = MAX_MESSAGE_BYTES) -> str | None:
    """Why SQS would refuse one SendMessage (or batch entry), or None."""
    problem = _sqs_text_problem(str(params.get("MessageBody", "")))
    if problem is not None:
        return f"MessageBody: {problem}"
    for name, attribute in (params.get("MessageAttributes") or {}).items():
        if "StringValue" in attribute:
            problem = _sqs_text_problem(attribute["StringValue"])
            if problem is not None:
                return f"MessageAttribute {name}: {problem}"
            if not attribute["StringValue"]:
                return f"MessageAttribute {name}: empty value"
    size = message_size(params)
    if size > limit:
        return f"message of {size} bytes is over {limit}"
    return None


def _enforce_sqs_rules(params: dict[str, Any], model: Any, **_: Any) -> None:
    entries = params.get("Entries") if model.name == "SendMessageBatch" else [params]
    # The stack's DLQs take 1 MiB, their source queues 256 KiB.
    limit = DLQ_MAX_MESSAGE_BYTES if "-dlq" in str(params.get("QueueUrl")) else MAX_MESSAGE_BYTES
    for entry in entries or []:
        problem = sqs_rules_problem(entry, limit)
        if problem is not None:
            raise ClientError(
                {"Error": {"Code": "InvalidParameterValue", "Message": problem}}, model.name
            )


@pytest.fixture(scope="module")
def harness(aws_region: str) -> Iterator[SenderHarness]:
    session = boto3.Session(region_name=aws_region)
    config = SimulatorConfig(
        phone_numbers={NUMBER: PhoneNumber(waba_id=WABA)},
        tokens={TOKEN: (WABA, NUMBER)},
        pair_limit=PairLimit(enabled=False),
    )
    with mock_aws(), run_simulator(config) as simulator, pytest.MonkeyPatch.context() as env:
        # Each example starts from empty queues (SQS allows one purge a minute; moto too).
        env.setenv("MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR", "false")
        boto3.DEFAULT_SESSION = session
        sqs = session.client("sqs")
        for operation in ("SendMessage", "SendMessageBatch"):
            sqs.meta.events.register(f"provide-client-params.sqs.{operation}", _enforce_sqs_rules)
        yield SenderHarness(
            ddb=session.client("dynamodb"),
            sqs=sqs,
            secrets=session.client("secretsmanager"),
            simulator=simulator,
        )


# -- what goes on the queue --------------------------------------------------------------


def valid_fields(serial: int) -> dict[str, Any]:
    return {
        "version": CONTRACT_VERSION,
        "id": f"fuzz-{serial}",
        "waba_id": WABA,
        "phone_number_id": NUMBER,
        "to": f"+1555{serial:07d}",
        "message": {"type": "text", "text": {"body": f"order {serial} has shipped"}},
        "category": "utility",
    }


def is_valid(body: str) -> bool:
    """Independently of the sender: would this body make a send request?"""
    try:
        raw = json.loads(body)
    except (ValueError, RecursionError):
        return False
    if not isinstance(raw, dict) or raw.get("version", CONTRACT_VERSION) != CONTRACT_VERSION:
        return False
    try:
        SendRequest.model_validate(raw)
    except (ValidationError, ValueError, RecursionError):
        return False
    return True


FIELDS = ["version", "id", "waba_id", "phone_number_id", "to", "message", "category"]
ANY_JSON = json_values(max_leaves=8)
INVALID_MESSAGES = st.one_of(
    st.sampled_from(
        [
            {},
            {"type": "text"},
            {"type": "text", "text": {}},
            {"type": "text", "text": {"body": ""}},
            {"type": "text", "text": {"body": 5}},
            {"type": "image", "image": {}},
            {"type": "template", "template": {"language": {"code": "en"}}},
            {"type": "text", "text": {"body": "hi"}, "to": "15550001111"},
            {"type": "text", "text": {"body": "hi"}, "messaging_product": "whatsapp"},
            {"type": "text", "text": {"body": "x" * 5000}},
            {"type": "interactive", "interactive": {"type": "button"}},
        ]
    ),
    st.dictionaries(SQS_TEXT, ANY_JSON, max_size=4),
    st.builds(
        lambda kind, rest: {"type": kind, **rest},
        SQS_TEXT,
        st.dictionaries(SQS_TEXT, ANY_JSON, max_size=3),
    ),
)


@st.composite
def malformed_bodies(draw: st.DrawFn) -> str:
    """One body another system might put on the queue that is not a valid send request."""
    fields = valid_fields(next(_serial))
    kind = draw(
        st.sampled_from(
            [
                "not json",
                "not an object",
                "wrong type",
                "missing field",
                "wrong version",
                "invalid message",
                "unknown key",
                "huge string",
                "near the size limit",
                "odd unicode",
                "hostile json",
            ]
        )
    )
    if kind == "not json":
        return draw(st.text(SQS_ALPHABET, min_size=1, max_size=200) | ODD_TEXT.filter(bool))
    if kind == "not an object":
        return json.dumps(draw(ANY_JSON.filter(lambda v: not isinstance(v, dict))))
    if kind == "wrong type":
        name = draw(st.sampled_from(FIELDS))
        fields[name] = draw(ANY_JSON | JSON_TEXT | st.dictionaries(JSON_TEXT, ANY_JSON, max_size=3))
        return json.dumps(fields)
    if kind == "missing field":
        for name in draw(
            st.sets(st.sampled_from(["waba_id", "phone_number_id", "to", "message"]), min_size=1)
        ):
            fields.pop(name)
    elif kind == "wrong version":
        fields["version"] = draw(
            st.sampled_from(["2", "0", "", "1.0", " 1", 1, 1.0, None, True, [], {}]) | SQS_TEXT
        )
    elif kind == "invalid message":
        fields["message"] = draw(INVALID_MESSAGES)
    elif kind == "unknown key":
        fields[draw((SQS_TEXT | JSON_TEXT).filter(lambda k: k not in fields))] = draw(ANY_JSON)
        return json.dumps(fields)  # escapes what SQS would refuse raw
    elif kind == "huge string":
        size = draw(st.integers(min_value=1_000, max_value=200_000))
        text = draw(st.text(SQS_ALPHABET, min_size=1, max_size=8))
        where = draw(st.sampled_from(["body", "id", "to", "client_reference", "metadata", "key"]))
        huge = (text * (size // len(text) + 1))[:size]
        if where == "body":
            fields["message"] = {"type": "text", "text": {"body": huge}}
        elif where == "metadata":
            fields["metadata"] = {"note": huge}
        elif where == "key":
            fields[huge] = 1
        else:
            fields[where] = huge
    elif kind == "near the size limit":
        # What fits on the queue: the sender must still get it, reason and all, to the DLQ.
        slack = draw(st.integers(min_value=0, max_value=4_000))
        fields["client_reference"] = ""
        base = len(json.dumps(fields).encode())
        fields["client_reference"] = "r" * (MAX_MESSAGE_BYTES - base - slack)
    elif kind == "odd unicode":
        # Lone surrogates reach the sender as JSON escapes (`"\\ud800"`) in an ASCII body.
        lone = st.sampled_from(["\ud800", "a\udfffb", "\udbff\ud800"])
        odd = draw(ODD_TEXT | st.text(SQS_ALPHABET, min_size=1, max_size=10) | lone)
        name = draw(st.sampled_from(["id", "to", "waba_id", "category", "key", "message type"]))
        if name == "key":
            fields[odd] = odd
        elif name == "message type":
            fields["message"] = {"type": odd, odd: {"body": odd}}
        else:
            fields[name] = odd
    elif kind == "hostile json":
        hostile = draw(HOSTILE_JSON.filter(lambda t: len(t) < 60_000))
        body = json.dumps(fields)
        where = draw(st.sampled_from(['"metadata": @@', '"message": @@', '"id": @@']))
        return body[:-1] + ", " + where.replace("@@", hostile) + "}"
    return json.dumps(fields, ensure_ascii=draw(st.booleans()))


def queueable(body: str) -> bool:
    """SQS would take it on the outbound queue (nothing else can be there)."""
    return sqs_rules_problem({"MessageBody": body}) is None


MALFORMED = malformed_bodies().filter(queueable).filter(lambda body: not is_valid(body))


_REASON_KINDS = (
    "body is not a JSON object",
    "body is not JSON",
    "unsupported contract version",
    "invalid send request",
)


def _reason_kind(reason: str) -> str:
    if not reason:
        return "(none: no room beside the body)"
    kind = next((k for k in _REASON_KINDS if reason.startswith(k)), None)
    return kind or "(cut short to fit beside the body)"


def _take_dlq(h: SenderHarness) -> list[dict[str, Any]]:
    taken: list[dict[str, Any]] = []
    while True:
        got = h.sqs.receive_message(
            QueueUrl=h.dlq_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not got:
            return taken
        taken.extend(got)
        h.sqs.delete_message_batch(
            QueueUrl=h.dlq_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)
            ],
        )


@FUZZ
@given(
    malformed=st.lists(MALFORMED, min_size=1, max_size=4),
    valid_count=st.integers(min_value=0, max_value=3),
    order=st.randoms(use_true_random=False),
)
def test_malformed_bodies_reach_the_dlq_with_a_reason_and_neighbours_go_once(
    harness: SenderHarness,
    malformed: list[str],
    valid_count: int,
    order: Any,
    fuzz_tally: Counter[str],
) -> None:
    h = harness
    # A failed example leaves messages behind: each example starts from empty queues.
    for url in (h.queue_url, h.dlq_url):
        h.sqs.purge_queue(QueueUrl=url)
    valid = [SendRequest.model_validate(valid_fields(next(_serial))) for _ in range(valid_count)]
    queue: list[SendRequest | str] = [*valid, *malformed]
    order.shuffle(queue)
    for item in queue:
        if isinstance(item, SendRequest):
            h.enqueue([item])
        else:
            serial = next(_serial)
            h.enqueue_raw(item, group=f"{WABA}#{serial % 4}", dedup=f"malformed-{serial}")

    h.drain()  # runs every batch as Lambda would; any batch that raises fails the test

    dead = _take_dlq(h)
    assert Counter(m["Body"] for m in dead) == Counter(malformed)
    for message in dead:
        reason = message.get("MessageAttributes", {}).get("reason", {}).get("StringValue", "")
        # Only a body that leaves no room for the attribute's name and type goes without.
        no_room = len(message["Body"].encode()) > MAX_MESSAGE_BYTES - len("reasonString") - 1
        assert reason.strip() or no_room, f"no reason for {message['Body'][:200]!r}"
        fuzz_tally[f"outbound queue: DLQ reason: {_reason_kind(reason)}"] += 1
    accepted = h.simulator.accepted_by_callback_data()
    for request in valid:
        assert accepted.get(request.id) == 1, (request.id, accepted.get(request.id))
    fuzz_tally["outbound queue: malformed bodies"] += len(malformed)
    fuzz_tally["outbound queue: valid neighbours"] += len(valid)
    fuzz_tally["outbound queue: batches (examples)"] += 1


# -- the inputs the fuzz first failed on ----------------------------------------------------


def test_a_body_nested_past_the_json_parser_is_poison_not_a_crash() -> None:
    fields = valid_fields(next(_serial))
    body = json.dumps(fields)[:-1] + ', "metadata": ' + "[" * 5000 + "]" * 5000 + "}"

    record = parse_record({"messageId": "m-1", "body": body})

    assert record.request is None
    assert record.poison_reason == "body is not JSON: nested too deeply to read"


def test_a_reason_naming_a_control_character_is_escaped_for_sqs() -> None:
    fields = {**valid_fields(next(_serial)), "\x01": 1}
    record = parse_record({"messageId": "m-2", "body": json.dumps(fields)})
    assert record.poison_reason is not None

    attributes = dead_letter_attributes(json.dumps(fields), record.poison_reason, "m-2")

    assert "\\u0001" in attributes["reason"]["StringValue"]
    assert sqs_rules_problem({"MessageBody": "{}", "MessageAttributes": attributes}) is None


@pytest.mark.parametrize("slack", [4_000, 200, 60, 14, 13, 0])
def test_a_body_near_the_size_limit_takes_what_reason_fits(slack: int) -> None:
    body = "x" * (MAX_MESSAGE_BYTES - slack)
    reason = "invalid send request: " + "because " * 200

    attributes = dead_letter_attributes(
        body, reason, "7b4f0e62-6c0c-4a39-a0b5-3b0e2c1f9d10", max_bytes=MAX_MESSAGE_BYTES
    )

    assert message_size({"MessageBody": body, "MessageAttributes": attributes}) <= (
        MAX_MESSAGE_BYTES
    )
    assert ("reason" in attributes) is (slack > len("reasonString"))


def test_the_dlq_takes_the_largest_body_the_queue_took_with_its_whole_reason() -> None:
    body = "x" * MAX_MESSAGE_BYTES
    reason = "invalid send request: " + "because " * 100

    attributes = dead_letter_attributes(body, reason, "7b4f0e62-6c0c-4a39-a0b5-3b0e2c1f9d10")

    assert attributes["reason"]["StringValue"] == reason.strip()
    assert "source_message_id" in attributes


def test_an_id_too_long_for_a_message_marks_no_record_failed() -> None:
    fields = valid_fields(next(_serial))
    fields.update(id="A" * 64 + "-and-more", message={})

    record = parse_record({"messageId": "m-3", "body": json.dumps(fields)})

    assert record.request is None
    assert record.poison_message_id is None  # cut to 64 it was another message's id
