"""The dashboard and the alarms; alarms notify the SNS topic of :mod:`infra.alarm_topic`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from constructs import Construct
from pixy_whatsapp.metric_names import Metric

from infra.config import StageConfig
from infra.signals import FIVE_MINUTES, ONE_MINUTE, Signals
from infra.topology import QueueKey, Topology

_WIDE = 12
_THIRD = 8
_QUARTER = 6
_HEIGHT = 6

_QUEUE_DEPTH = (
    "ApproximateNumberOfMessagesVisible",
    "ApproximateNumberOfMessagesNotVisible",
)


class Dashboard(Construct):
    """One dashboard, top to bottom: alarms, sends, latency, failures, queues, Lambda,
    webhooks and subscriptions."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        topology: Topology,
        signals: Signals,
        alarms: Sequence[cloudwatch.IAlarm],
    ) -> None:
        super().__init__(scope, id)
        s = signals
        graph = _graph
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=topology.dashboard_name,
            default_interval=cdk.Duration.hours(3),
        )
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(
                title="Alarms", alarms=list(alarms), width=24, height=_HEIGHT // 2
            )
        )
        self.dashboard.add_widgets(
            graph(
                "Throughput (messages/min)",
                [
                    s.custom(Metric.MESSAGES_ENQUEUED),
                    s.custom(Metric.MESSAGES_ACCEPTED),
                    s.custom(Metric.MESSAGES_FAILED),
                    s.custom(Metric.WEBHOOKS_ACCEPTED),
                ],
                _WIDE,
            ),
            graph("Success rate (%)", [s.success_rate()], _WIDE, min_value=0, max_value=100),
        )
        self.dashboard.add_widgets(
            graph("Graph API latency (ms)", s.percentiles(Metric.GRAPH_LATENCY_MS), _THIRD),
            graph("Enqueue to accepted (ms)", s.percentiles(Metric.ENQUEUE_TO_ACCEPTED_MS), _THIRD),
            graph("Accepted to delivered (ms)", s.percentiles(Metric.DELIVERY_LATENCY_MS), _THIRD),
        )
        self.dashboard.add_widgets(
            graph(
                "Failures by error class",
                [s.breakdown(Metric.MESSAGES_FAILED)],
                _THIRD,
                stacked=True,
            ),
            graph("Throttles by limit", [s.breakdown(Metric.THROTTLED)], _THIRD, stacked=True),
            graph(
                "Breaker state",
                [s.breakdown(Metric.BREAKER_TRANSITION), s.breakdown(Metric.BREAKER_OPEN)],
                _THIRD,
            ),
        )
        self.dashboard.add_widgets(
            graph(
                "Outbound queue depth",
                [
                    *s.queue_metrics(s.queues[QueueKey.OUTBOUND], _QUEUE_DEPTH),
                    s.groups_in_flight(),
                ],
                _QUARTER,
            ),
            graph(
                "Inbound queue depth",
                s.queue_metrics(s.queues[QueueKey.INBOUND], _QUEUE_DEPTH),
                _QUARTER,
            ),
            graph(
                "Oldest message age (s)",
                [s.oldest_message_age(key) for key in QueueKey],
                _QUARTER,
            ),
            graph("Dead-letter queue depth", [s.dlq_depth(key) for key in QueueKey], _QUARTER),
        )
        self.dashboard.add_widgets(
            graph("Lambda errors", s.per_function("Errors"), _THIRD),
            graph("Lambda throttles", s.per_function("Throttles"), _THIRD),
            graph("Lambda duration p99 (ms)", s.per_function("Duration", "p99"), _THIRD),
        )
        self.dashboard.add_widgets(
            graph(
                "Webhooks accepted / rejected",
                [
                    s.custom(Metric.WEBHOOKS_ACCEPTED),
                    s.custom(Metric.WEBHOOK_BODIES_OFFLOADED),
                    s.breakdown(Metric.WEBHOOKS_REJECTED),
                ],
                _QUARTER,
            ),
            graph(
                "Statuses and inbound messages",
                [
                    s.custom(Metric.STATUSES_APPLIED),
                    s.custom(Metric.STATUSES_IGNORED),
                    s.custom(Metric.MESSAGES_RECEIVED),
                    s.custom(Metric.EVENTS_PUBLISHED),
                    s.custom(Metric.OPT_OUTS),
                ],
                _QUARTER,
            ),
            graph(
                "Retries, redeliveries, ambiguous sends",
                [
                    s.custom(Metric.RETRIES),
                    s.custom(Metric.AMBIGUOUS_SENDS),
                    s.custom(Metric.AMBIGUOUS_RESENDS),
                    s.custom(Metric.REDELIVERIES_SKIPPED),
                ],
                _QUARTER,
            ),
            graph(
                "Subscription checks",
                [
                    s.custom(Metric.SUBSCRIPTION_CHECKS),
                    s.custom(Metric.SUBSCRIPTION_CHECK_FAILED),
                    s.custom(Metric.SUBSCRIPTION_REPAIRED),
                    s.custom(Metric.SHADOW_DELIVERY),
                ],
                _QUARTER,
            ),
        )


def _graph(
    title: str,
    metrics: Sequence[cloudwatch.IMetric],
    width: int,
    *,
    stacked: bool = False,
    min_value: float | None = None,
    max_value: float | None = None,
) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(
        title=title,
        left=list(metrics),
        width=width,
        height=_HEIGHT,
        stacked=stacked,
        left_y_axis=cloudwatch.YAxisProps(min=min_value, max=max_value, show_units=False),
    )


