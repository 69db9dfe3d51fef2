"""Building an `InboundProcessor` from the settings and boto3 clients (Lambda, local stack)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pixy_whatsapp.contacts import ContactStore
from pixy_whatsapp.events import EventBridgePublisher, EventPublisher
from pixy_whatsapp.inbound.directory import NumberDirectory
from pixy_whatsapp.inbound.guards import GuardStore
from pixy_whatsapp.inbound.keywords import OptKeywords
from pixy_whatsapp.inbound.messages import MessageHandler
from pixy_whatsapp.inbound.processor import BUSY_RETRY_SECONDS, InboundProcessor
from pixy_whatsapp.inbound.statuses import StatusHandler
from pixy_whatsapp.inbound.telemetry import InboundTelemetry
from pixy_whatsapp.inbound.updates import UpdateHandler
from pixy_whatsapp.limits import DynamoDBLimitStore, Limiter, LimitSettings
from pixy_whatsapp.statuses import MessageStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

    from pixy_whatsapp.settings import Settings

META_REDELIVERY_SECONDS = 7 * 86_400
"""Meta retries an unanswered webhook for up to 7 days."""

GUARD_TTL_FLOOR_SECONDS = META_REDELIVERY_SECONDS + 86_400
"""Guards live at least this long, whatever ``idempotency_ttl_seconds`` says: a guard that
expired before Meta's last retry would let that retry publish its events a second time."""


@dataclass(frozen=True, slots=True)
class InboundClients:
    dynamodb: DynamoDBClient
    sqs: SQSClient
    s3: S3Client
    events: EventBridgeClient


def build_inbound_processor(
    settings: Settings,
    clients: InboundClients,
    *,
    publisher: EventPublisher | None = None,
    busy_retry_seconds: int = BUSY_RETRY_SECONDS,
) -> InboundProcessor:
    telemetry = InboundTelemetry()
    messages = MessageStore(
        clients.dynamodb, settings.messages_table, retention_days=settings.message_ttl_days
    )
    contacts = ContactStore(clients.dynamodb, settings.contacts_table)
    directory = NumberDirectory(clients.dynamodb, settings.control_table)
    limiter = Limiter(
        DynamoDBLimitStore(clients.dynamodb, settings.control_table),
        LimitSettings(number_mps=settings.default_mps),
    )
    return InboundProcessor(
        s3=clients.s3,
        sqs=clients.sqs,
        dlq_url=settings.inbound_dlq_url,
        queue_url=settings.inbound_queue_url,
        busy_retry_seconds=busy_retry_seconds,
        guards=GuardStore(
            clients.dynamodb,
            settings.idempotency_table,
            ttl_seconds=max(settings.idempotency_ttl_seconds, GUARD_TTL_FLOOR_SECONDS),
        ),
        directory=directory,
        statuses=StatusHandler(messages, contacts, telemetry),
        messages=MessageHandler(
            messages,
            contacts,
            OptKeywords(settings.opt_out_keywords, settings.opt_in_keywords),
            telemetry,
        ),
        updates=UpdateHandler(
            contacts, limiter, directory, telemetry, default_mps=float(settings.default_mps)
        ),
        publisher=publisher
        or EventBridgePublisher(
            clients.events, bus_name=settings.event_bus, source=settings.event_source
        ),
        telemetry=telemetry,
    )
