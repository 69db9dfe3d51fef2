"""cdk-nag (v3) wiring: the AwsSolutions pack as a CDK validation plugin.

With v3 an unacknowledged finding fails synthesis (``cdk synth`` exits 1 and
``app.synth()`` raises), so the stack is clean or it does not build. Each construct
acknowledges its own findings next to the resource, with the reason in the call.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

PACK = "AwsSolutions"


def add_checks(app: cdk.App) -> None:
    """Run the AwsSolutions rules on everything ``app`` synthesizes."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(scope: IConstruct, rule: str, reason: str, finding: str | None = None) -> None:
    """Accept ``rule`` (e.g. ``"L1"``) on ``scope`` and below, for ``reason``.

    ``finding`` is the part cdk-nag prints in brackets (``Resource::*``); v3 matches the
    whole id, so a granular finding must be named exactly.
    """
    rule_id = f"{PACK}::{PACK}-{rule}"
    if finding is not None:
        rule_id = f"{rule_id}[{finding}]"
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule_id, reason=reason))
