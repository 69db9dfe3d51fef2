"""Sender Lambda: the outbound FIFO queue's consumer (partial batch responses)."""

from __future__ import annotations

import asyncio
from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from pixy_whatsapp.observability import logger, metrics, tracer
from pixy_whatsapp.sender import SenderClients, build_sender
from pixy_whatsapp.settings import Settings

# One event loop for the life of the environment, so the Graph client's HTTP/2
# connections stay warm from one invocation to the next.
_runner = asyncio.Runner()
_settings = Settings.from_env()
# A batch's lanes put up to ~25 DynamoDB requests in flight at once (claims, reservations,
# outcomes); the default pool of 10 would make the rest open and drop connections.
_dynamodb_config = Config(max_pool_connections=32)
_sender = build_sender(
    _settings,
    SenderClients(
        dynamodb=boto3.client("dynamodb", config=_dynamodb_config),
        sqs=boto3.client("sqs"),
        secrets=boto3.client("secretsmanager"),
        events=boto3.client("events"),
    ),
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = _runner.run(_sender.process(event.get("Records", [])))
    return {"batchItemFailures": [{"itemIdentifier": i} for i in report.failed_ids]}
