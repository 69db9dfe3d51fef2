"""The EventBridge publisher: batches of 10 within the size limit, one retry, then raise."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from mypy_boto3_events import EventBridgeClient
from pixy_whatsapp.events import (
    EventBridgePublisher,
    EventPublishError,
    EventTooLarge,
    MessageReceived,
    entry_size,
)

BUS = "pixy-test-events"


def detail(n: int, payload_bytes: int = 0) -> MessageReceived:
    payload = {"pad": "x" * payload_bytes} if payload_bytes else None
    return MessageReceived(event_id=f"e{n}", wamid=f"wamid.{n}", type="text", payload=payload)


@pytest.fixture
def events_client(aws_region: str) -> EventBridgeClient:
    # Never called for real: the Stubber answers every request.
    return boto3.client("events", region_name=aws_region)


def _accepted(count: int) -> dict[str, Any]:
    return {"FailedEntryCount": 0, "Entries": [{"EventId": f"id-{i}"} for i in range(count)]}


def test_events_reach_the_bus_in_calls_of_at_most_ten(aws_region: str) -> None:
    with mock_aws():
        client = boto3.client("events", region_name=aws_region)
        sqs = boto3.client("sqs", region_name=aws_region)
        client.create_event_bus(Name=BUS)
        sink = sqs.create_queue(QueueName="sink")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=sink, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        client.put_rule(Name="all", EventBusName=BUS, EventPattern='{"source": ["pixy.test"]}')
        client.put_targets(Rule="all", EventBusName=BUS, Targets=[{"Id": "q", "Arn": arn}])
        calls: list[int] = []
        client.meta.events.register(
            "before-parameter-build.events.PutEvents",
            lambda params, **_: calls.append(len(params["Entries"])),
        )

        EventBridgePublisher(client, bus_name=BUS, source="pixy.test").publish(
            [detail(n) for n in range(23)]
        )

        assert calls == [10, 10, 3]
        received: list[dict[str, Any]] = []
        while batch := sqs.receive_message(QueueUrl=sink, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in batch:
                received.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=sink, ReceiptHandle=message["ReceiptHandle"])
        assert sorted(e["detail"]["event_id"] for e in received) == sorted(
            f"e{n}" for n in range(23)
        )
        assert {(e["source"], e["detail-type"]) for e in received} == {
            ("pixy.test", "message.received")
        }


def test_refused_entries_are_sent_once_more(events_client: EventBridgeClient) -> None:
    publisher = EventBridgePublisher(events_client, bus_name=BUS)
    details = [detail(n) for n in range(3)]
    with Stubber(events_client) as stub:
        stub.add_response(
            "put_events",
            {
                "FailedEntryCount": 1,
                "Entries": [
                    {"EventId": "a"},
                    {"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"},
                    {"EventId": "c"},
                ],
            },
            {"Entries": [publisher.entry(d) for d in details]},
        )
        # Only the refused entry goes again.
        stub.add_response("put_events", _accepted(1), {"Entries": [publisher.entry(details[1])]})
        publisher.publish(details)
        stub.assert_no_pending_responses()


def test_entries_refused_twice_raise(events_client: EventBridgeClient) -> None:
    publisher = EventBridgePublisher(events_client, bus_name=BUS)
    refused = {
        "FailedEntryCount": 1,
        "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "oops"}],
    }
    with Stubber(events_client) as stub:
        stub.add_response("put_events", refused)
        stub.add_response("put_events", refused)
        with pytest.raises(EventPublishError, match="InternalFailure") as raised:
            publisher.publish([detail(1)])
    assert raised.value.failed == 1


def test_a_call_never_exceeds_the_size_limit(events_client: EventBridgeClient) -> None:
    publisher = EventBridgePublisher(events_client, bus_name=BUS, max_call_bytes=4_000)
    details = [detail(n, payload_bytes=1_500) for n in range(5)]
    sizes = [entry_size(publisher.entry(d)) for d in details]
    assert all(1_500 < size < 2_000 for size in sizes)
    with Stubber(events_client) as stub:
        for chunk in (details[0:2], details[2:4], details[4:5]):
            stub.add_response(
                "put_events",
                _accepted(len(chunk)),
                {"Entries": [publisher.entry(d) for d in chunk]},
            )
        publisher.publish(details)
        stub.assert_no_pending_responses()


def test_an_oversized_event_goes_out_without_metas_payload(
    events_client: EventBridgeClient,
) -> None:
    publisher = EventBridgePublisher(events_client, bus_name=BUS, max_call_bytes=2_000)
    big = detail(1, payload_bytes=5_000)
    with Stubber(events_client) as stub:
        stub.add_response(
            "put_events", _accepted(1), {"Entries": [publisher.entry(big.without_payload())]}
        )
        publisher.publish([big])
        stub.assert_no_pending_responses()


def test_an_event_too_large_even_without_payload_is_refused(
    events_client: EventBridgeClient,
) -> None:
    publisher = EventBridgePublisher(events_client, bus_name=BUS, max_call_bytes=100)
    with pytest.raises(EventTooLarge):
        publisher.publish([detail(1)])


def test_nothing_to_publish_makes_no_call(events_client: EventBridgeClient) -> None:
    with Stubber(events_client):
        EventBridgePublisher(events_client, bus_name=BUS).publish([])


@pytest.fixture(autouse=True)
def _no_real_aws() -> Iterator[None]:
    with mock_aws():
        yield
