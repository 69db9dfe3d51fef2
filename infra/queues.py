"""SQS queues with their dead-letter queues, and the bucket for oversized webhook bodies."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.nag import acknowledge
from infra.topology import WEBHOOK_BODY_RETENTION_DAYS, QueueKey, QueueSpec, Topology


class Queues(Construct):
    """The outbound FIFO send queue, the inbound webhook queue, their DLQs and the bucket."""

    def __init__(self, scope: Construct, id: str, *, topology: Topology, retain: bool) -> None:
        super().__init__(scope, id)
        self.queues: dict[QueueKey, sqs.Queue] = {}
        self.dlqs: dict[QueueKey, sqs.Queue] = {}
        for spec in topology.queues:
            dlq = self._queue(
                f"{spec.key.title()}Dlq",
                spec,
                name=topology.dlq_name(spec.key),
                retention_days=spec.dlq_retention_days,
                # A dead letter waits for an operator's redrive, not for a consumer.
                visibility_seconds=30,
                dead_letter=None,
            )
            self.dlqs[spec.key] = dlq
            self.queues[spec.key] = self._queue(
                spec.key.title(),
                spec,
                name=topology.queue_name(spec.key),
                retention_days=spec.retention_days,
                visibility_seconds=spec.visibility_timeout_seconds,
                dead_letter=sqs.DeadLetterQueue(
                    queue=dlq, max_receive_count=spec.max_receive_count
                ),
            )

        self.webhook_bucket = s3.Bucket(
            self,
            "WebhookBodies",
            bucket_name=topology.bucket_name(cdk.Aws.ACCOUNT_ID, cdk.Aws.REGION),
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(expiration=cdk.Duration.days(WEBHOOK_BODY_RETENTION_DAYS))
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN if retain else cdk.RemovalPolicy.DESTROY,
        )
        acknowledge(
            self.webhook_bucket,
            "S1",
            "The bucket only spills webhook bodies over the queue's size limit for a few "
            "days; its single writer and reader are this stack's functions, and a second "
            "bucket of access logs would outlive the data it describes. CloudTrail data "
            "events can be switched on per account if an audit needs them.",
        )

    def _queue(
        self,
        id: str,
        spec: QueueSpec,
        *,
        name: str,
        retention_days: int,
        visibility_seconds: int,
        dead_letter: sqs.DeadLetterQueue | None,
    ) -> sqs.Queue:
        high_throughput = spec.high_throughput and dead_letter is not None
        return sqs.Queue(
            self,
            id,
            queue_name=name,
            fifo=spec.fifo or None,
            # High-throughput FIFO: throughput and deduplication are per message group, so
            # each WABA shard is its own lane and one tenant's burst cannot slow another.
            fifo_throughput_limit=(
                sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID if high_throughput else None
            ),
            deduplication_scope=(sqs.DeduplicationScope.MESSAGE_GROUP if high_throughput else None),
            visibility_timeout=cdk.Duration.seconds(visibility_seconds),
            retention_period=cdk.Duration.days(retention_days),
            max_message_size_bytes=(
                spec.max_message_bytes if dead_letter is not None else spec.dlq_max_message_bytes
            ),
            # Long polling keeps the event source's empty receives (billed) down.
            receive_message_wait_time=cdk.Duration.seconds(20),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=dead_letter,
        )
