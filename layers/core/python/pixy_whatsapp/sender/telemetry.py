"""The sender's metrics, as EMF through Powertools.

Dimensions stay low-cardinality (error class, limit kind, breaker scope); ids
and codes go in the log line, not in a dimension.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from pixy_whatsapp import metric_names as m
from pixy_whatsapp.observability import NAMESPACE, metrics


class SenderTelemetry:
    def accepted(self, *, enqueue_to_accepted_ms: float | None) -> None:
        metrics.add_metric(name=m.MESSAGES_ACCEPTED, unit=MetricUnit.Count, value=1)
        if enqueue_to_accepted_ms is not None and enqueue_to_accepted_ms >= 0:
            metrics.add_metric(
                name=m.ENQUEUE_TO_ACCEPTED_MS,
                unit=MetricUnit.Milliseconds,
                value=enqueue_to_accepted_ms,
            )

    def graph_latency(self, latency_ms: float) -> None:
        metrics.add_metric(name=m.GRAPH_LATENCY_MS, unit=MetricUnit.Milliseconds, value=latency_ms)

    def failed(self, error_class: str, *, code: int | None = None) -> None:
        metrics.add_metric(name=m.MESSAGES_FAILED_TOTAL, unit=MetricUnit.Count, value=1)
        self._dimensioned(m.MESSAGES_FAILED, m.Dimension.ERROR_CLASS, error_class)

    def throttled(self, limit_kind: str) -> None:
        metrics.add_metric(name=m.THROTTLED_TOTAL, unit=MetricUnit.Count, value=1)
        self._dimensioned(m.THROTTLED, m.Dimension.LIMIT_KIND, limit_kind)

    def breaker_blocked(self, scope: str) -> None:
        metrics.add_metric(name=m.BREAKER_OPEN_TOTAL, unit=MetricUnit.Count, value=1)
        self._dimensioned(m.BREAKER_BLOCKED, m.Dimension.SCOPE, scope)

    def breaker_transition(self, scope: str, state: str) -> None:
        with single_metric(
            name=m.BREAKER_TRANSITION, unit=MetricUnit.Count, value=1, namespace=NAMESPACE
        ) as metric:
            metric.add_dimension(name=m.Dimension.SCOPE, value=scope)
            metric.add_dimension(name=m.Dimension.STATE, value=state)

    def retried(self) -> None:
        metrics.add_metric(name=m.RETRIES, unit=MetricUnit.Count, value=1)

    def ambiguous(self) -> None:
        metrics.add_metric(name=m.AMBIGUOUS_SENDS, unit=MetricUnit.Count, value=1)

    def ambiguous_resend(self) -> None:
        metrics.add_metric(name=m.AMBIGUOUS_RESENDS, unit=MetricUnit.Count, value=1)

    def redelivered(self) -> None:
        metrics.add_metric(name=m.REDELIVERIES_SKIPPED, unit=MetricUnit.Count, value=1)

    @staticmethod
    def _dimensioned(name: str, dimension: str, value: str) -> None:
        # A metric with its own dimension needs its own EMF blob.
        with single_metric(
            name=name, unit=MetricUnit.Count, value=1, namespace=NAMESPACE
        ) as metric:
            metric.add_dimension(name=dimension, value=value)
