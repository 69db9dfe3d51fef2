"""A moto deployment for the API Lambda, and a client calling its handler with HTTP API events."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mypy_boto3_dynamodb import DynamoDBClient
from mypy_boto3_sqs import SQSClient
from pixy_whatsapp.settings import Settings

from tests.integration.webhook.events import LambdaContextStub, http_api_event

WABA = "102290129340398"
NUMBER = "106540352242922"
OTHER_NUMBER = "106540352242923"
RECIPIENT = "+15557654321"

# The SQS attributes of the queue the stack builds: FIFO with high throughput.
OUTBOUND_ATTRIBUTES = {
    "FifoQueue": "true",
    "DeduplicationScope": "messageGroup",
    "FifoThroughputLimit": "perMessageGroupId",
}


def text(body: str = "Your order 1042 has shipped.", **fields: Any) -> dict[str, Any]:
    """One message of a `POST /v1/messages` body: a text to RECIPIENT from NUMBER."""
    return {
        "waba_id": WABA,
        "phone_number_id": NUMBER,
        "to": RECIPIENT,
        "message": {"type": "text", "text": {"body": body}},
        **fields,
    }


def create_tables(dynamodb: DynamoDBClient, messages: str, control: str) -> None:
    dynamodb.create_table(
        TableName=messages,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "wamid", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-wamid",
                "KeySchema": [{"AttributeName": "wamid", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.create_table(
        TableName=control,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def create_queues(sqs: SQSClient) -> dict[str, str]:
    outbound_dlq = sqs.create_queue(
        QueueName="pixy-test-outbound-dlq.fifo", Attributes=OUTBOUND_ATTRIBUTES
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=outbound_dlq, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    outbound = sqs.create_queue(
        QueueName="pixy-test-outbound.fifo",
        Attributes={
            **OUTBOUND_ATTRIBUTES,
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 100}),
        },
    )["QueueUrl"]
    inbound_dlq = sqs.create_queue(QueueName="pixy-test-inbound-dlq")["QueueUrl"]
    inbound = sqs.create_queue(QueueName="pixy-test-inbound")["QueueUrl"]
    return {
        "outbound": outbound,
        "outbound_dlq": outbound_dlq,
        "inbound": inbound,
        "inbound_dlq": inbound_dlq,
    }


@dataclass(frozen=True)
class Queued:
    """A message as it sits on the outbound queue."""

    body: dict[str, Any]
    group_id: str
    deduplication_id: str


@dataclass
class Deployment:
    sqs: SQSClient
    dynamodb: DynamoDBClient
    settings: Settings

    def drain_outbound(self) -> list[Queued]:
        """Everything on the outbound queue, deleted as read so every group unlocks."""
        taken: list[Queued] = []
        while True:
            got = self.sqs.receive_message(
                QueueUrl=self.settings.outbound_queue_url,
                MaxNumberOfMessages=10,
                MessageSystemAttributeNames=["MessageGroupId", "MessageDeduplicationId"],
            )
            messages = got.get("Messages", [])
            if not messages:
                return taken
            for message in messages:
                attributes = message["Attributes"]
                taken.append(
                    Queued(
                        body=json.loads(message["Body"]),
                        group_id=attributes["MessageGroupId"],
                        deduplication_id=attributes["MessageDeduplicationId"],
                    )
                )
            self.sqs.delete_message_batch(
                QueueUrl=self.settings.outbound_queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )

    def outbound_depth(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.settings.outbound_queue_url,
            AttributeNames=["ApproximateNumberOfMessages"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def problems(self) -> dict[str, str]:
        """An error answer's details, path to message."""
        return {d["path"]: d["message"] for d in self.body.get("details", [])}


Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class ApiClient:
    """Calls the handler the way API Gateway does, and reads its answers."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler

    def call(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        base64_body: bool = False,
    ) -> Answer:
        event = http_api_event(
            method,
            path,
            query=query,
            headers={"user-agent": "pixy-tests", **(headers or {})},
            body=body,
            base64_body=base64_body,
        )
        response = self._handler(event, LambdaContextStub(function_name="pixy-api"))
        raw = response.get("body") or ""
        try:
            parsed: Any = json.loads(raw)
        except ValueError:
            parsed = raw
        return Answer(response["statusCode"], parsed, response.get("headers") or {})

    def send(self, *messages: dict[str, Any]) -> Answer:
        return self.post_json("/v1/messages", {"messages": list(messages)})

    def post_json(self, path: str, document: Any) -> Answer:
        return self.call(
            "POST",
            path,
            body=json.dumps(document).encode(),
            headers={"content-type": "application/json"},
        )

    def get(self, path: str, query: dict[str, str] | None = None) -> Answer:
        return self.call("GET", path, query=query)
