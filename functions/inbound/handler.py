"""Inbound Lambda: the inbound queue's consumer (webhook bodies to statuses and events).

The queue is a standard one, so records are independent: each is handled on its own and a
failure is reported for that record alone (partial batch response). When every record of
a batch fails, Powertools raises instead, which also tells Lambda to slow its polling down
while, say, DynamoDB or EventBridge is unavailable.
"""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pixy_whatsapp.inbound import InboundClients, build_inbound_processor
from pixy_whatsapp.observability import logger, metrics, tracer
from pixy_whatsapp.settings import Settings

copy_config_to_registered_loggers(source_logger=logger, include={"pixy_whatsapp"})

# Built at cold start: a missing setting fails the init, not the first webhook.
settings = Settings.from_env()
inbound = build_inbound_processor(
    settings,
    InboundClients(
        dynamodb=boto3.client("dynamodb"),
        sqs=boto3.client("sqs"),
        s3=boto3.client("s3"),
        events=boto3.client("events"),
    ),
)
processor = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method(capture_response=False)
def record_handler(record: SQSRecord) -> None:
    outcome = inbound.process(
        record.body, source_message_id=record.message_id, receipt_handle=record.receipt_handle
    )
    logger.debug("inbound record done", extra={"outcome": outcome.value})


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
