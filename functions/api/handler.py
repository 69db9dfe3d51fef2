"""The `/v1` API (HTTP API, payload v2): send messages, read their status, report health.

API Gateway checks the caller's IAM signature before this function runs.
"""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from pixy_whatsapp.api import ApiServices, build_app
from pixy_whatsapp.observability import logger, metrics, tracer
from pixy_whatsapp.settings import Settings

copy_config_to_registered_loggers(source_logger=logger, include={"pixy_whatsapp"})

# Short timeouts and few retries: a caller waiting on a 15 s function is better told
# to retry than kept waiting; the connection pool matches the API's parallel writes.
_AWS_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "max_attempts": 3},
    max_pool_connections=16,
)

# Built at cold start: a missing setting fails the init, not the first request.
settings = Settings.from_env()
services = ApiServices.from_settings(
    settings,
    dynamodb=boto3.client("dynamodb", config=_AWS_CONFIG),
    sqs=boto3.client("sqs", config=_AWS_CONFIG),
)
app = build_app(lambda: services)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
