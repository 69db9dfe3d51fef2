"""`POST /v1/messages` against moto: what is answered, recorded and queued."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pixy_whatsapp.outbound import SendRequest, enqueue, message_group_id
from pixy_whatsapp.statuses import MessageStatus, MessageStore

from .support import NUMBER, OTHER_NUMBER, WABA, ApiClient, Deployment, text

FIXTURES = Path(__file__).parents[2] / "fixtures" / "messages"

# Valid for Meta, but too large for ten of them to share one SendMessageBatch call.
LARGE_TEMPLATE = {
    "type": "template",
    "template": {
        "name": "digest",
        "language": {"code": "en"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "x" * 1000}] * 30}],
    },
}


def fixture_message(name: str) -> dict[str, Any]:
    """A Meta send body from the fixtures, as the message object of a request."""
    body = json.loads((FIXTURES / f"{name}.json").read_text())
    for key in (
        "messaging_product",
        "recipient_type",
        "to",
        "recipient",
        "biz_opaque_callback_data",
    ):
        body.pop(key, None)
    return body


def test_one_message_is_recorded_and_queued_in_its_group(
    api: ApiClient, deployment: Deployment
) -> None:
    answer = api.send(text(client_reference="order-1042", metadata={"order": 1042}))

    assert answer.status == 202
    [accepted] = answer.body["messages"]
    assert accepted["status"] == "queued"
    assert set(accepted) == {"id", "status"}
    [queued] = deployment.drain_outbound()
    request = SendRequest.model_validate(queued.body)
    assert request.id == accepted["id"]
    assert request.enqueued_at is not None
    shard_count = deployment.settings.shard_count
    assert queued.group_id == message_group_id(WABA, NUMBER, request.recipient_key, shard_count)
    assert queued.group_id.startswith(f"{WABA}#")
    assert queued.deduplication_id == request.deduplication_id()


def test_the_idempotency_key_is_the_deduplication_id(
    api: ApiClient, deployment: Deployment
) -> None:
    answer = api.send(text(idempotency_key="order-1042/shipped"))

    assert answer.status == 202
    [queued] = deployment.drain_outbound()
    assert queued.deduplication_id == "order-1042/shipped"


def test_a_hundred_messages_are_answered_in_order_and_all_queued(
    api: ApiClient, deployment: Deployment
) -> None:
    messages = [text(f"message {i}", to=f"+1555000{i:04d}", id=f"bulk-{i:03d}") for i in range(100)]

    answer = api.send(*messages)

    assert answer.status == 202
    assert [a["id"] for a in answer.body["messages"]] == [m["id"] for m in messages]
    assert {a["status"] for a in answer.body["messages"]} == {"queued"}
    queued = deployment.drain_outbound()
    assert sorted(q.body["id"] for q in queued) == [m["id"] for m in messages]
    assert {q.group_id.split("#")[0] for q in queued} == {WABA}


@pytest.mark.parametrize("count", [0, 101])
def test_zero_or_more_than_a_hundred_messages_are_refused(
    api: ApiClient, deployment: Deployment, count: int
) -> None:
    answer = api.send(*[text(f"message {i}", id=f"m{i}") for i in range(count)])

    assert answer.status == 422
    assert "messages" in answer.problems
    assert "100" in answer.problems["messages"] or "1 item" in answer.problems["messages"]
    assert deployment.outbound_depth() == 0


def test_one_bad_message_refuses_the_whole_request(api: ApiClient, deployment: Deployment) -> None:
    good = [text(f"message {i}", id=f"good-{i}") for i in range(5)]
    bad = text(id="bad-3")
    del bad["message"]["text"]["body"]

    answer = api.send(*good[:3], bad, *good[3:])

    assert answer.status == 422
    assert answer.problems == {"messages[3].message.text.body": "is required"}
    assert answer.body["error"].startswith("the request is invalid")
    assert deployment.outbound_depth() == 0
    assert api.get("/v1/messages/good-0").status == 404


def test_invalid_message_objects_are_named_by_path(api: ApiClient, deployment: Deployment) -> None:
    answer = api.send(
        text() | {"message": fixture_message("invalid_text_without_body")},
        text() | {"message": fixture_message("invalid_template_without_name")},
        text() | {"message": fixture_message("invalid_image_without_id_or_link")},
    )

    assert answer.status == 422
    problems = answer.problems
    assert problems["messages[0].message.text.body"] == "is required"
    assert problems["messages[1].message.template.name"] == "is required"
    assert "`id`" in problems["messages[2].message.image"]
    assert deployment.outbound_depth() == 0


def test_every_bad_field_of_every_message_is_reported(api: ApiClient) -> None:
    answer = api.send(
        text(waba_id="not-a-number"),
        text(to=None),
        text(category="promotional", message={"type": "text", "text": {"body": ""}}),
        text(surprise=True, metadata={"deep": 10**40}),
    )

    assert answer.status == 422
    problems = answer.problems
    assert "messages[0].waba_id" in problems
    assert problems["messages[1].to"].startswith("a recipient is required")
    assert "messages[2].category" in problems
    assert problems["messages[2].message.text.body"] == "must not be empty"
    assert problems["messages[3].surprise"] == "is not allowed here"
    assert "messages[3].metadata.deep" in problems


def test_valid_fixture_messages_are_accepted(api: ApiClient, deployment: Deployment) -> None:
    names = ["text", "template", "image_link", "interactive_list", "location", "contacts"]
    answer = api.send(*(text() | {"message": fixture_message(n), "id": n} for n in names))

    assert answer.status == 202, answer.body
    assert sorted(q.body["id"] for q in deployment.drain_outbound()) == sorted(names)


# Valid by the contract's types, but they could not be queued or stored, or never sent.
UNSENDABLE = [
    ({"to": "call me maybe"}, "messages[0].to"),
    ({"recipient": "US.1234567890"}, "messages[0].recipient"),
    (
        {"message": {"type": "text", "text": {"body": "hi"}, "to": "+1"}},
        "messages[0].message.to",
    ),
    ({"not_after": "2020-01-01T00:00:00Z"}, "messages[0].not_after"),
    ({"not_after": "2999-01-01T00:00:00"}, "messages[0].not_after"),
    ({"idempotency_key": "has spaces"}, "messages[0].idempotency_key"),
    (
        {"message": {"type": "text", "text": {"body": "\uffff"}}},
        "messages[0].message.text.body",
    ),
    ({"metadata": {"n": 1e-200}}, "messages[0].metadata.n"),
    ({"metadata": {"big": "x" * 5000}}, "messages[0].metadata"),
    ({"message": LARGE_TEMPLATE}, "messages[0]"),
]


def test_what_could_not_be_queued_or_stored_is_refused_with_its_path(
    api: ApiClient, deployment: Deployment
) -> None:
    for fields, path in UNSENDABLE:
        answer = api.send(text(**fields))

        assert answer.status == 422, path
        assert path in answer.problems, answer.body
    assert deployment.outbound_depth() == 0


def test_a_known_id_is_a_duplicate_and_not_queued_again(
    api: ApiClient, deployment: Deployment
) -> None:
    assert api.send(text(id="order-1042")).status == 202
    deployment.drain_outbound()

    answer = api.send(text("a different text", id="order-1042"))

    assert answer.status == 202
    assert answer.body["messages"] == [
        {"id": "order-1042", "status": "duplicate", "reason": "id already known"}
    ]
    assert deployment.drain_outbound() == []


def test_repeats_within_one_request_are_duplicates_of_the_first(
    api: ApiClient, deployment: Deployment
) -> None:
    answer = api.send(
        text("one", id="a"),
        text("two", id="a"),
        text("same content", id="b"),
        text("same content", id="c"),
        text("same content", id="d", idempotency_key="d-key"),
    )

    statuses = [(a["id"], a["status"]) for a in answer.body["messages"]]
    assert statuses == [
        ("a", "queued"),
        ("a", "duplicate"),
        ("b", "queued"),
        ("c", "queued"),  # same content, another message: its id is part of the hash
        ("d", "queued"),
    ]
    assert sorted(q.body["id"] for q in deployment.drain_outbound()) == ["a", "b", "c", "d"]


def test_a_retry_of_an_interrupted_request_queues_the_message_once(
    api: ApiClient, deployment: Deployment
) -> None:
    # What a request leaves when its function stops between the queue and the record.
    request = SendRequest.model_validate(text(id="interrupted"))
    [result] = enqueue(deployment.sqs, deployment.settings.outbound_queue_url, [request])
    assert result.ok

    answer = api.send(text(id="interrupted"))

    assert answer.body["messages"] == [{"id": "interrupted", "status": "queued"}]
    assert [q.body["id"] for q in deployment.drain_outbound()] == ["interrupted"]
    assert api.get("/v1/messages/interrupted").body["status"] == "queued"


def test_a_known_id_is_a_duplicate_whatever_its_status(
    api: ApiClient, deployment: Deployment
) -> None:
    store = MessageStore(deployment.dynamodb, deployment.settings.messages_table)
    request = SendRequest.model_validate(text(id="sent-already"))
    store.record_queued(request)
    store.apply_status("sent-already", MessageStatus.ACCEPTED, 1_700_000_000_000, wamid="wamid.X")

    answer = api.send(text(id="sent-already"))

    assert answer.body["messages"][0]["status"] == "duplicate"
    assert deployment.outbound_depth() == 0


def test_messages_to_other_numbers_go_to_their_own_groups(
    api: ApiClient, deployment: Deployment
) -> None:
    answer = api.send(text(id="a"), text(id="b", phone_number_id=OTHER_NUMBER, to="+15550009999"))

    assert answer.status == 202
    queued = deployment.drain_outbound()
    groups = {q.body["id"]: q.group_id for q in queued}
    recipients = {q.body["id"]: SendRequest.model_validate(q.body).recipient_key for q in queued}
    shards = deployment.settings.shard_count
    assert groups == {
        "a": message_group_id(WABA, NUMBER, recipients["a"], shards),
        "b": message_group_id(WABA, OTHER_NUMBER, recipients["b"], shards),
    }
    assert recipients["a"] != recipients["b"]


def test_float_metadata_is_stored_and_read_back_as_numbers(api: ApiClient) -> None:
    metadata = {"score": 0.25, "count": 3, "nested": {"ratio": 1.5, "tags": ["a", 2]}}

    assert api.send(text(id="meta", metadata=metadata)).status == 202

    assert api.get("/v1/messages/meta").body["metadata"] == metadata
