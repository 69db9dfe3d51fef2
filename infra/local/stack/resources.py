"""Creating the stage's resources on moto server from :mod:`infra.topology`.

The same specs the CDK constructs read (names, keys, indexes, visibility timeouts, redrive
counts, the schedule) build the tables, queues, dead-letter queues, bucket, bus, schedule
rule and secrets here, so the local stack cannot drift from the deployed one. What moto
does not model (KMS keys, TLS-only policies, point-in-time recovery) is left out: it
changes nothing a handler can observe.

Example::

    created = create_resources(AwsClients.for_endpoint(url, region), Topology("local"),
                               app_secret="s3cret", verify_token="v3rify")
    created.settings_values()    # the Settings fields that name them
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from infra.topology import (
    Projection,
    QueueKey,
    QueueSpec,
    SecretKey,
    TableSpec,
    Topology,
)

ACCOUNT_ID = "123456789012"
"""moto's default account."""

_DAY_S = 86_400
# The CDK stack gives dead-letter queues a short visibility: they wait for an operator.
_DLQ_VISIBILITY_S = 30
# The CDK stack long-polls (20 s); the local pollers pass their own shorter wait.
_RECEIVE_WAIT_S = 20


@dataclass
class AwsClients:
    """boto3 clients pointed at one endpoint (moto server), with fake credentials.

    Clients are thread-safe; one set is shared by the stack's own code (not by the
    handlers, which build theirs at cold start like in Lambda).
    """

    endpoint_url: str
    region: str
    session: boto3.Session = field(repr=False)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def for_endpoint(cls, endpoint_url: str, region: str) -> AwsClients:
        session = boto3.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - moto's fake credentials
            region_name=region,
        )
        return cls(endpoint_url, region, session)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(
                service,  # type: ignore[call-overload]
                endpoint_url=self.endpoint_url,
                config=Config(retries={"max_attempts": 3, "mode": "standard"}),
            )
        return self._clients[service]


@dataclass(frozen=True)
class CreatedResources:
    topology: Topology
    region: str
    account_id: str
    queue_urls: dict[QueueKey, str]
    dlq_urls: dict[QueueKey, str]
    queue_arns: dict[QueueKey, str]
    bucket: str
    app_secret: str = field(repr=False)
    verify_token: str = field(repr=False)

    def settings_values(self) -> dict[str, object]:
        """The resource-name fields of ``Settings``, from the topology."""
        return self.topology.settings_values(
            queue_urls=self.queue_urls, dlq_urls=self.dlq_urls, bucket=self.bucket
        )

    def function_arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"


def create_resources(
    clients: AwsClients,
    topology: Topology,
    *,
    app_secret: str,
    verify_token: str,
    account_id: str = ACCOUNT_ID,
) -> CreatedResources:
    """Create every table, queue, secret, the bucket, the bus and the schedule rules."""
    dynamodb = clients.client("dynamodb")
    for table in topology.tables:
        _create_table(dynamodb, topology.table_name(table.key), table)

    sqs = clients.client("sqs")
    queue_urls: dict[QueueKey, str] = {}
    dlq_urls: dict[QueueKey, str] = {}
    queue_arns: dict[QueueKey, str] = {}
    for queue in topology.queues:
        dlq_url = _create_queue(sqs, topology.dlq_name(queue.key), queue, dead_letter_arn=None)
        dlq_arn = _queue_arn(sqs, dlq_url)
        queue_url = _create_queue(sqs, topology.queue_name(queue.key), queue, dlq_arn)
        dlq_urls[queue.key] = dlq_url
        queue_urls[queue.key] = queue_url
        queue_arns[queue.key] = _queue_arn(sqs, queue_url)

    bucket = topology.bucket_name(account_id, clients.region)
    s3 = clients.client("s3")
    if clients.region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": clients.region}
        )

    secrets = clients.client("secretsmanager")
    values = {SecretKey.APP_SECRET: app_secret, SecretKey.VERIFY_TOKEN: verify_token}
    for secret in topology.secrets:
        secrets.create_secret(
            Name=topology.secret_name(secret.key),
            Description=secret.description,
            SecretString=values[secret.key],
        )

    created = CreatedResources(
        topology=topology,
        region=clients.region,
        account_id=account_id,
        queue_urls=queue_urls,
        dlq_urls=dlq_urls,
        queue_arns=queue_arns,
        bucket=bucket,
        app_secret=app_secret,
        verify_token=verify_token,
    )
    events = clients.client("events")
    events.create_event_bus(Name=topology.bus_name)
    for schedule in topology.schedules:
        # The rule exists as in AWS; locally `schedule.Scheduler` is what fires it.
        events.put_rule(
            Name=topology.schedule_name(schedule.key),
            ScheduleExpression=schedule.expression,
            State="ENABLED",
            Description=schedule.description,
        )
        events.put_targets(
            Rule=topology.schedule_name(schedule.key),
            Targets=[
                {
                    "Id": str(schedule.target),
                    "Arn": created.function_arn(topology.function_name(schedule.target)),
                }
            ],
        )
    return created


def store_waba_token(clients: AwsClients, topology: Topology, waba_id: str, token: str) -> None:
    """Create or replace a WABA's token secret (what onboarding does), as JSON."""
    secrets = clients.client("secretsmanager")
    name = f"{topology.waba_secret_prefix}{waba_id}"
    value = json.dumps({"access_token": token})
    try:
        secrets.put_secret_value(SecretId=name, SecretString=value)
    except secrets.exceptions.ResourceNotFoundException:
        secrets.create_secret(Name=name, SecretString=value)


def _create_table(dynamodb: Any, name: str, spec: TableSpec) -> None:
    attributes = {spec.partition_key} | {index.partition_key for index in spec.indexes}
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": spec.partition_key, "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": attribute, "AttributeType": "S"} for attribute in sorted(attributes)
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if spec.indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": [{"AttributeName": index.partition_key, "KeyType": "HASH"}],
                "Projection": {
                    "ProjectionType": "KEYS_ONLY"
                    if index.projection is Projection.KEYS_ONLY
                    else "ALL"
                },
            }
            for index in spec.indexes
        ]
    dynamodb.create_table(**request)
    dynamodb.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
    )


def _create_queue(sqs: Any, name: str, spec: QueueSpec, dead_letter_arn: str | None) -> str:
    is_dlq = dead_letter_arn is None
    attributes: dict[str, str] = {
        "VisibilityTimeout": str(_DLQ_VISIBILITY_S if is_dlq else spec.visibility_timeout_seconds),
        "MessageRetentionPeriod": str(
            (spec.dlq_retention_days if is_dlq else spec.retention_days) * _DAY_S
        ),
        "MaximumMessageSize": str(spec.dlq_max_message_bytes if is_dlq else spec.max_message_bytes),
        "ReceiveMessageWaitTimeSeconds": str(_RECEIVE_WAIT_S),
        "SqsManagedSseEnabled": "true",
    }
    if spec.fifo:
        attributes["FifoQueue"] = "true"
        if spec.high_throughput and not is_dlq:
            attributes["DeduplicationScope"] = "messageGroup"
            attributes["FifoThroughputLimit"] = "perMessageGroupId"
    if dead_letter_arn is not None:
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": spec.max_receive_count}
        )
    url: str = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    return url


def _queue_arn(sqs: Any, url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    arn: str = attributes["Attributes"]["QueueArn"]
    return arn
