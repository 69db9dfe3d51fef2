"""The inbound processor's world on moto: tables, queues, the bus and a queue behind it."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from mypy_boto3_dynamodb import DynamoDBClient
from mypy_boto3_events import EventBridgeClient
from mypy_boto3_s3 import S3Client
from mypy_boto3_sqs import SQSClient
from pixy_whatsapp.contacts import Contact, ContactStore
from pixy_whatsapp.events import EventPublisher
from pixy_whatsapp.inbound import InboundClients, InboundProcessor, build_inbound_processor
from pixy_whatsapp.observability import metrics
from pixy_whatsapp.outbound import Category, SendRequest
from pixy_whatsapp.settings import Settings
from pixy_whatsapp.statuses import MessageStatus, MessageStore
from pixy_whatsapp.webhooks import WebhookEnvelope

from .payloads import NUMBER_ID, USER, WABA

RECEIVED_AT = 1_767_225_700_000
BUS = "pixy-test-events"
BUCKET = "pixy-test-webhook-bodies"


def create_world(
    ddb: DynamoDBClient, sqs: SQSClient, s3: S3Client, events: EventBridgeClient
) -> tuple[Settings, str]:
    """Every resource the inbound function uses; returns its settings and the event sink."""
    tables = {
        name: f"pixy-test-{name}" for name in ("messages", "contacts", "idempotency", "control")
    }
    ddb.create_table(
        TableName=tables["messages"],
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
    for name in ("contacts", "idempotency", "control"):
        ddb.create_table(
            TableName=tables[name],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    dlq_url = sqs.create_queue(QueueName="pixy-test-inbound-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    inbound_url = sqs.create_queue(
        QueueName="pixy-test-inbound",
        Attributes={
            "VisibilityTimeout": "180",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}),
        },
    )["QueueUrl"]
    s3.create_bucket(Bucket=BUCKET)
    events.create_event_bus(Name=BUS)
    sink_url = sqs.create_queue(QueueName="pixy-test-event-sink")["QueueUrl"]
    sink_arn = sqs.get_queue_attributes(QueueUrl=sink_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(
        Name="everything-from-pixy",
        EventBusName=BUS,
        EventPattern=json.dumps({"source": ["pixy.whatsapp"]}),
    )
    events.put_targets(
        Rule="everything-from-pixy", EventBusName=BUS, Targets=[{"Id": "sink", "Arn": sink_arn}]
    )
    settings = Settings(
        stage="test",
        messages_table=tables["messages"],
        control_table=tables["control"],
        contacts_table=tables["contacts"],
        wabas_table="pixy-test-wabas",
        idempotency_table=tables["idempotency"],
        outbound_queue_url="https://sqs.us-east-1.amazonaws.com/123456789012/out.fifo",
        outbound_dlq_url="https://sqs.us-east-1.amazonaws.com/123456789012/out-dlq.fifo",
        inbound_queue_url=inbound_url,
        inbound_dlq_url=dlq_url,
        webhook_bucket=BUCKET,
        event_bus=BUS,
        app_secret_name="pixy/test/app-secret",
        verify_token_name="pixy/test/verify-token",
        waba_secret_prefix="pixy/test/waba/",
    )
    return settings, sink_url


def envelope(body: bytes, received_at: int = RECEIVED_AT) -> str:
    """The inbound queue message the webhook function writes for ``body``."""
    return WebhookEnvelope(
        version=1,
        received_at=received_at,
        size=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
        body=body.decode("utf-8"),
    ).to_message()


@dataclass
class World:
    ddb: DynamoDBClient
    sqs: SQSClient
    s3: S3Client
    events: EventBridgeClient
    settings: Settings
    sink_url: str
    processor: InboundProcessor = field(init=False)

    def __post_init__(self) -> None:
        self.processor = self.build()

    def build(self, *, publisher: EventPublisher | None = None, **changes: Any) -> InboundProcessor:
        """A processor as the Lambda builds it, from these settings with ``changes``."""
        settings = self.settings.model_copy(update=changes) if changes else self.settings
        clients = InboundClients(dynamodb=self.ddb, sqs=self.sqs, s3=self.s3, events=self.events)
        return build_inbound_processor(settings, clients, publisher=publisher)

    @property
    def messages(self) -> MessageStore:
        return MessageStore(self.ddb, self.settings.messages_table)

    @property
    def contacts(self) -> ContactStore:
        return ContactStore(self.ddb, self.settings.contacts_table)

    def contact(self, recipient: str, waba_id: str = WABA) -> Contact:
        return self.contacts.get_many([(waba_id, recipient)])[(waba_id, recipient)]

    def deliver(self, body: bytes) -> None:
        self.processor.process(envelope(body), source_message_id="test-record")

    def published(self) -> list[dict[str, Any]]:
        """Every event the bus delivered to the sink since the last call."""
        found: list[dict[str, Any]] = []
        while True:
            got = self.sqs.receive_message(QueueUrl=self.sink_url, MaxNumberOfMessages=10)
            messages = got.get("Messages", [])
            if not messages:
                return found
            for message in messages:
                found.append(json.loads(message["Body"]))
                self.sqs.delete_message(
                    QueueUrl=self.sink_url, ReceiptHandle=message["ReceiptHandle"]
                )

    def parked(self) -> list[dict[str, Any]]:
        got = self.sqs.receive_message(
            QueueUrl=self.settings.inbound_dlq_url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
        )
        return [dict(message) for message in got.get("Messages", [])]

    def sent_message(
        self,
        *,
        wamid: str | None = None,
        accepted_at: int | None = None,
        category: str = "utility",
        to: str = USER,
    ) -> str:
        """A message the sender took: left `sending`, or accepted with ``wamid``."""
        request = SendRequest(
            id=uuid.uuid4().hex,
            waba_id=WABA,
            phone_number_id=NUMBER_ID,
            to=to,
            message={"type": "text", "text": {"body": "your order shipped"}},
            category=Category(category),
            client_reference="order-42",
            metadata={"campaign": "spring", "batch": 7},
        )
        store = self.messages
        store.claim(request, at_ms=RECEIVED_AT - 60_000)
        if wamid is not None:
            store.apply_status(
                request.id,
                MessageStatus.ACCEPTED,
                accepted_at if accepted_at is not None else RECEIVED_AT - 59_000,
                wamid=wamid,
            )
        return request.id


def of_type(events: list[dict[str, Any]], detail_type: str) -> list[dict[str, Any]]:
    return [event["detail"] for event in events if event["detail-type"] == detail_type]


def metric_values(name: str) -> list[float]:
    """Values added to the shared Metrics object under ``name`` (not yet flushed)."""
    entry = metrics.metric_set.get(name)
    return list(entry["Value"]) if entry else []
