"""EventBridge: the bus other systems subscribe to, and the schedules that drive jobs."""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.topology import FunctionKey, Topology


class EventBus(Construct):
    """The bus of domain events (source ``pixy.whatsapp``)."""

    def __init__(self, scope: Construct, id: str, *, topology: Topology) -> None:
        super().__init__(scope, id)
        self.bus = events.EventBus(self, "Bus", event_bus_name=topology.bus_name)


class Schedules(Construct):
    """One rule per :data:`infra.topology.SCHEDULES` entry, invoking its function."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        topology: Topology,
        functions: Mapping[FunctionKey, lambda_.IFunction],
    ) -> None:
        super().__init__(scope, id)
        self.rules: dict[str, events.Rule] = {}
        for spec in topology.schedules:
            self.rules[spec.key] = events.Rule(
                self,
                "".join(part.title() for part in spec.key.split("-")),
                rule_name=topology.schedule_name(spec.key),
                description=spec.description,
                schedule=events.Schedule.expression(spec.expression),
                targets=[
                    targets.LambdaFunction(
                        functions[spec.target],
                        # The next run comes soon and redoes the whole check anyway.
                        retry_attempts=2,
                        max_event_age=cdk.Duration.minutes(spec.rate_minutes),
                    )
                ],
            )
