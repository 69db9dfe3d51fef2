"""The inbound processor's metrics (EMF through Powertools), per `pixy_whatsapp.metric_names`.

Dimensions stay low-cardinality: the error class of a failed status is the only one.
Ids, codes and phone numbers go in log lines, never in a dimension.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from pixy_whatsapp import metric_names as m
from pixy_whatsapp.observability import NAMESPACE, metrics


class InboundTelemetry:
    def status_applied(self) -> None:
        metrics.add_metric(name=m.STATUSES_APPLIED, unit=MetricUnit.Count, value=1)

    def status_ignored(self) -> None:
        """A status we could not apply: its message is unknown, or its value is."""
        metrics.add_metric(name=m.STATUSES_IGNORED, unit=MetricUnit.Count, value=1)

    def delivery_latency(self, latency_ms: float) -> None:
        metrics.add_metric(
            name=m.DELIVERY_LATENCY_MS, unit=MetricUnit.Milliseconds, value=latency_ms
        )

    def message_failed(self, error_class: str) -> None:
        metrics.add_metric(name=m.MESSAGES_FAILED_TOTAL, unit=MetricUnit.Count, value=1)
        # A metric with its own dimension needs its own EMF blob.
        with single_metric(
            name=m.MESSAGES_FAILED, unit=MetricUnit.Count, value=1, namespace=NAMESPACE
        ) as metric:
            metric.add_dimension(name=m.Dimension.ERROR_CLASS, value=error_class)

    def message_received(self) -> None:
        metrics.add_metric(name=m.MESSAGES_RECEIVED, unit=MetricUnit.Count, value=1)

    def opted_out(self) -> None:
        metrics.add_metric(name=m.OPT_OUTS, unit=MetricUnit.Count, value=1)

    def body_parked(self) -> None:
        metrics.add_metric(name=m.WEBHOOKS_UNPARSEABLE, unit=MetricUnit.Count, value=1)
