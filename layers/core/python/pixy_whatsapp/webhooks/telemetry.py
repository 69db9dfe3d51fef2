"""The webhook endpoint's metrics (EMF through Powertools), per `pixy_whatsapp.metric_names`.

`WebhooksRejected` is emitted twice: once with the shared `service` dimension only (the
total that alarms read) and once split by `Reason`, whose values are the few members of
`RejectReason`, never anything taken from the request.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from pixy_whatsapp.metric_names import NAMESPACE, Metric
from pixy_whatsapp.observability import metrics
from pixy_whatsapp.webhooks.exceptions import RejectReason
from pixy_whatsapp.webhooks.receiver import KeptWebhook

REASON_DIMENSION = "Reason"


def webhook_accepted(kept: KeptWebhook) -> None:
    metrics.add_metric(name=Metric.WEBHOOKS_ACCEPTED, unit=MetricUnit.Count, value=1)
    if kept.s3_key is not None:
        metrics.add_metric(name=Metric.WEBHOOK_BODIES_OFFLOADED, unit=MetricUnit.Count, value=1)


def webhook_rejected(reason: RejectReason) -> None:
    metrics.add_metric(name=Metric.WEBHOOKS_REJECTED, unit=MetricUnit.Count, value=1)
    # A metric with its own dimension needs its own EMF blob.
    with single_metric(
        name=Metric.WEBHOOKS_REJECTED, unit=MetricUnit.Count, value=1, namespace=NAMESPACE
    ) as metric:
        metric.add_dimension(name=REASON_DIMENSION, value=reason.value)
