"""Building a `SubscriptionManager` from the settings and boto3 clients (Lambda, local stack)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from pydantic import SecretStr

from pixy_whatsapp.graph import GraphClient, GraphClientSettings, GraphTimeouts
from pixy_whatsapp.subscriptions.manager import DEFAULT_CONCURRENCY, SubscriptionManager
from pixy_whatsapp.subscriptions.registry import WabaRegistry
from pixy_whatsapp.subscriptions.shadow import ShadowDeliveryCheck
from pixy_whatsapp.tokens import TokenProvider

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient

    from pixy_whatsapp.settings import Settings


@dataclass(frozen=True, slots=True)
class SubscriptionClients:
    dynamodb: DynamoDBClient
    secrets: SecretsManagerClient


def build_manager(
    settings: Settings,
    clients: SubscriptionClients,
    *,
    graph: GraphClient | None = None,
    app_id: str | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> SubscriptionManager:
    """The manager as every function uses it; `graph` lets a caller share its client."""
    secrets = SecretsProvider(boto3_client=clients.secrets)

    def verify_token() -> SecretStr:
        value = secrets.get(settings.verify_token_name, max_age=settings.secret_max_age_seconds)
        if isinstance(value, bytes):
            value = value.decode()
        if not isinstance(value, str):
            raise TypeError("the verify token secret is not a string")
        return SecretStr(value.strip())

    graph_client = graph or GraphClient(
        GraphClientSettings(
            base_url=settings.graph_base_url,
            api_version=settings.graph_api_version,
            timeouts=GraphTimeouts(read=settings.graph_timeout_seconds),
        )
    )
    return SubscriptionManager(
        graph=graph_client,
        tokens=TokenProvider(
            clients.secrets,
            settings.waba_secret_prefix,
            max_age_seconds=settings.secret_max_age_seconds,
        ),
        registry=WabaRegistry(clients.dynamodb, settings.wabas_table),
        shadow=ShadowDeliveryCheck(
            clients.dynamodb,
            settings.control_table,
            settings.messages_table,
            silence_ms=settings.shadow_delivery_minutes * 60_000,
        ),
        callback_override_url=settings.callback_override_url,
        verify_token=verify_token,
        app_id=app_id,
        concurrency=concurrency,
    )
