"""The local stack's translations, without starting it: API Gateway events, Lambda's SQS
records and partial batch answers, CloudWatch's EMF aggregation, the report's queries."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit, single_metric
from pixy_whatsapp import metric_names as m
from pixy_whatsapp.cli.report_cmd import (
    figures_from_cloudwatch,
    figures_from_series,
    parse_since,
    render,
)

from infra.local.stack.emf import EmfAggregator, capture_emf, percentile
from infra.local.stack.http_api import build_event, match_route, to_response
from infra.local.stack.pollers import failed_ids, lambda_record


def _event(method: str, path: str, **changes: Any) -> dict[str, Any]:
    route = match_route(method, path)
    assert route is not None
    arguments: dict[str, Any] = {
        "method": method,
        "path": path,
        "raw_query": "",
        "headers": [("Host", "127.0.0.1:8787"), ("Content-Type", "application/json")],
        "body": b"",
        "source_ip": "127.0.0.1",
        "route": route,
        "account_id": "123456789012",
        "now": 1_700_000_000.5,
    }
    arguments.update(changes)
    return build_event(**arguments)


def test_the_stacks_routes_map_to_its_functions() -> None:
    assert match_route("POST", "/webhook").route_key == "POST /webhook"  # type: ignore[union-attr]
    assert match_route("GET", "/webhook").function == "webhook"  # type: ignore[union-attr]
    v1 = match_route("DELETE", "/v1/wabas/123")
    assert v1 is not None
    assert (v1.function, v1.route_key, v1.path_parameters) == (
        "api",
        "ANY /v1/{proxy+}",
        {"proxy": "wabas/123"},
    )
    assert match_route("PUT", "/webhook") is None
    assert match_route("GET", "/v1/") is None


def test_a_request_becomes_api_gateways_payload_2_event() -> None:
    event = _event(
        "POST",
        "/webhook",
        raw_query="a=1&a=2&b=",
        headers=[
            ("Host", "127.0.0.1:8787"),
            ("Content-Type", "application/json"),
            ("X-Hub-Signature-256", "sha256=abc"),
            ("X-Many", "one"),
            ("x-many", "two"),
            ("Cookie", "s=1; t=2"),
        ],
        body=b'{"object":"whatsapp_business_account"}',
    )

    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /webhook"
    assert event["rawPath"] == "/webhook"
    assert event["rawQueryString"] == "a=1&a=2&b="
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["headers"]["x-hub-signature-256"] == "sha256=abc"
    assert event["headers"]["x-many"] == "one,two"
    assert "cookie" not in event["headers"]
    assert event["cookies"] == ["s=1", "t=2"]
    assert (event["body"], event["isBase64Encoded"]) == (
        '{"object":"whatsapp_business_account"}',
        False,
    )
    context = event["requestContext"]
    assert context["http"]["method"] == "POST"
    assert context["http"]["path"] == "/webhook"
    assert context["timeEpoch"] == 1_700_000_000_500
    assert context["stage"] == "$default"
    assert context["requestId"]
    assert "authorizer" not in context  # Meta's routes have no authoriser


def test_binary_bodies_are_base64_and_v1_routes_carry_an_iam_identity() -> None:
    raw = bytes(range(256))
    event = _event(
        "POST",
        "/v1/messages",
        headers=[("Content-Type", "application/octet-stream")],
        body=raw,
    )

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw
    assert event["pathParameters"] == {"proxy": "messages"}
    assert event["requestContext"]["authorizer"]["iam"]["accountId"] == "123456789012"
    assert "body" not in _event("GET", "/v1/health")


def test_lambda_answers_become_http_responses() -> None:
    plain = to_response({"statusCode": 202, "headers": {"x-a": "1"}, "body": '{"ok":true}'})
    binary = to_response(
        {"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True}
    )
    inferred = to_response({"ok": True})

    assert (plain.status_code, plain.headers["x-a"], plain.body) == (202, "1", b'{"ok":true}')
    assert binary.body == b"\x00\x01"
    assert (inferred.status_code, json.loads(inferred.body)) == (200, {"ok": True})


def test_sqs_messages_become_lambda_records() -> None:
    record = lambda_record(
        {
            "MessageId": "m-1",
            "ReceiptHandle": "r-1",
            "Body": "{}",
            "MD5OfBody": "99914b932bd37a50b983c5e7c90ae93b",
            "Attributes": {"ApproximateReceiveCount": "2", "MessageGroupId": "2001#3"},
            "MessageAttributes": {"reason": {"DataType": "String", "StringValue": "bad"}},
        },
        queue_arn="arn:aws:sqs:us-east-1:123456789012:q.fifo",
        region="us-east-1",
    )

    assert record["messageId"] == "m-1"
    assert record["receiptHandle"] == "r-1"
    assert record["attributes"]["ApproximateReceiveCount"] == "2"
    assert record["attributes"]["MessageGroupId"] == "2001#3"
    assert record["messageAttributes"]["reason"] == {
        "stringValue": "bad",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(":q.fifo")


@pytest.mark.parametrize(
    ("answer", "kept"),
    [
        (None, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        # Lambda fails the whole batch when an answer names what is not in it.
        ({"batchItemFailures": [{"itemIdentifier": "z"}]}, None),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, None),
        ({"batchItemFailures": "b"}, None),
    ],
)
def test_partial_batch_answers_are_read_like_lambda(answer: Any, kept: set[str] | None) -> None:
    assert failed_ids(answer, {"a", "b"}) == kept


def test_emf_is_aggregated_like_cloudwatch() -> None:
    aggregator = EmfAggregator()
    # Not the process-wide Metrics set, which other tests in this worker share.
    metrics = EphemeralMetrics(namespace=m.NAMESPACE, service="pixy-whatsapp-parts")
    with capture_emf(aggregator):
        for value in range(1, 101):
            metrics.add_metric(name=m.GRAPH_LATENCY_MS, unit=MetricUnit.Milliseconds, value=value)
        metrics.add_metric(name=m.MESSAGES_ACCEPTED, unit=MetricUnit.Count, value=1)
        metrics.flush_metrics()
        with single_metric(
            name=m.MESSAGES_FAILED, unit=MetricUnit.Count, value=1, namespace=m.NAMESPACE
        ) as metric:
            metric.add_dimension(name=m.Dimension.ERROR_CLASS, value="transient")

    latency = aggregator.series(m.NAMESPACE, m.GRAPH_LATENCY_MS)
    accepted = aggregator.series(m.NAMESPACE, m.MESSAGES_ACCEPTED)
    failed = aggregator.series(m.NAMESPACE, m.MESSAGES_FAILED, {"ErrorClass": "transient"})
    assert latency is not None
    assert latency.count == 100
    assert latency.p50 == pytest.approx(50.5)
    assert latency.p99 == pytest.approx(99.01)
    assert accepted is not None
    assert accepted.sum == 1
    assert failed is not None
    assert failed.sum == 1
    assert percentile([], 50) is None


def test_report_reads_totals_percentiles_and_breakdowns_from_the_aggregate() -> None:
    series = [
        {"namespace": m.NAMESPACE, "metric": "MessagesAccepted", "dimensions": {"service": "s"},
         "sum": 9.0, "count": 9},
        {"namespace": m.NAMESPACE, "metric": "MessagesFailed", "dimensions": {"service": "s"},
         "sum": 1.0, "count": 1},
        {"namespace": m.NAMESPACE, "metric": "MessagesFailed",
         "dimensions": {"service": "s", "ErrorClass": "permanent"}, "sum": 1.0, "count": 1},
        {"namespace": m.NAMESPACE, "metric": "GraphLatencyMs", "dimensions": {"service": "s"},
         "sum": 300.0, "count": 3, "p50": 100.0, "p95": 120.0, "p99": 130.0},
        {"namespace": m.NAMESPACE, "metric": "ColdStart", "dimensions": {"function_name": "f"},
         "sum": 1.0, "count": 1},
    ]  # fmt: skip

    figures = figures_from_series(series, source="test", window_s=60)

    summary = figures.as_dict()
    assert summary["accepted"] == 9
    assert summary["success_rate"] == 0.9
    assert summary["latencies_ms"]["GraphLatencyMs"]["p95"] == 120.0
    assert summary["breakdowns"] == {"MessagesFailed by ErrorClass": {"permanent": 1.0}}
    assert any("Graph API call" in line and "100" in line for line in render(figures))
    assert parse_since("90s") == 90
    assert parse_since("2h") == 7200


class _FakeCloudWatch:
    """Answers GetMetricData like CloudWatch: one value per query over the one period."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def get_metric_data(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        results = []
        for query in request["MetricDataQueries"]:
            if "Expression" in query:
                if '"MessagesFailed"' in query["Expression"]:
                    results.append({"Id": query["Id"], "Label": "transient", "Values": [4.0]})
                    results.append({"Id": query["Id"], "Label": "permanent", "Values": [1.0]})
                continue
            stat = query["MetricStat"]["Stat"]
            name = query["MetricStat"]["Metric"]["MetricName"]
            values = {
                ("MessagesAccepted", "Sum"): [95.0],
                ("MessagesFailed", "Sum"): [5.0],
                ("GraphLatencyMs", "p50"): [110.0],
                ("GraphLatencyMs", "p95"): [240.0],
                ("GraphLatencyMs", "p99"): [410.0],
                ("GraphLatencyMs", "SampleCount"): [100.0],
            }.get((name, stat), [])
            results.append({"Id": query["Id"], "Label": name, "Values": values})
        return {"MetricDataResults": results}


