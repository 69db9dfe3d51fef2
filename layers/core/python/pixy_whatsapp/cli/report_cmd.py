"""`pixy-whatsapp report`: the dashboard's figures in a terminal.

From CloudWatch (GetMetricData on namespace `PixyWhatsApp`, dimension
`service=pixy-whatsapp-<stage>`, the metric names of `pixy_whatsapp.metric_names`), or from
a running local stack (`--local http://127.0.0.1:8787`, which aggregates the EMF its
handlers print the way CloudWatch would).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from pixy_whatsapp import metric_names as m

_SINCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
PERCENTILES = ("p50", "p95", "p99")
_LATENCY_LABELS = {
    m.Metric.GRAPH_LATENCY_MS: "Graph API call",
    m.Metric.ENQUEUE_TO_ACCEPTED_MS: "enqueue -> accepted",
    m.Metric.DELIVERY_LATENCY_MS: "accepted -> delivered",
}


def parse_since(text: str) -> float:
    """`90s`, `30m`, `1h`, `2d` -> seconds."""
    match = _SINCE.match(text)
    if match is None:
        raise click.BadParameter(f"want a number and s, m, h or d (like 1h), got {text!r}")
    return float(match.group(1)) * _SECONDS[match.group(2)]


@dataclass
class Figures:
    """What the report shows, whatever the source."""

    source: str
    window_s: float
    totals: dict[str, float] = field(default_factory=dict)
    latencies: dict[str, dict[str, float | None]] = field(default_factory=dict)
    breakdowns: dict[str, dict[str, float]] = field(default_factory=dict)

    def total(self, metric: str) -> float:
        return self.totals.get(metric, 0.0)

    def as_dict(self) -> dict[str, Any]:
        accepted, failed = self.total(m.MESSAGES_ACCEPTED), self.total(m.MESSAGES_FAILED)
        finished = accepted + failed
        return {
            "source": self.source,
            "window_s": self.window_s,
            "accepted": accepted,
            "failed": failed,
            "success_rate": round(accepted / finished, 4) if finished else None,
            "accepted_per_s": round(accepted / self.window_s, 3) if self.window_s else None,
            "totals": self.totals,
            "latencies_ms": self.latencies,
            "breakdowns": self.breakdowns,
        }


def figures_from_series(
    series: Iterable[Mapping[str, Any]], *, source: str, window_s: float
) -> Figures:
    """Figures from the local stack's EMF aggregate (``GET /_local/metrics``)."""
    figures = Figures(source=source, window_s=window_s)
    known = {metric.value for metric in m.Metric}
    for item in series:
        # Only the contract's metrics (Powertools adds ColdStart, per function).
        if item.get("namespace") != m.NAMESPACE or item.get("metric") not in known:
            continue
        metric = str(item["metric"])
        dimensions = {k: v for k, v in dict(item.get("dimensions") or {}).items() if k != "service"}
        if not dimensions:
            figures.totals[metric] = figures.totals.get(metric, 0.0) + float(item.get("sum") or 0)
            if metric.endswith("Ms"):
                figures.latencies[metric] = {p: item.get(p) for p in PERCENTILES} | {
                    "count": item.get("count")
                }
            continue
        breakdown = figures.breakdowns.setdefault(_breakdown_name(metric, dimensions), {})
        label = "/".join(str(v) for v in dimensions.values())
        breakdown[label] = breakdown.get(label, 0.0) + float(item.get("sum") or 0)
    return figures


def _breakdown_name(metric: str, dimensions: Mapping[str, str] | Iterable[str]) -> str:
    return f"{metric} by {'/'.join(dimensions)}"


def figures_from_local(url: str, window_s: float) -> Figures:
    import httpx

    since = time.time() - window_s
    response = httpx.get(f"{url.rstrip('/')}/_local/metrics", params={"since": since}, timeout=10)
    response.raise_for_status()
    return figures_from_series(
        response.json().get("series", []), source=f"local stack {url}", window_s=window_s
    )


