"""Each function's role allows exactly what that function uses, on named resources only."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pytest

from infra.topology import FunctionKey, QueueKey, SecretKey, TableKey

from .cdk_support import Synthesized

Grant = tuple[str, str]  # (action, resource as canonical JSON)

READ = (
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
)
WRITE = (
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)
CONSUME = (
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:ReceiveMessage",
)
TRACING = ("xray:PutTelemetryRecords", "xray:PutTraceSegments")
# The stage's WABA token prefix and Secrets Manager's random suffix, nothing wider.
WABA_TOKENS = {
    "Fn::Join": [
        "",
        [
            "arn:",
            {"Ref": "AWS::Partition"},
            ":secretsmanager:",
            {"Ref": "AWS::Region"},
            ":",
            {"Ref": "AWS::AccountId"},
            ":secret:pixy-whatsapp/test/waba/*",
        ],
    ]
}


def _canonical(resource: Any) -> str:
    return json.dumps(resource, sort_keys=True)


def _grants(actions: Iterable[str], resources: Iterable[Any]) -> set[Grant]:
    return {(action, _canonical(resource)) for action in actions for resource in resources}


def granted(synthesized: Synthesized, key: FunctionKey) -> set[Grant]:
    """Every (action, resource) the function's role is allowed, from all its policies."""
    role = synthesized.stack.functions.functions[key].role
    assert role is not None
    role_ref = {"Ref": synthesized.logical_id(role)}
    role_props = synthesized.resources[synthesized.logical_id(role)]["Properties"]
    assert "ManagedPolicyArns" not in role_props
    assert "Policies" not in role_props

    result: set[Grant] = set()
    for policy in synthesized.of_type("AWS::IAM::Policy").values():
        if role_ref not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"]
            resources = statement["Resource"]
            result |= _grants(
                [actions] if isinstance(actions, str) else actions,
                resources if isinstance(resources, list) else [resources],
            )
    return result


class Expect:
    """The grants a function should have, built from the stack's own constructs."""

    def __init__(self, synthesized: Synthesized, key: FunctionKey) -> None:
        self.s = synthesized
        self.stack = synthesized.stack
        log_group = self.stack.functions.functions[key].log_group
        self.grants = _grants(
            ("logs:CreateLogStream", "logs:PutLogEvents"),
            [synthesized.ref(log_group.log_group_arn)],
        ) | _grants(TRACING, ["*"])

    def table(self, key: TableKey, *, write: bool) -> Expect:
        table = self.stack.storage.tables[key]
        arns = [self.s.ref(table.table_arn)]
        if key is TableKey.MESSAGES:
            arns.append(self.s.ref(f"{table.table_arn}/index/by-wamid"))
        self.grants |= _grants((*READ, *(WRITE if write else ())), arns)
        return self

    def queue(self, actions: Iterable[str], key: QueueKey, *, dlq: bool = False) -> Expect:
        queue = (self.stack.queues.dlqs if dlq else self.stack.queues.queues)[key]
        self.grants |= _grants(actions, [self.s.ref(queue.queue_arn)])
        return self

    def bucket_objects(self, action: str) -> Expect:
        bucket = self.stack.queues.webhook_bucket
        self.grants |= _grants([action], [self.s.ref(bucket.arn_for_objects("*"))])
        return self

    def secret(self, key: SecretKey) -> Expect:
        secret = self.stack.secrets.secrets[key]
        self.grants |= _grants(["secretsmanager:GetSecretValue"], [self.s.ref(secret.secret_arn)])
        return self

    def waba_tokens(self, *actions: str) -> Expect:
        self.grants |= _grants(actions, [WABA_TOKENS])
        return self

    def put_events(self) -> Expect:
        bus = self.stack.event_bus.bus
        self.grants |= _grants(["events:PutEvents"], [self.s.ref(bus.event_bus_arn)])
        return self


def _show(grants: set[Grant]) -> list[str]:
    return sorted(f"{action} {resource}" for action, resource in grants)


def _assert_exactly(synthesized: Synthesized, key: FunctionKey, expected: Expect) -> None:
    actual = granted(synthesized, key)
    assert _show(actual - expected.grants) == [], "granted but not expected"
    assert _show(expected.grants - actual) == [], "expected but not granted"