def test_report_reads_cloudwatch_for_the_stacks_service() -> None:
    cloudwatch = _FakeCloudWatch()

    figures = figures_from_cloudwatch(
        cloudwatch,
        service="pixy-whatsapp-dev",
        window_s=3600,
        now=datetime(2026, 11, 25, 12, 0, tzinfo=UTC),
    )

    request = cloudwatch.requests[0]
    assert request["EndTime"] - request["StartTime"] == (
        datetime(2026, 11, 25, 12, 0, tzinfo=UTC) - datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
    )
    stats = [q for q in request["MetricDataQueries"] if "MetricStat" in q]
    assert all(q["MetricStat"]["Metric"]["Namespace"] == m.NAMESPACE for q in stats)
    assert all(
        q["MetricStat"]["Metric"]["Dimensions"]
        == [{"Name": "service", "Value": "pixy-whatsapp-dev"}]
        for q in stats
    )
    assert all(q["MetricStat"]["Period"] == 3600 for q in stats)
    names = {q["MetricStat"]["Metric"]["MetricName"] for q in stats}
    assert names == {metric.value for metric in m.Metric} - {str(x) for x in m.SPLIT_ONLY}
    summary = figures.as_dict()
    assert (summary["accepted"], summary["failed"], summary["success_rate"]) == (95, 5, 0.95)
    assert summary["latencies_ms"]["GraphLatencyMs"] == {
        "p50": 110.0,
        "p95": 240.0,
        "p99": 410.0,
        "count": 100.0,
    }
    assert summary["breakdowns"]["MessagesFailed by ErrorClass"] == {
        "transient": 4.0,
        "permanent": 1.0,
    }