def figures_from_cloudwatch(
    cloudwatch: Any, *, service: str, window_s: float, now: datetime | None = None
) -> Figures:
    """GetMetricData: one period covering the whole window, so each answer is one value."""
    end = now or datetime.now(UTC)
    period = max(60, math.ceil(window_s / 60) * 60)
    start = end - timedelta(seconds=period)
    queries, meaning = build_queries(service, period)
    values: dict[str, list[float]] = defaultdict(list)
    labels: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for chunk_start in range(0, len(queries), 500):
        chunk = queries[chunk_start : chunk_start + 500]
        token: str | None = None
        while True:
            request: dict[str, Any] = {
                "MetricDataQueries": chunk,
                "StartTime": start,
                "EndTime": end,
                "ScanBy": "TimestampDescending",
            }
            if token:
                request["NextToken"] = token
            answer = cloudwatch.get_metric_data(**request)
            for result in answer.get("MetricDataResults", []):
                query_id = str(result["Id"])
                points = [float(v) for v in result.get("Values", [])]
                if meaning[query_id][0] == "breakdown":
                    labels[query_id].append((str(result.get("Label", "")), sum(points)))
                else:
                    values[query_id].extend(points)
            token = answer.get("NextToken")
            if not token:
                break

    figures = Figures(source=f"CloudWatch {m.NAMESPACE} service={service}", window_s=window_s)
    for query_id, (kind, metric, stat) in meaning.items():
        if kind == "total":
            figures.totals[metric] = sum(values.get(query_id, []))
        elif kind == "latency":
            points = values.get(query_id, [])
            entry = figures.latencies.setdefault(metric, {})
            if stat == "SampleCount":
                entry["count"] = sum(points)
            else:
                entry[stat] = points[0] if points else None
        else:
            breakdown = figures.breakdowns.setdefault(stat, {})
            for label, total in labels.get(query_id, []):
                if total:
                    breakdown[label] = breakdown.get(label, 0.0) + total
    for metric, entry in list(figures.latencies.items()):
        if not entry.get("count"):
            del figures.latencies[metric]
    return figures


def build_queries(
    service: str, period: int
) -> tuple[list[dict[str, Any]], dict[str, tuple[str, str, str]]]:
    """GetMetricData queries for every metric of the contract, and what each one means."""
    queries: list[dict[str, Any]] = []
    meaning: dict[str, tuple[str, str, str]] = {}
    for index, metric in enumerate(m.Metric):
        if metric not in m.SPLIT_ONLY:
            stats = (*PERCENTILES, "SampleCount") if metric.value.endswith("Ms") else ("Sum",)
            for stat_index, stat in enumerate(stats):
                query_id = f"q{index}s{stat_index}"
                queries.append(
                    {
                        "Id": query_id,
                        "MetricStat": {
                            "Metric": {
                                "Namespace": m.NAMESPACE,
                                "MetricName": metric.value,
                                "Dimensions": [{"Name": m.SERVICE_DIMENSION, "Value": service}],
                            },
                            "Period": period,
                            "Stat": stat,
                        },
                        "ReturnData": True,
                    }
                )
                kind = "latency" if metric.value.endswith("Ms") else "total"
                meaning[query_id] = (kind, metric.value, stat)
        split = m.SPLIT_DIMENSIONS.get(metric)
        if split:
            names = [str(d) for d in split]
            schema = ",".join([m.NAMESPACE, m.SERVICE_DIMENSION, *names])
            query_id = f"q{index}b"
            queries.append(
                {
                    "Id": query_id,
                    "Expression": (
                        f'SEARCH(\'{{{schema}}} MetricName="{metric.value}" '
                        f"{m.SERVICE_DIMENSION}=\"{service}\"', 'Sum', {period})"
                    ),
                    "Label": "/".join(f"${{PROP('Dim.{name}')}}" for name in names),
                    "ReturnData": True,
                }
            )
            meaning[query_id] = ("breakdown", metric.value, _breakdown_name(metric.value, names))
    return queries, meaning


