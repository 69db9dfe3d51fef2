"""The subscription check's metrics (EMF through Powertools), per `pixy_whatsapp.metric_names`.

One data point of each metric per run, zeros included: the alarms then see "nothing
wrong" as 0 rather than as missing data, and a run that did not happen stays visible as
a gap in `SubscriptionChecks`. No dimension besides `service`; WABA ids and phone number
ids go in the log lines.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from pixy_whatsapp import metric_names as m
from pixy_whatsapp.observability import metrics
from pixy_whatsapp.subscriptions.model import CheckReport


def record_run(report: CheckReport) -> None:
    # A shadow-delivery check that could not run leaves webhook delivery unverified, which
    # is what the check-failed alarm is about.
    failed = len(report.failed) + (1 if report.shadow_check_failed else 0)
    metrics.add_metric(name=m.SUBSCRIPTION_CHECKS, unit=MetricUnit.Count, value=len(report.checks))
    metrics.add_metric(
        name=m.SUBSCRIPTION_REPAIRED, unit=MetricUnit.Count, value=len(report.repaired)
    )
    metrics.add_metric(name=m.SUBSCRIPTION_CHECK_FAILED, unit=MetricUnit.Count, value=failed)
    metrics.add_metric(name=m.SHADOW_DELIVERY, unit=MetricUnit.Count, value=len(report.silent))


def record_unreadable_registry() -> None:
    """The run could not list the WABAs: nothing was checked, and that is a failure."""
    metrics.add_metric(name=m.SUBSCRIPTION_CHECKS, unit=MetricUnit.Count, value=0)
    metrics.add_metric(name=m.SUBSCRIPTION_CHECK_FAILED, unit=MetricUnit.Count, value=1)
