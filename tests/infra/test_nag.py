"""cdk-nag's AwsSolutions pack passes, and every acknowledgement is one we meant."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sqs as sqs

from infra.nag import acknowledge, add_checks

from .cdk_support import Synthesized

# Each id below is acknowledged in code next to the resource it concerns, with its reason.
ACKNOWLEDGED: dict[str, int] = {
    "AwsSolutions-L1": 5,  # Python 3.13: the runtime the layer is built for
    "AwsSolutions-IAM5[Resource::*]": 5,  # X-Ray has no resource-level permissions
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:"
    "<AWS::AccountId>:secret:pixy-whatsapp/test/waba/*]": 3,  # per-WABA tokens
    "AwsSolutions-IAM5[Resource::<{bucket}.Arn>/*]": 2,  # webhook body objects
    "AwsSolutions-APIG4": 2,  # Meta's webhook routes: HMAC in the handler
    "AwsSolutions-SMG4": 2,  # secrets Meta issues or holds a copy of
    "AwsSolutions-S1": 1,  # short-lived spill bucket
}


@pytest.fixture(scope="module")
def report(synthesized: Synthesized) -> dict[str, Any]:
    reports: dict[str, Any] = json.loads(
        (synthesized.outdir / "validation-report.json").read_text()
    )
    (plugin,) = reports["pluginReports"]
    assert plugin["pluginName"] == "AwsSolutions"
    return dict(plugin)


def test_aws_solutions_passes_with_no_open_finding(report: dict[str, Any]) -> None:
    assert report["conclusion"] == "success"
    assert report["violations"] == []


def test_only_the_expected_findings_are_acknowledged(
    synthesized: Synthesized, report: dict[str, Any]
) -> None:
    bucket = synthesized.logical_id(synthesized.stack.queues.webhook_bucket)
    expected = {rule.format(bucket=bucket): count for rule, count in ACKNOWLEDGED.items()}
    counted: dict[str, int] = {}
    for finding in report["suppressedViolations"]:
        assert len(finding["reason"]) > 40, finding["ruleName"]
        counted[finding["ruleName"]] = counted.get(finding["ruleName"], 0) + 1
    assert counted == expected


def test_an_unacknowledged_finding_fails_synthesis(tmp_path: Any) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Plain")
    queue = sqs.Queue(stack, "NoDlq", enforce_ssl=True)
    add_checks(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()

    acknowledged = cdk.App(outdir=str(tmp_path / "acknowledged"))
    stack = cdk.Stack(acknowledged, "Plain")
    queue = sqs.Queue(stack, "NoDlq", enforce_ssl=True)
    acknowledge(queue, "SQS3", "a queue made only to prove the plugin fails synthesis")
    add_checks(acknowledged)
    acknowledged.synth()
