"""Meta's webhook callback (HTTP API, payload v2): GET handshake and signed POST deliveries."""

from __future__ import annotations

import time
from typing import Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.typing import LambdaContext
from pixy_whatsapp.observability import logger, metrics, tracer
from pixy_whatsapp.settings import Settings
from pixy_whatsapp.webhooks import (
    SIGNATURE_HEADER,
    HandshakeRejected,
    SignatureRejected,
    WebhookReceiver,
    WebhookSecrets,
    WebhookUnavailable,
    request_body_bytes,
)
from pixy_whatsapp.webhooks.telemetry import webhook_accepted, webhook_rejected

copy_config_to_registered_loggers(source_logger=logger, include={"pixy_whatsapp"})

# Built at cold start: a missing setting fails the init, not the first webhook.
settings = Settings.from_env()
receiver = WebhookReceiver(
    secrets=WebhookSecrets(
        SecretsProvider(boto3_client=boto3.client("secretsmanager")),
        app_secret_name=settings.app_secret_name,
        verify_token_name=settings.verify_token_name,
        max_age_seconds=settings.secret_max_age_seconds,
    ),
    sqs_client=boto3.client("sqs"),
    queue_url=settings.inbound_queue_url,
    s3_client=boto3.client("s3"),
    bucket=settings.webhook_bucket,
    max_message_bytes=settings.webhook_inline_limit_bytes,
)

app = APIGatewayHttpResolver()


def _text(status_code: int, body: str) -> Response[str]:
    return Response(status_code=status_code, content_type=content_types.TEXT_PLAIN, body=body)


@app.get("/webhook")
def verify_subscription() -> Response[str]:
    try:
        challenge = receiver.verify_subscription(app.current_event.query_string_parameters)
    except WebhookUnavailable as error:
        return _unavailable(error)
    except HandshakeRejected as rejected:
        logger.warning("webhook verification rejected", extra={"detail": rejected.detail})
        webhook_rejected(rejected.reason)
        return _text(403, "forbidden")
    return _text(200, challenge)


@app.post("/webhook")
def receive_webhook() -> Response[str]:
    event = app.current_event
    received_at: int = event.request_context.get("timeEpoch") or time.time_ns() // 1_000_000
    try:
        kept = receiver.receive(
            request_body_bytes(event.body, bool(event.is_base64_encoded)),
            event.headers.get(SIGNATURE_HEADER),
            received_at=received_at,
        )
    except WebhookUnavailable as error:
        return _unavailable(error)
    except SignatureRejected as rejected:
        logger.warning("webhook signature rejected", extra={"reason": rejected.reason.value})
        webhook_rejected(rejected.reason)
        return _text(401, f"rejected: {rejected.reason.value}")
    webhook_accepted(kept)
    # Debug only: at thousands of webhooks a second an info line each costs real money,
    # and the metric already counts them.
    logger.debug(
        "webhook accepted",
        extra={"message_id": kept.message_id, "size": kept.size, "sha256": kept.sha256},
    )
    return _text(200, "ok")


def _unavailable(error: WebhookUnavailable) -> Response[str]:
    # Anything but 200 makes Meta deliver again, so a body we did not keep is not lost.
    logger.exception("webhook not kept", extra={"error": str(error)})
    return _text(500, "try again")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
