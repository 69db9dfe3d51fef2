"""Secrets Manager: the app secret and verify token, and the per-WABA token name prefix."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.nag import acknowledge
from infra.topology import SecretKey, Topology


class Secrets(Construct):
    """The two deployment-wide secrets; per-WABA tokens are created at run time."""

    def __init__(self, scope: Construct, id: str, *, topology: Topology, retain: bool) -> None:
        super().__init__(scope, id)
        self.secrets: dict[SecretKey, secretsmanager.Secret] = {}
        for spec in topology.secrets:
            secret = secretsmanager.Secret(
                self,
                "".join(part.title() for part in spec.key.split("-")),
                secret_name=topology.secret_name(spec.key),
                description=spec.description,
                # A random value so nothing works until an operator sets the real one (the
                # app secret) or copies this one into Meta's app settings (the verify token).
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    exclude_punctuation=True, password_length=48
                ),
                removal_policy=cdk.RemovalPolicy.RETAIN if retain else cdk.RemovalPolicy.DESTROY,
            )
            acknowledge(
                secret,
                "SMG4",
                "Meta issues the app secret and holds a copy of the verify token; neither can "
                "be rotated by a Lambda without the matching change in Meta's app dashboard, "
                "so rotation is the manual runbook step in docs/operations.md.",
            )
            self.secrets[spec.key] = secret

        stack = cdk.Stack.of(self)
        self.waba_secret_prefix = topology.waba_secret_prefix
        # Secrets Manager appends six random characters to every secret's ARN, hence the
        # trailing wildcard: it can match nothing outside this stage's WABA token prefix.
        self.waba_secret_arn_pattern = stack.format_arn(
            service="secretsmanager",
            resource="secret",
            resource_name=f"{topology.waba_secret_prefix}*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
