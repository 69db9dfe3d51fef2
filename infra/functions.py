"""The five Lambda functions, their roles, log groups and queue event sources."""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from pixy_whatsapp.metric_names import NAMESPACE
from pixy_whatsapp.settings import Settings

from infra.config import RETENTION_DAYS, StageConfig
from infra.layers import ARCHITECTURE, NOT_SHIPPED, ROOT, RUNTIME, Layers
from infra.nag import acknowledge
from infra.permissions import ACCESS, Resources, grant
from infra.topology import FunctionKey, FunctionSpec, Topology

# RetentionDays lists the finite periods in ascending order, as CloudWatch Logs does.
_RETENTION = dict(
    zip(
        sorted(RETENTION_DAYS),
        [days for days in logs.RetentionDays if days is not logs.RetentionDays.INFINITE],
        strict=True,
    )
)


def log_retention(days: int) -> logs.RetentionDays:
    """The CDK enum member for a retention period given in days."""
    return _RETENTION[days]


def powertools_env(topology: Topology, config: StageConfig) -> dict[str, str]:
    """Settings Powertools reads itself; they share the service name with the metrics."""
    return {
        "POWERTOOLS_SERVICE_NAME": topology.service_name,
        "POWERTOOLS_METRICS_NAMESPACE": NAMESPACE,
        "POWERTOOLS_LOG_LEVEL": config.log_level,
        # Responses can hold phone numbers; traces must not.
        "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
    }


class Functions(Construct):
    """One function per :data:`infra.topology.FUNCTIONS` entry, each with its own role."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        topology: Topology,
        config: StageConfig,
        layers: Layers,
        settings: Settings,
        resources: Resources,
    ) -> None:
        super().__init__(scope, id)
        # Every function gets the whole settings model: Settings.from_env() then works the
        # same everywhere, and the names are not secrets (access is what IAM limits).
        environment = settings.to_env() | powertools_env(topology, config)
        self.functions: dict[FunctionKey, lambda_.Function] = {}
        self.event_sources: dict[FunctionKey, sources.SqsEventSource] = {}
        for spec in topology.functions:
            function = self._function(spec, topology, config, layers, environment)
            assert function.role is not None
            grant(function.role, ACCESS[spec.key], resources)
            if spec.event_source is not None:
                self._read_queue(spec, function, resources.queues[spec.event_source.queue])
            self.functions[spec.key] = function

    def _function(
        self,
        spec: FunctionSpec,
        topology: Topology,
        config: StageConfig,
        layers: Layers,
        environment: Mapping[str, str],
    ) -> lambda_.Function:
        name = spec.key.title()
        log_group = logs.LogGroup(
            self,
            f"{name}Logs",
            log_group_name=topology.log_group_name(spec.key),
            retention=log_retention(config.log_retention_days),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        # An explicit role instead of AWSLambdaBasicExecutionRole: it may write to this
        # function's log group only, not create or write any log group in the account.
        role = iam.Role(
            self,
            f"{name}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{topology.function_name(spec.key)}: {spec.description}",
        )
        log_group.grant_write(role)
        function = lambda_.Function(
            self,
            name,
            function_name=topology.function_name(spec.key),
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=spec.handler,
            code=lambda_.Code.from_asset(str(ROOT / spec.code_dir), exclude=NOT_SHIPPED),
            layers=[layers.deps, layers.core],
            memory_size=spec.memory_mb,
            timeout=cdk.Duration.seconds(spec.timeout_seconds),
            environment=dict(environment),
            role=role,
            log_group=log_group,
            tracing=lambda_.Tracing.ACTIVE,
        )
        acknowledge(
            role,
            "IAM5",
            "X-Ray accepts trace segments only on Resource '*' (it has no resource-level "
            "permissions); this is the statement CDK adds for active tracing.",
            finding="Resource::*",
        )
        acknowledge(
            function,
            "L1",
            "Python 3.13 is the runtime the dependency layer is built for (cp313 arm64 "
            "wheels) and the one the tests run on; moving to a newer runtime is a deliberate "
            "change of layers/deps and infra/layers.py, not a silent upgrade.",
        )
        return function

    def _read_queue(self, spec: FunctionSpec, function: lambda_.Function, queue: sqs.Queue) -> None:
        assert spec.event_source is not None
        source = sources.SqsEventSource(
            queue,
            batch_size=spec.event_source.batch_size,
            # Caps the function's share of the account's concurrency, and for the FIFO
            # queue the number of message groups served at once.
            max_concurrency=spec.event_source.max_concurrency,
            report_batch_item_failures=spec.event_source.report_batch_item_failures,
        )
        function.add_event_source(source)
        self.event_sources[spec.key] = source
