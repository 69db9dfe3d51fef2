"""The metric contract: every name and dimension the code emits and the dashboard reads.

The handlers emit these through Powertools Metrics (EMF) in the namespace below; the CDK
dashboard and alarms, the local stack's EMF aggregator and `pixy-whatsapp report` read the
same constants, so a renamed metric breaks a test instead of silently emptying a graph.

Rules every emitter follows:

- Powertools adds the ``service`` dimension (``POWERTOOLS_SERVICE_NAME``, set by the stack
  to ``pixy-whatsapp-<stage>``). Every metric is emitted with the dimension set
  ``[service]``: that series is the total that rates and alarms read (an alarm can use at
  most ten metrics, so it cannot add up an open-ended set of classes).
- A metric listed in :data:`SPLIT_DIMENSIONS` is emitted a second time with
  ``[service, <split dimension>]`` (its own blob, e.g. ``single_metric``); the dashboard
  breaks it down from that series. ``BreakerTransition`` is the one metric emitted *only*
  split (:data:`SPLIT_ONLY`).
- Dimension values are members of a small enum (``ErrorClass`` from the error table or a
  local failure reason, ``LimitKind``, breaker scope and state, reject reason): never ids,
  phone numbers or free text, which go in the log line or metadata.
- Latencies are raw values in milliseconds, one data point per message, so CloudWatch can
  compute p50/p95/p99.

Example::

    metrics.add_metric(name=MESSAGES_FAILED_TOTAL, unit=MetricUnit.Count, value=1)
    with single_metric(name=MESSAGES_FAILED, unit=MetricUnit.Count, value=1,
                       namespace=NAMESPACE) as metric:
        metric.add_dimension(name=Dimension.ERROR_CLASS, value=error_class)
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

NAMESPACE = "PixyWhatsApp"
"""CloudWatch namespace of every custom metric (``POWERTOOLS_METRICS_NAMESPACE``)."""

SERVICE_DIMENSION = "service"
"""The dimension Powertools adds from ``POWERTOOLS_SERVICE_NAME``."""


class Metric(StrEnum):
    """Names of the custom metrics."""

    # send path (api, sender)
    MESSAGES_ENQUEUED = "MessagesEnqueued"
    MESSAGES_ACCEPTED = "MessagesAccepted"
    MESSAGES_FAILED = "MessagesFailed"
    GRAPH_LATENCY_MS = "GraphLatencyMs"
    ENQUEUE_TO_ACCEPTED_MS = "EnqueueToAcceptedMs"
    THROTTLED = "Throttled"
    BREAKER_TRANSITION = "BreakerTransition"
    BREAKER_OPEN = "BreakerOpen"
    RETRIES = "Retries"
    AMBIGUOUS_SENDS = "AmbiguousSends"
    AMBIGUOUS_RESENDS = "AmbiguousResends"
    REDELIVERIES_SKIPPED = "RedeliveriesSkipped"
    # receive path (webhook, inbound)
    WEBHOOKS_ACCEPTED = "WebhooksAccepted"
    WEBHOOKS_REJECTED = "WebhooksRejected"
    WEBHOOK_BODIES_OFFLOADED = "WebhookBodiesOffloaded"
    WEBHOOKS_UNPARSEABLE = "WebhooksUnparseable"  # signed, but not a webhook: kept in the DLQ
    STATUSES_APPLIED = "StatusesApplied"
    STATUSES_IGNORED = "StatusesIgnored"
    DELIVERY_LATENCY_MS = "DeliveryLatencyMs"
    MESSAGES_RECEIVED = "MessagesReceived"
    OPT_OUTS = "OptOuts"
    EVENTS_PUBLISHED = "EventsPublished"
    # subscriptions
    SUBSCRIPTION_CHECKS = "SubscriptionChecks"
    SUBSCRIPTION_CHECK_FAILED = "SubscriptionCheckFailed"
    SUBSCRIPTION_REPAIRED = "SubscriptionRepaired"
    SHADOW_DELIVERY = "ShadowDelivery"


class Dimension(StrEnum):
    """Split dimensions (besides ``service``)."""

    ERROR_CLASS = "ErrorClass"  # pixy_whatsapp.errors ErrorClass, or a LocalFailure
    LIMIT_KIND = "LimitKind"  # which limit held a send back (ours, or Meta's answer)
    SCOPE = "Scope"  # breaker scope: number or waba
    STATE = "State"  # breaker state moved to: closed, open, half_open
    REASON = "Reason"  # why a webhook request was rejected


class LocalFailure(StrEnum):
    """``ErrorClass`` values for failures decided here rather than by Meta's answer."""

    EXPIRED = "expired"  # past the request's not_after deadline
    OPTED_OUT = "opted_out"  # marketing to a contact who opted out
    INVALID = "invalid"  # the queue body is not a valid SendRequest
    EXHAUSTED = "exhausted"  # retries or the redrive limit ran out


