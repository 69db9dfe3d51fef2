"""Subscriptions Lambda: the scheduled re-check of every registered WABA's webhook subscription.

EventBridge invokes it every 15 minutes; the event carries nothing it needs. It repairs
lost subscriptions, looks for shadow delivery and reports through EMF metrics. The return
value only serves manual invocations (`aws lambda invoke`).
"""

from __future__ import annotations

import asyncio
from typing import Any

import boto3
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext
from pixy_whatsapp.observability import logger, metrics, tracer
from pixy_whatsapp.settings import Settings
from pixy_whatsapp.subscriptions import SubscriptionClients, build_manager

copy_config_to_registered_loggers(source_logger=logger, include={"pixy_whatsapp"})

# One event loop for the life of the environment, so the Graph client's connections stay
# warm between runs; built at cold start, so a missing setting fails the init.
_runner = asyncio.Runner()
_settings = Settings.from_env()
_manager = build_manager(
    _settings,
    SubscriptionClients(dynamodb=boto3.client("dynamodb"), secrets=boto3.client("secretsmanager")),
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = _runner.run(_manager.check_all())
    return report.summary()
