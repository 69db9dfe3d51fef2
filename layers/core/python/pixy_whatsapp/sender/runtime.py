"""Building a `Sender` from the settings and boto3 clients (Lambda and the local stack)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pixy_whatsapp.breaker import (
    BreakerEvent,
    BreakerSettings,
    CircuitBreaker,
    DynamoDBBreakerStore,
)
from pixy_whatsapp.contacts import ContactStore
from pixy_whatsapp.events import EventBridgePublisher
from pixy_whatsapp.graph import GraphClient, GraphClientSettings, GraphTimeouts
from pixy_whatsapp.limits import DynamoDBLimitStore, Limiter, LimitSettings
from pixy_whatsapp.sender.policy import SenderPolicy
from pixy_whatsapp.sender.processor import Sender
from pixy_whatsapp.sender.telemetry import SenderTelemetry
from pixy_whatsapp.statuses import MessageStore
from pixy_whatsapp.subscriptions.shadow import DeliveryWatch
from pixy_whatsapp.tokens import TokenProvider

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient

    from pixy_whatsapp.settings import Settings


@dataclass(frozen=True, slots=True)
class SenderClients:
    dynamodb: DynamoDBClient
    sqs: SQSClient
    secrets: SecretsManagerClient
    events: EventBridgeClient


def build_sender(
    settings: Settings,
    clients: SenderClients,
    *,
    graph: GraphClient | None = None,
    limits: LimitSettings | None = None,
) -> Sender:
    """The deployed sender; `limits` replaces the policies the settings imply (the
    number's default mps, Meta's pair limit), for load tests against a simulator."""
    telemetry = SenderTelemetry()

    def on_breaker_event(event: BreakerEvent) -> None:
        telemetry.breaker_transition(event.scope.value, event.state.value)

    graph_client = graph or GraphClient(
        GraphClientSettings(
            base_url=settings.graph_base_url,
            api_version=settings.graph_api_version,
            timeouts=GraphTimeouts(read=settings.graph_timeout_seconds),
        )
    )
    return Sender(
        graph=graph_client,
        messages=MessageStore(
            clients.dynamodb, settings.messages_table, retention_days=settings.message_ttl_days
        ),
        contacts=ContactStore(clients.dynamodb, settings.contacts_table),
        limiter=Limiter(
            DynamoDBLimitStore(clients.dynamodb, settings.control_table),
            limits or LimitSettings(number_mps=settings.default_mps),
        ),
        breaker=CircuitBreaker(
            DynamoDBBreakerStore(clients.dynamodb, settings.control_table),
            BreakerSettings(cache_ttl_s=settings.breaker_cache_seconds),
            listeners=[on_breaker_event],
        ),
        tokens=TokenProvider(
            clients.secrets,
            settings.waba_secret_prefix,
            max_age_seconds=settings.secret_max_age_seconds,
        ),
        sqs=clients.sqs,
        queue_url=settings.outbound_queue_url,
        dlq_url=settings.outbound_dlq_url,
        policy=SenderPolicy(
            max_attempts=settings.max_attempts,
            ambiguous_window_s=settings.ambiguous_window_seconds,
            max_receive_count=settings.outbound_max_receive_count,
        ),
        telemetry=telemetry,
        watch=DeliveryWatch(clients.dynamodb, settings.control_table),
        events=EventBridgePublisher(
            clients.events, bus_name=settings.event_bus, source=settings.event_source
        ),
    )