def test_webhook_may_only_enqueue_store_bodies_and_read_its_two_secrets(
    synthesized: Synthesized,
) -> None:
    expected = (
        Expect(synthesized, FunctionKey.WEBHOOK)
        .queue(["sqs:SendMessage"], QueueKey.INBOUND)
        .bucket_objects("s3:PutObject")
        .secret(SecretKey.APP_SECRET)
        .secret(SecretKey.VERIFY_TOKEN)
    )
    _assert_exactly(synthesized, FunctionKey.WEBHOOK, expected)


def test_sender(synthesized: Synthesized) -> None:
    expected = (
        Expect(synthesized, FunctionKey.SENDER)
        .queue(CONSUME, QueueKey.OUTBOUND)
        .queue(["sqs:SendMessage"], QueueKey.OUTBOUND, dlq=True)
        .table(TableKey.MESSAGES, write=True)
        .table(TableKey.CONTROL, write=True)
        .table(TableKey.CONTACTS, write=True)
        .waba_tokens("secretsmanager:GetSecretValue")
        .put_events()
    )
    _assert_exactly(synthesized, FunctionKey.SENDER, expected)


def test_inbound_processor(synthesized: Synthesized) -> None:
    expected = (
        Expect(synthesized, FunctionKey.INBOUND)
        .queue(CONSUME, QueueKey.INBOUND)
        .queue(["sqs:SendMessage"], QueueKey.INBOUND, dlq=True)
        .bucket_objects("s3:GetObject")
        .table(TableKey.MESSAGES, write=True)
        .table(TableKey.CONTACTS, write=True)
        .table(TableKey.CONTROL, write=True)
        .table(TableKey.IDEMPOTENCY, write=True)
        .table(TableKey.WABAS, write=False)
        .put_events()
    )
    _assert_exactly(synthesized, FunctionKey.INBOUND, expected)


def test_send_api(synthesized: Synthesized) -> None:
    expected = (
        Expect(synthesized, FunctionKey.API)
        .queue(["sqs:SendMessage", "sqs:GetQueueAttributes"], QueueKey.OUTBOUND)
        .table(TableKey.MESSAGES, write=True)
        .table(TableKey.WABAS, write=True)
        .table(TableKey.CONTROL, write=False)
        .secret(SecretKey.VERIFY_TOKEN)
        .waba_tokens(
            "secretsmanager:CreateSecret",
            "secretsmanager:DeleteSecret",
            "secretsmanager:DescribeSecret",
            "secretsmanager:GetSecretValue",
            "secretsmanager:PutSecretValue",
            "secretsmanager:RestoreSecret",
        )
    )
    # Health reports every queue's depth.
    for key in QueueKey:
        expected.queue(["sqs:GetQueueAttributes"], key, dlq=True)
    expected.queue(["sqs:GetQueueAttributes"], QueueKey.INBOUND)
    _assert_exactly(synthesized, FunctionKey.API, expected)


def test_subscriptions(synthesized: Synthesized) -> None:
    expected = (
        Expect(synthesized, FunctionKey.SUBSCRIPTIONS)
        .table(TableKey.WABAS, write=True)
        .table(TableKey.CONTROL, write=True)
        .table(TableKey.MESSAGES, write=False)
        .secret(SecretKey.VERIFY_TOKEN)
        .waba_tokens("secretsmanager:GetSecretValue")
        .put_events()
    )
    _assert_exactly(synthesized, FunctionKey.SUBSCRIPTIONS, expected)


@pytest.mark.parametrize("key", list(FunctionKey))
def test_no_function_may_touch_the_app_secret_except_the_webhook(
    synthesized: Synthesized, key: FunctionKey
) -> None:
    app_secret = _canonical(
        synthesized.ref(synthesized.stack.secrets.secrets[SecretKey.APP_SECRET].secret_arn)
    )
    reads_it = any(resource == app_secret for _, resource in granted(synthesized, key))
    assert reads_it is (key is FunctionKey.WEBHOOK)


def test_only_the_api_may_create_or_delete_waba_tokens(synthesized: Synthesized) -> None:
    for key in FunctionKey:
        actions = {action for action, _ in granted(synthesized, key)}
        manages = {"secretsmanager:CreateSecret", "secretsmanager:DeleteSecret"} & actions
        assert bool(manages) is (key is FunctionKey.API)
