"""The metric contract: every name and dimension the code emits and the dashboard reads.

The handlers emit these through Powertools Metrics (EMF) in the namespace below; the CDK
dashboard and alarms, the local stack's EMF aggregator and `pixy-whatsapp report` read the
same constants, so a renamed metric breaks a test instead of silently emptying a graph.

Rules every emitter follows:

- Powertools adds the ``service`` dimension (``POWERTOOLS_SERVICE_NAME``, set by the stack
  to ``pixy-whatsapp-<stage>``). Every metric is emitted with the dimension set
  ``[service]``.
- Metrics listed in :data:`SPLIT_DIMENSIONS` are *also* emitted with
  ``[service, <split dimensions>]`` (e.g. with ``single_metric``). The ``[service]`` series
  is the total that rates and alarms use (an alarm can read at most ten metrics, so it
  cannot add up an open-ended set of classes); the split series feeds the breakdown graphs.
  ``BreakerTransition`` is the one metric emitted *only* with its split dimensions.
- Dimension values come from the enums below or from
  :class:`pixy_whatsapp.errors.actions.ErrorClass` (plus the local failure reasons in
  :class:`LocalFailure`): never ids, phone numbers or free text, which go in metadata.
- Latencies are raw values in milliseconds (one data point per message) so CloudWatch can
  compute p50/p95/p99.
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
    # receive path (webhook, inbound)
    WEBHOOKS_ACCEPTED = "WebhooksAccepted"
    WEBHOOKS_REJECTED = "WebhooksRejected"
    WEBHOOK_BODIES_OFFLOADED = "WebhookBodiesOffloaded"
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
    """Extra low-cardinality dimensions (besides ``service``)."""

    ERROR_CLASS = "ErrorClass"
    LIMIT_KIND = "LimitKind"
    SCOPE = "Scope"
    STATE = "State"


class LimitKind(StrEnum):
    """Which limit held a message back (``Throttled``)."""

    PHONE_NUMBER = "phone_number"  # our GCRA limiter for the business number
    PAIR = "pair"  # our per-recipient pair limiter
    WABA = "waba"  # our optional per-WABA limiter
    META = "meta"  # Meta answered with a throttling code (130429, 131056, 80007, 4)


class BreakerScope(StrEnum):
    """Which breaker moved (``BreakerTransition``); same values as the error table's scopes."""

    NUMBER = "number"
    WABA = "waba"


class BreakerState(StrEnum):
    """The state a breaker moved to (``BreakerTransition``)."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class LocalFailure(StrEnum):
    """``ErrorClass`` values for failures decided here rather than by Meta's answer."""

    EXPIRED = "expired"  # past the request's not_after deadline
    OPTED_OUT = "opted_out"  # marketing to a contact who opted out
    INVALID = "invalid"  # the queue body is not a valid SendRequest
    EXHAUSTED = "exhausted"  # retries or the redrive limit ran out


COUNT = "Count"
MILLISECONDS = "Milliseconds"

UNITS: Mapping[Metric, str] = MappingProxyType(
    {
        metric: MILLISECONDS if metric.value.endswith("Ms") else COUNT
        for metric in Metric
    }
)
"""The Powertools ``MetricUnit`` value of each metric."""

SPLIT_DIMENSIONS: Mapping[Metric, tuple[Dimension, ...]] = MappingProxyType(
    {
        Metric.MESSAGES_FAILED: (Dimension.ERROR_CLASS,),
        Metric.THROTTLED: (Dimension.LIMIT_KIND,),
        Metric.BREAKER_TRANSITION: (Dimension.SCOPE, Dimension.STATE),
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
