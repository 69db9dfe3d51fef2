"""Claims and `accepted` as conditional puts on moto: nothing another writer added is lost."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pixy_whatsapp.outbound import SendRequest
from pixy_whatsapp.statuses import (
    ApplyResult,
    ClaimConflict,
    ClaimOutcome,
    MessageError,
    MessageStatus,
    MessageStore,
)

from tests.integration.sender.harness import create_tables

NOW = 1_764_000_000_000


@pytest.fixture
def ddb(aws_region: str) -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=aws_region)
        create_tables(client)
        yield client


@pytest.fixture
def store(ddb: Any) -> MessageStore:
    return MessageStore(ddb, "messages")


def request(message_id: str = "m-1") -> SendRequest:
    return SendRequest.model_validate(
        {
            "id": message_id,
            "waba_id": "2001",
            "phone_number_id": "1001",
            "to": "15550001111",
            "category": "utility",
            "metadata": {"order": 7, "weight": 1.5},
            "message": {"type": "text", "text": {"body": "hi"}},
        }
    )


def test_a_claim_of_an_unknown_message_creates_it_sending_with_its_request(
    store: MessageStore,
) -> None:
    claim = store.claim(request(), at_ms=NOW)
    assert (claim.outcome, claim.attempt) == (ClaimOutcome.CLAIMED, 1)
    record = store.get("m-1")
    assert record is not None
    assert record.status is MessageStatus.SENDING
    assert (record.waba_id, record.recipient, record.metadata) == (
        "2001",
        "15550001111",
        {"order": 7, "weight": 1.5},
    )


def test_a_claim_carries_forward_what_the_queued_item_held(store: MessageStore) -> None:
    store.record_queued(request(), at_ms=NOW - 5_000)
    first = store.claim(request(), at_ms=NOW)
    error = MessageError(reason="not_sent", error_class="transient")
    assert store.release("m-1", first.attempt, error)
    second = store.claim(request(), at_ms=NOW + 1_000)
    assert second.attempt == 2
    record = store.get("m-1")
    assert record is not None
    assert record.last_error == error
    assert record.history[0].status is MessageStatus.QUEUED
    assert record.history[0].at_ms == NOW - 5_000


def test_a_stale_read_costs_a_retry_not_a_lost_update(store: MessageStore) -> None:
    stale = store.read_many(["m-1"]).get("m-1")  # read before the API recorded it
    store.record_queued(request(), at_ms=NOW - 5_000)
    claim = store.claim_from(request(), stale, at_ms=NOW)
    assert claim.outcome is ClaimOutcome.CLAIMED
    record = store.get("m-1")
    assert record is not None
    assert record.history[0].at_ms == NOW - 5_000  # the API's queued time survived


def test_a_message_claimed_elsewhere_since_the_read_is_refused_as_in_flight(
    store: MessageStore,
) -> None:
    store.record_queued(request(), at_ms=NOW - 5_000)
    read = store.read_many(["m-1"])["m-1"]
    store.claim(request(), at_ms=NOW)  # another delivery wins
    refused = store.claim_from(request(), read, at_ms=NOW + 1)
    assert (refused.outcome, refused.sending_at_ms) == (ClaimOutcome.IN_FLIGHT, NOW)


def test_an_accepted_message_is_refused_without_a_write(store: MessageStore, ddb: Any) -> None:
    claim = store.claim(request(), at_ms=NOW)
    store.record_accepted("m-1", claim, NOW + 100, "wamid.A")
    writes: list[str] = []
    ddb.meta.events.register("before-call.dynamodb.PutItem", lambda **_: writes.append("PutItem"))
    current = store.read_many(["m-1"])["m-1"]
    assert store.claim_from(request(), current).outcome is ClaimOutcome.ALREADY_DONE
    assert writes == []


def test_a_claim_that_keeps_losing_raises_instead_of_guessing(
    store: MessageStore, ddb: Any
) -> None:
    store.record_queued(request(), at_ms=NOW - 5_000)

    def someone_else_claims_and_releases(**_: object) -> None:
        ddb.update_item(
            TableName="messages",
            Key={"pk": {"S": "msg#m-1"}},
            UpdateExpression="ADD attempts :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )

    ddb.meta.events.register("before-call.dynamodb.PutItem", someone_else_claims_and_releases)
    with pytest.raises(ClaimConflict):
        store.claim(request(), at_ms=NOW)


def test_accepted_is_a_put_onto_the_claim(store: MessageStore) -> None:
    claim = store.claim(request(), at_ms=NOW)
    assert store.record_accepted("m-1", claim, NOW + 100, "wamid.A") is ApplyResult.CURRENT
    record = store.get("m-1")
    assert record is not None
    assert (record.status, record.wamid, record.attempts) == (
        MessageStatus.ACCEPTED,
        "wamid.A",
        1,
    )
    assert store.find_by_wamid("wamid.A") == "m-1"


def test_accepted_after_a_webhook_got_there_first_merges_and_keeps_the_webhook(
    store: MessageStore,
) -> None:
    claim = store.claim(request(), at_ms=NOW)
    store.apply_status("m-1", MessageStatus.DELIVERED, NOW + 50, wamid="wamid.A")
    assert store.record_accepted("m-1", claim, NOW + 100, "wamid.A") is ApplyResult.LATE
    record = store.get("m-1")
    assert record is not None
    assert record.status is MessageStatus.DELIVERED
    assert {e.status for e in record.history} >= {MessageStatus.ACCEPTED, MessageStatus.DELIVERED}
