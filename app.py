"""CDK entry point: one stack per stage, checked by cdk-nag before anything is written.

The stage comes from the context (``-c stage=prod``, default ``dev`` in cdk.json); its
settings from ``config/<stage>.json``, then from any ``-c key=value`` given.
"""

from __future__ import annotations

import aws_cdk as cdk

from infra.config import StageConfig
from infra.nag import add_checks
from infra.stack import PixyWhatsAppStack


def main() -> None:
    app = cdk.App()
    stage = str(app.node.try_get_context("stage") or "dev")
    context = {name: app.node.try_get_context(name) for name in StageConfig.model_fields}
    config = StageConfig.load(stage, context)
    PixyWhatsAppStack(
        app,
        f"PixyWhatsApp-{config.stage}",
        config=config,
        description=f"pixy-whatsapp ({config.stage}): WhatsApp Cloud API send and webhook backbone",
    )
    add_checks(app)
    app.synth()


if __name__ == "__main__":
    main()
