"""The alarms the issue lists, their topic, and the dashboard's widgets."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match
from pixy_whatsapp.metric_names import NAMESPACE, Metric

from infra.topology import QueueKey

from .cdk_support import ALARM_EMAIL, Synthesized, dashboard_body

SERVICE = [{"Name": "service", "Value": "pixy-whatsapp-test"}]

ALARMS = {
    "success-rate",
    "graph-latency-p99",
    "throttling-sustained",
    "outbound-dlq-not-empty",
    "inbound-dlq-not-empty",
    "outbound-oldest-message",
    "inbound-oldest-message",
    "breaker-open",
    "subscription-check-failed",
    "subscription-repaired",
    "shadow-delivery",
    "webhook-signature-rejections",
}


def _alarms(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    prefix = "pixy-whatsapp-test-"
    return {
        alarm["Properties"]["AlarmName"].removeprefix(prefix): alarm["Properties"]
        for alarm in synthesized.of_type("AWS::CloudWatch::Alarm").values()
    }


def _watched(alarm: dict[str, Any]) -> dict[str, Any]:
    """The one metric an alarm watches, whichever form CloudFormation got it in.

    A labelled metric is written as a one-entry ``Metrics`` list instead of top-level
    ``MetricName``/``Statistic`` properties; both mean the same to CloudWatch.
    """
    if "Metrics" not in alarm:
        statistic = alarm.get("Statistic") or alarm["ExtendedStatistic"]
        metric = {k: alarm[k] for k in ("Namespace", "MetricName", "Dimensions")}
        return {"Metric": metric, "Stat": statistic, "Period": alarm["Period"]}
    (query,) = alarm["Metrics"]
    stat: dict[str, Any] = query["MetricStat"]
    return stat


def _custom(metric: Metric) -> dict[str, Any]:
    return {"Namespace": NAMESPACE, "MetricName": str(metric), "Dimensions": SERVICE}


def test_every_listed_alarm_exists(synthesized: Synthesized) -> None:
    assert set(_alarms(synthesized)) == ALARMS


def test_every_alarm_notifies_the_topic_and_ignores_silence(synthesized: Synthesized) -> None:
    topic = {"Ref": synthesized.logical_id(synthesized.stack.alarm_topic.topic)}
    for name, alarm in _alarms(synthesized).items():
        assert alarm["AlarmActions"] == [topic], name
        assert alarm["OKActions"] == [topic], name
        assert alarm["TreatMissingData"] == "notBreaching", name
        assert alarm["AlarmDescription"], name


def test_alarm_topic_requires_tls_and_mails_the_configured_address(
    synthesized: Synthesized,
) -> None:
    synthesized.template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": ALARM_EMAIL}
    )
    synthesized.template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_success_rate_alarm_divides_accepted_by_finished(synthesized: Synthesized) -> None:
    alarm = _alarms(synthesized)["success-rate"]
    by_id = {query["Id"]: query for query in alarm["Metrics"]}
    returned = [query for query in alarm["Metrics"] if query.get("ReturnData", True)]

    assert alarm["ComparisonOperator"] == "LessThanThreshold"
    assert alarm["Threshold"] == 95
    assert len(returned) == 1
    assert "100 * FILL(ok, 0) / (FILL(ok, 0) + FILL(bad, 0))" in returned[0]["Expression"]
    assert by_id["ok"]["MetricStat"]["Metric"] == _custom(Metric.MESSAGES_ACCEPTED)
    assert by_id["bad"]["MetricStat"]["Metric"] == _custom(Metric.MESSAGES_FAILED)


def test_graph_latency_alarm_watches_p99_over_two_seconds(synthesized: Synthesized) -> None:
    alarm = _alarms(synthesized)["graph-latency-p99"]
    watched = _watched(alarm)
    assert watched["Metric"] == _custom(Metric.GRAPH_LATENCY_MS)
    assert watched["Stat"] == "p99"
    assert alarm["Threshold"] == 2000
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_throttle_alarm_needs_every_minute_of_five(synthesized: Synthesized) -> None:
    alarm = _alarms(synthesized)["throttling-sustained"]
    metrics = [q["MetricStat"]["Metric"] for q in alarm["Metrics"] if "MetricStat" in q]

    assert alarm["EvaluationPeriods"] == alarm["DatapointsToAlarm"] == 5
    assert _custom(Metric.THROTTLED) in metrics
    lambda_throttles = [m for m in metrics if m["Namespace"] == "AWS/Lambda"]
    assert {m["MetricName"] for m in lambda_throttles} == {"Throttles"}
    assert len(lambda_throttles) == 5


@pytest.mark.parametrize("queue", list(QueueKey))
def test_dlq_alarm_fires_on_one_message(synthesized: Synthesized, queue: QueueKey) -> None:
    alarm = _alarms(synthesized)[f"{queue}-dlq-not-empty"]
    dlq = synthesized.stack.queues.dlqs[queue]
    watched = _watched(alarm)["Metric"]
    assert watched["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert watched["Dimensions"] == [
        {"Name": "QueueName", "Value": synthesized.ref(dlq.queue_name)}
    ]
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


@pytest.mark.parametrize(("queue", "seconds"), [(QueueKey.OUTBOUND, 300), (QueueKey.INBOUND, 120)])
def test_oldest_message_alarms(synthesized: Synthesized, queue: QueueKey, seconds: int) -> None:
    alarm = _alarms(synthesized)[f"{queue}-oldest-message"]
    main = synthesized.stack.queues.queues[queue]
    watched = _watched(alarm)["Metric"]
    assert watched["MetricName"] == "ApproximateAgeOfOldestMessage"
    assert watched["Dimensions"] == [
        {"Name": "QueueName", "Value": synthesized.ref(main.queue_name)}
    ]
    assert alarm["Threshold"] == seconds


@pytest.mark.parametrize(
    ("name", "metric"),
    [
        ("breaker-open", Metric.BREAKER_OPEN),
        ("subscription-check-failed", Metric.SUBSCRIPTION_CHECK_FAILED),
        ("subscription-repaired", Metric.SUBSCRIPTION_REPAIRED),
        ("shadow-delivery", Metric.SHADOW_DELIVERY),
    ],
)
def test_any_occurrence_alarms(synthesized: Synthesized, name: str, metric: Metric) -> None:
    alarm = _alarms(synthesized)[name]
    watched = _watched(alarm)
    assert watched["Metric"] == _custom(metric)
    assert watched["Stat"] == "Sum"
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_signature_rejection_spike_alarm(synthesized: Synthesized) -> None:
    alarm = _alarms(synthesized)["webhook-signature-rejections"]
    watched = _watched(alarm)
    # The total, not the per-reason split: a forger can vary the reason.
    assert watched["Metric"] == _custom(Metric.WEBHOOKS_REJECTED)
    assert watched["Period"] == 300
    assert alarm["Threshold"] == 20


# --- dashboard ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def widgets(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    dashboards = list(synthesized.of_type("AWS::CloudWatch::Dashboard").values())
    assert len(dashboards) == 1
    assert dashboards[0]["Properties"]["DashboardName"] == "pixy-whatsapp-test"
    body = dashboard_body(dashboards[0]["Properties"]["DashboardBody"])
    return {widget["properties"]["title"]: widget["properties"] for widget in body["widgets"]}


def _metric_names(widget: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for line in widget.get("metrics", []):
        names.update(part for part in line if isinstance(part, str))
    return names


def _expressions(widget: dict[str, Any]) -> list[str]:
    return [
        part["expression"]
        for line in widget.get("metrics", [])
        for part in line
        if isinstance(part, dict) and "expression" in part
    ]


def test_dashboard_has_a_widget_for_each_signal(widgets: dict[str, dict[str, Any]]) -> None:
    assert set(widgets) == {
        "Alarms",
        "Throughput (messages/min)",
        "Success rate (%)",
        "Graph API latency (ms)",
        "Enqueue to accepted (ms)",
        "Accepted to delivered (ms)",
        "Failures by error class",
        "Throttles by limit",
        "Breaker state",
        "Outbound queue depth",
        "Inbound queue depth",
        "Oldest message age (s)",
        "Dead-letter queue depth",
        "Lambda errors",
        "Lambda throttles",
        "Lambda duration p99 (ms)",
        "Webhooks accepted / rejected",
        "Statuses and inbound messages",
        "Retries, redeliveries, ambiguous sends",
        "Subscription checks",
    }
    assert len(widgets["Alarms"]["alarms"]) == len(ALARMS)


@pytest.mark.parametrize(
    ("title", "metric"),
    [
        ("Graph API latency (ms)", Metric.GRAPH_LATENCY_MS),
        ("Enqueue to accepted (ms)", Metric.ENQUEUE_TO_ACCEPTED_MS),
        ("Accepted to delivered (ms)", Metric.DELIVERY_LATENCY_MS),
    ],
)
def test_latency_widgets_show_p50_p95_p99(
    widgets: dict[str, dict[str, Any]], title: str, metric: Metric
) -> None:
    lines = widgets[title]["metrics"]
    assert all(metric in line for line in lines)
    assert sorted(line[-1]["stat"] for line in lines) == ["p50", "p95", "p99"]


def test_success_rate_widget_is_metric_math(widgets: dict[str, dict[str, Any]]) -> None:
    (expression,) = _expressions(widgets["Success rate (%)"])
    assert "100 * FILL(ok, 0)" in expression
    assert {Metric.MESSAGES_ACCEPTED, Metric.MESSAGES_FAILED} <= _metric_names(
        widgets["Success rate (%)"]
    )


@pytest.mark.parametrize(
    ("title", "metric", "dimension"),
    [
        ("Failures by error class", Metric.MESSAGES_FAILED, "ErrorClass"),
        ("Throttles by limit", Metric.THROTTLED, "LimitKind"),
        ("Breaker state", Metric.BREAKER_TRANSITION, "Scope,State"),
        ("Webhooks accepted / rejected", Metric.WEBHOOKS_REJECTED, "Reason"),
    ],
)
def test_breakdowns_search_every_value_of_their_dimension(
    widgets: dict[str, dict[str, Any]], title: str, metric: Metric, dimension: str
) -> None:
    searches = [e for e in _expressions(widgets[title]) if f'MetricName="{metric}"' in e]
    assert len(searches) == 1
    assert searches[0].startswith(f"SEARCH('{{{NAMESPACE},{dimension},service}}")
    assert 'service="pixy-whatsapp-test"' in searches[0]


def test_queue_and_lambda_widgets(widgets: dict[str, dict[str, Any]]) -> None:
    assert {
        "ApproximateNumberOfMessagesVisible",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfGroupsWithInflightMessages",
    } <= _metric_names(widgets["Outbound queue depth"])
    assert "ApproximateAgeOfOldestMessage" in _metric_names(widgets["Oldest message age (s)"])
    assert len(widgets["Dead-letter queue depth"]["metrics"]) == 2
    for title, name in [
        ("Lambda errors", "Errors"),
        ("Lambda throttles", "Throttles"),
        ("Lambda duration p99 (ms)", "Duration"),
    ]:
        assert len(widgets[title]["metrics"]) == 5
        assert name in _metric_names(widgets[title])


def test_webhook_and_subscription_widgets(widgets: dict[str, dict[str, Any]]) -> None:
    assert Metric.WEBHOOKS_ACCEPTED in _metric_names(widgets["Webhooks accepted / rejected"])
    assert {
        Metric.SUBSCRIPTION_CHECKS,
        Metric.SUBSCRIPTION_CHECK_FAILED,
        Metric.SUBSCRIPTION_REPAIRED,
        Metric.SHADOW_DELIVERY,
    } <= _metric_names(widgets["Subscription checks"])
