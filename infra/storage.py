"""DynamoDB tables: one per kind of record, shaped by :data:`infra.topology.TABLES`."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra.topology import Projection, TableKey, Topology

_PROJECTIONS = {
    Projection.KEYS_ONLY: dynamodb.ProjectionType.KEYS_ONLY,
    Projection.ALL: dynamodb.ProjectionType.ALL,
}


class Storage(Construct):
    """On-demand tables with point-in-time recovery, encryption at rest and TTL."""

    def __init__(self, scope: Construct, id: str, *, topology: Topology, retain: bool) -> None:
        super().__init__(scope, id)
        removal = cdk.RemovalPolicy.RETAIN if retain else cdk.RemovalPolicy.DESTROY
        self.tables: dict[TableKey, dynamodb.Table] = {}
        for spec in topology.tables:
            table = dynamodb.Table(
                self,
                spec.key.title(),
                table_name=topology.table_name(spec.key),
                partition_key=dynamodb.Attribute(
                    name=spec.partition_key, type=dynamodb.AttributeType.STRING
                ),
                # Traffic follows campaigns and Meta's webhooks: spiky, so pay per request.
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                time_to_live_attribute=spec.ttl_attribute,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                # AWS-managed key: the encryption shows in the template and in CloudTrail,
                # without a customer key to pay for and rotate.
                encryption=dynamodb.TableEncryption.AWS_MANAGED,
                deletion_protection=retain,
                removal_policy=removal,
            )
            for index in spec.indexes:
                table.add_global_secondary_index(
                    index_name=index.name,
                    partition_key=dynamodb.Attribute(
                        name=index.partition_key, type=dynamodb.AttributeType.STRING
                    ),
                    projection_type=_PROJECTIONS[index.projection],
                )
            self.tables[spec.key] = table
