"""Least privilege: what each function may touch, as data, and the IAM statements for it.

The table below is the whole of each function's data-plane access (besides its own log
group, X-Ray, and the queue its event source mapping reads, which CDK grants with the
mapping). Every resource is named by ARN; the only wildcards are object keys in the
webhook bucket and the per-WABA secret name prefix, acknowledged by :func:`grant`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs

from infra.nag import acknowledge
from infra.topology import FunctionKey, QueueKey, SecretKey, TableKey


class TableAccess(StrEnum):
    READ = "read"
    READ_WRITE = "read_write"


class TokenAccess(StrEnum):
    NONE = "none"
    READ = "read"
    MANAGE = "manage"  # onboarding stores, replaces and removes WABA tokens


@dataclass(frozen=True)
class QueueRef:
    key: QueueKey
    dlq: bool = False


@dataclass(frozen=True)
class Access:
    tables: Mapping[TableKey, TableAccess] = field(default_factory=dict)
    send_to: frozenset[QueueRef] = frozenset()
    read_attributes_of: frozenset[QueueRef] = frozenset()
    bucket_put: bool = False
    bucket_get: bool = False
    secrets: frozenset[SecretKey] = frozenset()
    waba_tokens: TokenAccess = TokenAccess.NONE
    put_events: bool = False


_RW = TableAccess.READ_WRITE
_R = TableAccess.READ
_ALL_QUEUES = frozenset(QueueRef(key, dlq) for key in QueueKey for dlq in (False, True))

ACCESS: Mapping[FunctionKey, Access] = MappingProxyType(
    {
        # Send API and WABA admin: enqueue, read status, register WABAs, report health.
        FunctionKey.API: Access(
            tables={
                TableKey.MESSAGES: _RW,
                TableKey.CONTROL: _R,
                TableKey.WABAS: _RW,
            },
            send_to=frozenset({QueueRef(QueueKey.OUTBOUND)}),
            read_attributes_of=_ALL_QUEUES,
            secrets=frozenset({SecretKey.VERIFY_TOKEN}),
            waba_tokens=TokenAccess.MANAGE,
        ),
        # Verify, then hand over: nothing else, so a flaw here reaches nothing else.
        FunctionKey.WEBHOOK: Access(
            send_to=frozenset({QueueRef(QueueKey.INBOUND)}),
            bucket_put=True,
            secrets=frozenset({SecretKey.APP_SECRET, SecretKey.VERIFY_TOKEN}),
        ),
        FunctionKey.INBOUND: Access(
            tables={
                TableKey.MESSAGES: _RW,
                TableKey.CONTACTS: _RW,
                TableKey.CONTROL: _RW,
                TableKey.WABAS: _R,
                TableKey.IDEMPOTENCY: _RW,
            },
            # Bodies that verify but cannot be parsed are parked with their reason.
            send_to=frozenset({QueueRef(QueueKey.INBOUND, dlq=True)}),
            bucket_get=True,
            put_events=True,
        ),
        FunctionKey.SENDER: Access(
            tables={
                TableKey.MESSAGES: _RW,
                TableKey.CONTROL: _RW,
                TableKey.CONTACTS: _RW,
            },
            # A body that is not a SendRequest goes to the DLQ with its reason attached.
            send_to=frozenset({QueueRef(QueueKey.OUTBOUND, dlq=True)}),
            waba_tokens=TokenAccess.READ,
            put_events=True,
        ),
        FunctionKey.SUBSCRIPTIONS: Access(
            tables={
                TableKey.WABAS: _RW,
                TableKey.CONTROL: _RW,
                # shadow delivery: has the canary message seen a status webhook?
                TableKey.MESSAGES: _R,
            },
            secrets=frozenset({SecretKey.VERIFY_TOKEN}),
            waba_tokens=TokenAccess.READ,
            put_events=True,
        ),
    }
)

TABLE_READ_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
)
TABLE_WRITE_ACTIONS = (
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)
SECRET_READ_ACTIONS = ("secretsmanager:GetSecretValue",)
TOKEN_MANAGE_ACTIONS = (
    "secretsmanager:CreateSecret",
    "secretsmanager:DeleteSecret",
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:RestoreSecret",
)


@dataclass(frozen=True)
class Resources:
    """The resources the table above refers to."""

    tables: Mapping[TableKey, dynamodb.Table]
    index_names: Mapping[TableKey, tuple[str, ...]]
    queues: Mapping[QueueKey, sqs.Queue]
    dlqs: Mapping[QueueKey, sqs.Queue]
    bucket: s3.Bucket
    secrets: Mapping[SecretKey, secretsmanager.Secret]
    waba_secret_prefix: str
    waba_secret_arn_pattern: str
    bus: events.EventBus

    def queue_arn(self, ref: QueueRef) -> str:
        return (self.dlqs if ref.dlq else self.queues)[ref.key].queue_arn


def statements(access: Access, resources: Resources) -> list[iam.PolicyStatement]:
    """The IAM statements that grant exactly ``access``."""
    result: list[iam.PolicyStatement] = []

    def allow(actions: tuple[str, ...], arns: list[str]) -> None:
        result.append(iam.PolicyStatement(actions=list(actions), resources=arns))

    for key, level in sorted(access.tables.items()):
        table = resources.tables[key]
        arns = [table.table_arn]
        arns += [f"{table.table_arn}/index/{name}" for name in resources.index_names[key]]
        writes = TABLE_WRITE_ACTIONS if level is TableAccess.READ_WRITE else ()
        allow((*TABLE_READ_ACTIONS, *writes), arns)
    if access.send_to:
        allow(("sqs:SendMessage",), _queue_arns(access.send_to, resources))
    if access.read_attributes_of:
        allow(("sqs:GetQueueAttributes",), _queue_arns(access.read_attributes_of, resources))
    if access.bucket_put:
        allow(("s3:PutObject",), [resources.bucket.arn_for_objects("*")])
    if access.bucket_get:
        allow(("s3:GetObject",), [resources.bucket.arn_for_objects("*")])
    if access.secrets:
        arns = [resources.secrets[key].secret_arn for key in sorted(access.secrets)]
        allow(SECRET_READ_ACTIONS, arns)
    if access.waba_tokens is TokenAccess.READ:
        allow(SECRET_READ_ACTIONS, [resources.waba_secret_arn_pattern])
    elif access.waba_tokens is TokenAccess.MANAGE:
        allow(TOKEN_MANAGE_ACTIONS, [resources.waba_secret_arn_pattern])
    if access.put_events:
        allow(("events:PutEvents",), [resources.bus.event_bus_arn])
    return result


def _queue_arns(refs: frozenset[QueueRef], resources: Resources) -> list[str]:
    ordered = sorted(refs, key=lambda ref: (ref.key, ref.dlq))
    return [resources.queue_arn(ref) for ref in ordered]


def grant(role: iam.IRole, access: Access, resources: Resources) -> None:
    """Give ``role`` exactly ``access``, acknowledging the two deliberate wildcards."""
    for statement in statements(access, resources):
        role.add_to_principal_policy(statement)
    if access.bucket_put or access.bucket_get:
        bucket = resources.bucket.node.default_child
        assert isinstance(bucket, cdk.CfnElement)
        logical_id = cdk.Stack.of(bucket).resolve(bucket.logical_id)
        acknowledge(
            role,
            "IAM5",
            "Object keys in the webhook bucket are generated per oversized webhook body, so "
            "they cannot be listed in advance; the wildcard is limited to objects of this "
            "one bucket and to a single action (PutObject for the webhook, GetObject for the "
            "inbound processor).",
            finding=f"Resource::<{logical_id}.Arn>/*",
        )
    if access.waba_tokens is not TokenAccess.NONE:
        acknowledge(
            role,
            "IAM5",
            "Each WABA's token secret is created at run time when the WABA is onboarded, "
            "named <prefix><waba_id>; the wildcard covers that prefix of this stage only "
            "(and Secrets Manager's random ARN suffix), nothing else in the account.",
            finding=(
                "Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:"
                f"<AWS::AccountId>:secret:{resources.waba_secret_prefix}*"
            ),
        )
