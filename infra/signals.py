"""CloudWatch metrics and expressions the dashboard and the alarms share.

Custom metrics follow the contract in :mod:`pixy_whatsapp.metric_names`: totals carry
only the ``service`` dimension, breakdowns add their split dimensions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from pixy_whatsapp.metric_names import NAMESPACE, SERVICE_DIMENSION, SPLIT_DIMENSIONS, Metric

from infra.topology import FunctionKey, QueueKey, Topology

ONE_MINUTE = cdk.Duration.minutes(1)
FIVE_MINUTES = cdk.Duration.minutes(5)
PERCENTILES = ("p50", "p95", "p99")

MIN_SENDS_FOR_RATE = 10
"""Below this many finished sends in a period the success rate is not computed: one
failure out of two messages says nothing about the system."""


class Signals:
    """Builds metric objects for one stage's functions, queues and custom metrics."""

    def __init__(
        self,
        topology: Topology,
        functions: Mapping[FunctionKey, lambda_.IFunction],
        queues: Mapping[QueueKey, sqs.IQueue],
        dlqs: Mapping[QueueKey, sqs.IQueue],
    ) -> None:
        self.topology = topology
        self.functions = functions
        self.queues = queues
        self.dlqs = dlqs

    # --- custom metrics ------------------------------------------------------------------
    def custom(
        self,
        metric: Metric,
        *,
        statistic: str = "Sum",
        period: cdk.Duration = ONE_MINUTE,
        label: str | None = None,
    ) -> cloudwatch.Metric:
        """The ``[service]`` series of ``metric`` (its total, for split metrics)."""
        return cloudwatch.Metric(
            namespace=NAMESPACE,
            metric_name=str(metric),
            dimensions_map={SERVICE_DIMENSION: self.topology.service_name},
            statistic=statistic,
            period=period,
            label=label or str(metric),
        )

    def percentiles(
        self, metric: Metric, period: cdk.Duration = ONE_MINUTE
    ) -> list[cloudwatch.IMetric]:
        return [
            self.custom(metric, statistic=p, period=period, label=f"{metric} {p}")
            for p in PERCENTILES
        ]

    def success_rate(self, period: cdk.Duration = ONE_MINUTE) -> cloudwatch.MathExpression:
        """Accepted sends as a percentage of finished sends (accepted + failed)."""
        return cloudwatch.MathExpression(
            expression=(
                f"IF((FILL(ok, 0) + FILL(bad, 0)) >= {MIN_SENDS_FOR_RATE}, "
                "100 * FILL(ok, 0) / (FILL(ok, 0) + FILL(bad, 0)))"
            ),
            using_metrics={
                "ok": self.custom(Metric.MESSAGES_ACCEPTED, period=period),
                "bad": self.custom(Metric.MESSAGES_FAILED, period=period),
            },
            period=period,
            label="success rate (%)",
        )

    def breakdown(self, metric: Metric) -> cloudwatch.MathExpression:
        """``metric`` split by its dimensions, one line per value seen.

        SEARCH picks up every value, including ones added after this was deployed;
        dashboards may use it (alarms may not, which is why totals have their own series).
        """
        split = ",".join(str(d) for d in SPLIT_DIMENSIONS[metric])
        schema = f"{{{NAMESPACE},{split},{SERVICE_DIMENSION}}}"
        query = f'{schema} MetricName="{metric}" {SERVICE_DIMENSION}="{self.topology.service_name}"'
        return cloudwatch.MathExpression(
            expression=f"SEARCH('{query}', 'Sum', {int(ONE_MINUTE.to_seconds())})",
            using_metrics={},
            period=ONE_MINUTE,
        )

    # --- AWS metrics -----------------------------------------------------------------------
    def per_function(self, what: str, statistic: str = "Sum") -> list[cloudwatch.IMetric]:
        return [
            self.functions[key].metric(
                what, statistic=statistic, period=ONE_MINUTE, label=f"{key} {what}"
            )
            for key in FunctionKey
        ]

    def all_throttles(self, period: cdk.Duration) -> cloudwatch.MathExpression:
        """Our limiters and Meta holding sends back, plus Lambda refusing invocations."""
        using: dict[str, cloudwatch.IMetric] = {
            "limits": self.custom(Metric.THROTTLED, period=period)
        }
        for key in FunctionKey:
            using[f"lambda_{key}"] = self.functions[key].metric_throttles(
                period=period, statistic="Sum"
            )
        return cloudwatch.MathExpression(
            expression=" + ".join(f"FILL({name}, 0)" for name in using),
            using_metrics=using,
            period=period,
            label="throttles (limits + Lambda)",
        )

    def queue_metrics(
        self, queue: sqs.IQueue, names: Sequence[str], statistic: str = "Maximum"
    ) -> list[cloudwatch.IMetric]:
        return [
            queue.metric(name, statistic=statistic, period=ONE_MINUTE, label=f"{name}")
            for name in names
        ]

    def groups_in_flight(self) -> cloudwatch.Metric:
        # FIFO only: how many message groups are being served; a long backlog with few
        # groups in flight means senders are waiting on groups, not on concurrency.
        return self.queues[QueueKey.OUTBOUND].metric(
            "ApproximateNumberOfGroupsWithInflightMessages",
            statistic="Maximum",
            period=ONE_MINUTE,
            label="groups in flight",
        )

    def oldest_message_age(
        self, key: QueueKey, period: cdk.Duration = ONE_MINUTE
    ) -> cloudwatch.Metric:
        return self.queues[key].metric_approximate_age_of_oldest_message(
            statistic="Maximum", period=period, label=f"{key} oldest (s)"
        )

    def dlq_depth(self, key: QueueKey, period: cdk.Duration = ONE_MINUTE) -> cloudwatch.Metric:
        return self.dlqs[key].metric_approximate_number_of_messages_visible(
            statistic="Maximum", period=period, label=f"{key} DLQ"
        )