# Module-level names, for `from pixy_whatsapp import metric_names as m; m.RETRIES`.
MESSAGES_ENQUEUED = Metric.MESSAGES_ENQUEUED
MESSAGES_ACCEPTED = Metric.MESSAGES_ACCEPTED
MESSAGES_FAILED = Metric.MESSAGES_FAILED
MESSAGES_FAILED_TOTAL = Metric.MESSAGES_FAILED
"""The same metric as ``MESSAGES_FAILED``: the name to use for its ``[service]`` total."""
GRAPH_LATENCY_MS = Metric.GRAPH_LATENCY_MS
ENQUEUE_TO_ACCEPTED_MS = Metric.ENQUEUE_TO_ACCEPTED_MS
THROTTLED = Metric.THROTTLED
THROTTLED_TOTAL = Metric.THROTTLED
BREAKER_TRANSITION = Metric.BREAKER_TRANSITION
BREAKER_OPEN = Metric.BREAKER_OPEN
BREAKER_OPEN_TOTAL = Metric.BREAKER_OPEN
BREAKER_BLOCKED = Metric.BREAKER_OPEN
"""A send held back because its number's or WABA's breaker is open."""
RETRIES = Metric.RETRIES
AMBIGUOUS_SENDS = Metric.AMBIGUOUS_SENDS
AMBIGUOUS_RESENDS = Metric.AMBIGUOUS_RESENDS
REDELIVERIES_SKIPPED = Metric.REDELIVERIES_SKIPPED
WEBHOOKS_ACCEPTED = Metric.WEBHOOKS_ACCEPTED
WEBHOOKS_REJECTED = Metric.WEBHOOKS_REJECTED
WEBHOOK_BODIES_OFFLOADED = Metric.WEBHOOK_BODIES_OFFLOADED
WEBHOOKS_UNPARSEABLE = Metric.WEBHOOKS_UNPARSEABLE
STATUSES_APPLIED = Metric.STATUSES_APPLIED
STATUSES_IGNORED = Metric.STATUSES_IGNORED
DELIVERY_LATENCY_MS = Metric.DELIVERY_LATENCY_MS
MESSAGES_RECEIVED = Metric.MESSAGES_RECEIVED
OPT_OUTS = Metric.OPT_OUTS
EVENTS_PUBLISHED = Metric.EVENTS_PUBLISHED
SUBSCRIPTION_CHECKS = Metric.SUBSCRIPTION_CHECKS
SUBSCRIPTION_CHECK_FAILED = Metric.SUBSCRIPTION_CHECK_FAILED
SUBSCRIPTION_REPAIRED = Metric.SUBSCRIPTION_REPAIRED
SHADOW_DELIVERY = Metric.SHADOW_DELIVERY

COUNT = "Count"
MILLISECONDS = "Milliseconds"

UNITS: Mapping[Metric, str] = MappingProxyType(
    {metric: MILLISECONDS if metric.value.endswith("Ms") else COUNT for metric in Metric}
)
"""The Powertools ``MetricUnit`` value of each metric."""

SPLIT_DIMENSIONS: Mapping[Metric, tuple[Dimension, ...]] = MappingProxyType(
    {
        Metric.MESSAGES_FAILED: (Dimension.ERROR_CLASS,),
        Metric.THROTTLED: (Dimension.LIMIT_KIND,),
        Metric.BREAKER_OPEN: (Dimension.SCOPE,),
        Metric.BREAKER_TRANSITION: (Dimension.SCOPE, Dimension.STATE),
        Metric.WEBHOOKS_REJECTED: (Dimension.REASON,),
    }
)
"""Metrics also emitted with these dimensions (besides ``service``)."""

SPLIT_ONLY: frozenset[Metric] = frozenset({Metric.BREAKER_TRANSITION})
"""Metrics emitted only with their split dimensions (no ``[service]`` total)."""


def dimension_sets(metric: Metric) -> tuple[tuple[str, ...], ...]:
    """Every dimension set ``metric`` is emitted with, ``service`` first in each."""
    split = SPLIT_DIMENSIONS.get(metric)
    sets: list[tuple[str, ...]] = []
    if metric not in SPLIT_ONLY:
        sets.append((SERVICE_DIMENSION,))
    if split is not None:
        sets.append((SERVICE_DIMENSION, *(str(d) for d in split)))
    return tuple(sets)