@dataclass(frozen=True)
class AlarmSpec:
    key: str
    description: str
    metric: cloudwatch.IMetric
    threshold: float
    comparison: cloudwatch.ComparisonOperator
    evaluation_periods: int = 1
    datapoints_to_alarm: int = 1


_GE = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
_GT = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
_LT = cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
# The subscriptions job runs every 15 minutes; its metrics arrive once per run.
_JOB_PERIOD = cdk.Duration.minutes(15)


def alarm_specs(signals: Signals, config: StageConfig) -> list[AlarmSpec]:
    """Every alarm of the stack, with the reason it pages someone."""
    s = signals
    return [
        AlarmSpec(
            "success-rate",
            f"Fewer than {config.success_rate_percent:g}% of finished sends were accepted "
            "by Meta in two of three 5-minute periods.",
            s.success_rate(FIVE_MINUTES),
            config.success_rate_percent,
            _LT,
            evaluation_periods=3,
            datapoints_to_alarm=2,
        ),
        AlarmSpec(
            "graph-latency-p99",
            f"Graph API p99 latency above {config.graph_p99_ms} ms in two of three 5-minute "
            "periods.",
            s.custom(Metric.GRAPH_LATENCY_MS, statistic="p99", period=FIVE_MINUTES),
            config.graph_p99_ms,
            _GT,
            evaluation_periods=3,
            datapoints_to_alarm=2,
        ),
        AlarmSpec(
            "throttling-sustained",
            "Sends held back by a limit, by Meta or by Lambda in every minute for 5 minutes.",
            s.all_throttles(ONE_MINUTE),
            0,
            _GT,
            evaluation_periods=5,
            datapoints_to_alarm=5,
        ),
        *(
            AlarmSpec(
                f"{key}-dlq-not-empty",
                f"The {key} dead-letter queue holds messages: inspect, fix, redrive "
                "(docs/operations.md).",
                s.dlq_depth(key, ONE_MINUTE),
                1,
                _GE,
            )
            for key in QueueKey
        ),
        AlarmSpec(
            "outbound-oldest-message",
            f"A send has waited over {config.outbound_oldest_age_seconds} s in the outbound "
            "queue for 5 minutes (a blocked message group, or too little concurrency).",
            s.oldest_message_age(QueueKey.OUTBOUND),
            config.outbound_oldest_age_seconds,
            _GT,
            evaluation_periods=5,
            datapoints_to_alarm=5,
        ),
        AlarmSpec(
            "inbound-oldest-message",
            f"A webhook has waited over {config.inbound_oldest_age_seconds} s in the inbound "
            "queue for 5 minutes.",
            s.oldest_message_age(QueueKey.INBOUND),
            config.inbound_oldest_age_seconds,
            _GT,
            evaluation_periods=5,
            datapoints_to_alarm=5,
        ),
        AlarmSpec(
            "breaker-open",
            "A phone number's or WABA's circuit breaker opened or held sends back.",
            s.custom(Metric.BREAKER_OPEN, period=FIVE_MINUTES),
            1,
            _GE,
        ),
        AlarmSpec(
            "subscription-check-failed",
            "The scheduled check could not verify a WABA's webhook subscription.",
            s.custom(Metric.SUBSCRIPTION_CHECK_FAILED, period=_JOB_PERIOD),
            1,
            _GE,
        ),
        AlarmSpec(
            "subscription-repaired",
            "A WABA had lost its webhook subscription and was re-subscribed: find out who "
            "removed it.",
            s.custom(Metric.SUBSCRIPTION_REPAIRED, period=_JOB_PERIOD),
            1,
            _GE,
        ),
        AlarmSpec(
            "shadow-delivery",
            "A phone number has accepted sends but no status webhooks: Meta is not "
            "delivering webhooks to this deployment.",
            s.custom(Metric.SHADOW_DELIVERY, period=_JOB_PERIOD),
            1,
            _GE,
        ),
        AlarmSpec(
            "webhook-signature-rejections",
            f"More than {config.rejected_webhooks_per_5_minutes} webhook requests in 5 "
            "minutes failed the signature or verify-token check (forgery, or a rotated app "
            "secret not yet stored).",
            s.custom(Metric.WEBHOOKS_REJECTED, period=FIVE_MINUTES),
            config.rejected_webhooks_per_5_minutes,
            _GT,
        ),
    ]


class Alarms(Construct):
    """The alarms of :func:`alarm_specs`, each notifying ``topic`` on alarm and recovery."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        topology: Topology,
        signals: Signals,
        config: StageConfig,
        topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, id)
        action = actions.SnsAction(topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for spec in alarm_specs(signals, config):
            alarm = cloudwatch.Alarm(
                self,
                "".join(part.title() for part in spec.key.split("-")),
                alarm_name=topology.alarm_name(spec.key),
                alarm_description=spec.description,
                metric=spec.metric,
                threshold=spec.threshold,
                comparison_operator=spec.comparison,
                evaluation_periods=spec.evaluation_periods,
                datapoints_to_alarm=spec.datapoints_to_alarm,
                # No data means no traffic, which is not a fault in itself.
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
            self.alarms[spec.key] = alarm
