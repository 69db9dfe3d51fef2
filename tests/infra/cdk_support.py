"""Synthesizes the stack the way app.py does (cdk.json context, cdk-nag) for assertions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from infra.config import StageConfig
from infra.nag import add_checks
from infra.stack import PixyWhatsAppStack

ROOT = Path(__file__).resolve().parents[2]
STAGE = "test"
ALARM_EMAIL = "ops@example.com"


@dataclass(frozen=True)
class Synthesized:
    app: cdk.App
    stack: PixyWhatsAppStack
    template: Template
    outdir: Path

    @property
    def resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.template.to_json()["Resources"]
        return resources

    def ref(self, value: str) -> Any:
        """The CloudFormation form of a token (``{"Fn::GetAtt": [...]}`` and so on)."""
        return self.stack.resolve(value)

    def logical_id(self, construct: Any) -> str:
        element = construct.node.default_child
        assert isinstance(element, cdk.CfnElement)
        logical_id: str = self.stack.resolve(element.logical_id)
        return logical_id

    def of_type(self, cfn_type: str) -> dict[str, Any]:
        return {k: v for k, v in self.resources.items() if v["Type"] == cfn_type}


def cdk_json_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return context


def synthesize(outdir: Path, **config: Any) -> Synthesized:
    context = {**cdk_json_context(), "aws:cdk:bundling-stacks": []}
    app = cdk.App(outdir=str(outdir), context=context)
    stage_config = StageConfig.load(
        STAGE, {"alarm_email": ALARM_EMAIL, **config}, config_dir=outdir / "no-config"
    )
    stack = PixyWhatsAppStack(app, f"PixyWhatsApp-{STAGE}", config=stage_config)
    add_checks(app)
    app.synth()
    return Synthesized(app, stack, Template.from_stack(stack), outdir)


def dashboard_body(body: Any) -> dict[str, Any]:
    """The dashboard JSON, with every CloudFormation token replaced by a placeholder."""
    if isinstance(body, str):
        text = body
    else:
        parts = body["Fn::Join"][1]
        text = "".join(p if isinstance(p, str) else _placeholder(p) for p in parts)
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def _placeholder(token: dict[str, Any]) -> str:
    if "Ref" in token:
        return f"<{token['Ref']}>"
    if "Fn::GetAtt" in token:
        return f"<{'.'.join(token['Fn::GetAtt'])}>"
    return "<token>"