def render(figures: Figures) -> list[str]:
    summary = figures.as_dict()
    lines = [
        f"{figures.source}, last {_duration(figures.window_s)}",
        f"  sends: {int(summary['accepted'])} accepted, {int(summary['failed'])} failed"
        + (
            f" (success rate {summary['success_rate'] * 100:.1f} %)"
            if summary["success_rate"] is not None
            else ""
        )
        + f"; enqueued {int(figures.total(m.MESSAGES_ENQUEUED))}",
        f"  throughput: {summary['accepted_per_s'] or 0:.2f} accepted/s over the window",
        "  latency (ms)              p50      p95      p99        n",
    ]
    for metric, label in _LATENCY_LABELS.items():
        entry = figures.latencies.get(metric.value, {})
        cells = "".join(
            f"{entry[p]:9.0f}" if entry.get(p) is not None else "        -" for p in PERCENTILES
        )
        lines.append(f"    {label:<22}{cells}{int(entry.get('count') or 0):9d}")
    for label, metric in (
        ("retries", m.RETRIES),
        ("throttled", m.THROTTLED),
        ("breaker held sends back", m.BREAKER_OPEN),
        ("ambiguous sends", m.AMBIGUOUS_SENDS),
        ("ambiguous re-sends", m.AMBIGUOUS_RESENDS),
        ("redeliveries skipped", m.REDELIVERIES_SKIPPED),
        ("webhooks accepted", m.WEBHOOKS_ACCEPTED),
        ("webhooks rejected", m.WEBHOOKS_REJECTED),
        ("statuses applied", m.STATUSES_APPLIED),
        ("statuses ignored", m.STATUSES_IGNORED),
        ("messages received", m.MESSAGES_RECEIVED),
        ("opt-outs", m.OPT_OUTS),
        ("events published", m.EVENTS_PUBLISHED),
        ("subscription checks", m.SUBSCRIPTION_CHECKS),
        ("subscription checks failed", m.SUBSCRIPTION_CHECK_FAILED),
        ("subscriptions repaired", m.SUBSCRIPTION_REPAIRED),
        ("shadow delivery", m.SHADOW_DELIVERY),
    ):
        lines.append(f"  {label + ':':<29}{int(figures.total(metric))}")
    for name, breakdown in sorted(figures.breakdowns.items()):
        if breakdown:
            parts = ", ".join(
                f"{key} {int(value)}"
                for key, value in sorted(breakdown.items(), key=lambda kv: -kv[1])
            )
            lines.append(f"  {name}: {parts}")
    return lines


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


@click.command("report")
@click.option(
    "--since",
    "since",
    default="1h",
    show_default=True,
    help="Window to report on: 90s, 30m, 1h, 2d.",
)
@click.option(
    "--local",
    "local_url",
    default=None,
    metavar="URL",
    help="Read a running local stack (e.g. http://127.0.0.1:8787) instead of CloudWatch.",
)
@click.option(
    "--stage",
    default="dev",
    show_default=True,
    help="Deployed stage: the metrics' service dimension is pixy-whatsapp-<stage>.",
)
@click.option("--region", default=None, help="AWS region (default: the AWS CLI's).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
def report(
    since: str, local_url: str | None, stage: str, region: str | None, as_json: bool
) -> None:
    """Throughput, latency p50/p95/p99, failures and webhooks, from CloudWatch or the local
    stack."""
    window_s = parse_since(since)
    try:
        if local_url:
            figures = figures_from_local(local_url, window_s)
        else:
            import boto3

            cloudwatch = boto3.client("cloudwatch", region_name=region)
            figures = figures_from_cloudwatch(
                cloudwatch, service=f"pixy-whatsapp-{stage}", window_s=window_s
            )
    except Exception as error:
        raise click.ClickException(f"could not read the metrics: {error}") from error
    if as_json:
        click.echo(json.dumps(figures.as_dict(), separators=(",", ":")))
    else:
        click.echo("\n".join(render(figures)))
