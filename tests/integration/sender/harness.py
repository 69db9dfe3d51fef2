"""A sender wired to moto (queues, tables, secrets) and the Graph simulator on localhost."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pixy_whatsapp.breaker import BreakerSettings, CircuitBreaker, DynamoDBBreakerStore
from pixy_whatsapp.contacts import ContactStore
from pixy_whatsapp.events import EventBridgePublisher
from pixy_whatsapp.graph import GraphClient, GraphClientSettings, GraphTimeouts
from pixy_whatsapp.limits import DynamoDBLimitStore, GcraPolicy, Limiter, LimitSettings
from pixy_whatsapp.outbound import SendRequest, enqueue
from pixy_whatsapp.sender import BatchReport, Sender, SenderPolicy
from pixy_whatsapp.statuses import MessageStore
from pixy_whatsapp.tokens import TokenProvider

from infra.local.graph_simulator import GraphSimulator

WABA = "2001"
NUMBER = "1001"
OTHER_NUMBER = "1002"
TOKEN = "token-a"
SECRET_PREFIX = "pixy/test/waba/"


def create_tables(ddb: Any) -> dict[str, str]:
    names = {"messages": "messages", "control": "control", "contacts": "contacts"}
    ddb.create_table(
        TableName=names["messages"],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "wamid", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-wamid",
                "KeySchema": [{"AttributeName": "wamid", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for name in (names["control"], names["contacts"]):
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    return names


def create_queues(sqs: Any) -> tuple[str, str]:
    dlq_url = sqs.create_queue(QueueName="outbound-dlq.fifo", Attributes={"FifoQueue": "true"})[
        "QueueUrl"
    ]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName="outbound.fifo",
        Attributes={
            "FifoQueue": "true",
            "DeduplicationScope": "messageGroup",
            "FifoThroughputLimit": "perMessageGroupId",
            "VisibilityTimeout": "60",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 50}),
        },
    )["QueueUrl"]
    return queue_url, dlq_url


@dataclass
class SenderHarness:
    ddb: Any
    sqs: Any
    secrets: Any
    simulator: GraphSimulator
    policy: SenderPolicy = field(default_factory=lambda: SenderPolicy(ambiguous_window_s=600))
    breaker_settings: BreakerSettings = field(
        default_factory=lambda: BreakerSettings(consecutive_failures=3, cooldown_s=0.3)
    )
    read_timeout_s: float = 0.5
    # Tests that fast-forward retries stand in for time passing, which a 6 s pair
    # interval would not see; the pair limit has its own tests.
    limit_settings: LimitSettings = field(
        default_factory=lambda: LimitSettings(pair=GcraPolicy.per(100, 1.0, burst=10))
    )

    events: Any = None

    def __post_init__(self) -> None:
        self.retrying: list[dict[str, Any]] = []
        self.events_queue_url = self._event_sink() if self.events is not None else None
        self.tables = create_tables(self.ddb)
        self.queue_url, self.dlq_url = create_queues(self.sqs)
        self.secrets.create_secret(
            Name=f"{SECRET_PREFIX}{WABA}", SecretString=json.dumps({"access_token": TOKEN})
        )
        self.messages = MessageStore(self.ddb, self.tables["messages"])
        self.contacts = ContactStore(self.ddb, self.tables["contacts"])
        self.limiter = Limiter(
            DynamoDBLimitStore(self.ddb, self.tables["control"]),
            self.limit_settings,
        )
        self.breaker = CircuitBreaker(
            DynamoDBBreakerStore(self.ddb, self.tables["control"]), self.breaker_settings
        )
        self.tokens = TokenProvider(self.secrets, SECRET_PREFIX, max_age_seconds=0)
        self.sender = Sender(
            graph=GraphClient(
                GraphClientSettings(
                    base_url=self.simulator.base_url,
                    timeouts=GraphTimeouts(read=self.read_timeout_s, connect=1.0),
                )
            ),
            messages=self.messages,
            contacts=self.contacts,
            limiter=self.limiter,
            breaker=self.breaker,
            tokens=self.tokens,
            sqs=self.sqs,
            queue_url=self.queue_url,
            dlq_url=self.dlq_url,
            policy=self.policy,
            events=(
                EventBridgePublisher(self.events, bus_name="bus", source="pixy.whatsapp")
                if self.events is not None
                else None
            ),
        )

    def _event_sink(self) -> str:
        """A bus whose rule forwards every pixy.whatsapp event to a queue the test reads."""
        self.events.create_event_bus(Name="bus")
        url = self.sqs.create_queue(QueueName="events")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.events.put_rule(
            Name="all", EventBusName="bus", EventPattern=json.dumps({"source": ["pixy.whatsapp"]})
        )
        self.events.put_targets(Rule="all", EventBusName="bus", Targets=[{"Id": "q", "Arn": arn}])
        return str(url)

    def published(self) -> list[dict[str, Any]]:
        assert self.events_queue_url is not None
        out: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=self.events_queue_url, MaxNumberOfMessages=10
            ).get("Messages", [])
            if not batch:
                return out
            out.extend(json.loads(m["Body"]) for m in batch)
            for m in batch:
                self.sqs.delete_message(
                    QueueUrl=self.events_queue_url, ReceiptHandle=m["ReceiptHandle"]
                )

    def enqueue(self, requests: Iterable[SendRequest]) -> None:
        results = enqueue(self.sqs, self.queue_url, list(requests))
        assert all(r.ok for r in results), results

    def enqueue_raw(self, body: str, group: str, dedup: str) -> None:
        self.sqs.send_message(
            QueueUrl=self.queue_url,
            MessageBody=body,
            MessageGroupId=group,
            MessageDeduplicationId=dedup,
        )

    def receive(self) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            VisibilityTimeout=60,
        )
        return [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
            }
            for m in response.get("Messages", [])
        ]

    def process(self, records: list[dict[str, Any]]) -> BatchReport:
        """What Lambda does: run the handler, delete what did not fail."""
        report = asyncio.run(self.sender.process(records))
        self.retrying = [r for r in records if r["messageId"] in report.failed_ids]
        done = [r for r in records if r["messageId"] not in report.failed_ids]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(done)
                ],
            )
        return report

    def run_batch(self) -> BatchReport | None:
        records = self.receive()
        return self.process(records) if records else None

    def fast_forward(self) -> None:
        """Make the records the last batch handed back visible now, as if their delay passed."""
        if self.retrying:
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": r["receiptHandle"], "VisibilityTimeout": 0}
                    for i, r in enumerate(self.retrying)
                ],
            )
            self.retrying = []

    def drain(self, *, max_batches: int = 200, fast_forward: bool = True) -> int:
        """Process until the queue is empty; with `fast_forward`, retried records come
        back at once (the test stands in for the passing of their delay)."""
        batches = 0
        while batches < max_batches:
            if fast_forward:
                self.fast_forward()
            records = self.receive()
            if not records:
                return batches
            self.process(records)
            batches += 1
        raise AssertionError(f"queue not drained after {max_batches} batches")

    def dlq_messages(self) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.dlq_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        )
        return list(response.get("Messages", []))


def text_request(to: str, body: str, **extra: Any) -> SendRequest:
    fields: dict[str, Any] = {
        "waba_id": WABA,
        "phone_number_id": NUMBER,
        "to": to,
        "message": {"type": "text", "text": {"body": body}},
    }
    fields.update(extra)
    return SendRequest.model_validate(fields)
