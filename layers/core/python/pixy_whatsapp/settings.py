"""Every setting a Lambda function reads from its environment, in one typed model.

The CDK stack builds each function's environment with :meth:`Settings.to_env` and the
local stack does the same, so a variable's name exists in exactly one place: the field
name, upper-cased, with the ``PIXY_`` prefix (``messages_table`` is ``PIXY_MESSAGES_TABLE``).
Handlers call :meth:`Settings.from_env` once at cold start; a missing or malformed variable
fails there, naming the variable, instead of on the first message that needs it.

Example::

    settings = Settings.from_env()
    table = dynamodb.Table(settings.messages_table)
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

ENV_PREFIX = "PIXY_"

_GRAPH_VERSION = re.compile(r"^v\d+\.\d+$")


class SettingsError(ValueError):
    """The environment does not describe a usable configuration."""


def env_name(field: str) -> str:
    """The environment variable that holds ``field``."""
    return f"{ENV_PREFIX}{field.upper()}"


def _split_words(value: object) -> object:
    # The environment can only carry strings: lists travel comma-separated.
    if isinstance(value, str):
        return tuple(word.strip().lower() for word in value.split(",") if word.strip())
    return value


def _blank_to_none(value: object) -> object:
    if isinstance(value, str) and not value.strip():
        return None
    return value


Keywords = Annotated[tuple[str, ...], BeforeValidator(_split_words)]
OptionalUrl = Annotated[str | None, BeforeValidator(_blank_to_none)]

DEFAULT_OPT_OUT_KEYWORDS: tuple[str, ...] = (
    # English
    "stop",
    "unsubscribe",
    "cancel",
    "quit",
    "end",
    # Spanish
    "baja",
    "parar",
    "cancelar",
    "detener",
    # Portuguese
    "sair",
    "pare",
    "descadastrar",
)
DEFAULT_OPT_IN_KEYWORDS: tuple[str, ...] = (
    "start",
    "resume",
    "unstop",
    "subscribe",
    "reanudar",
    "alta",
    "voltar",
    "retomar",
)


class Settings(BaseModel):
    """The deployment's names and tunables, as every function sees them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # --- where things are -------------------------------------------------------------
    stage: str = Field(min_length=1, description="deployment stage, e.g. dev or prod")
    messages_table: str = Field(min_length=1, description="message status records")
    messages_wamid_index: str = Field(
        default="by-wamid", min_length=1, description="GSI of the messages table on `wamid`"
    )
    control_table: str = Field(min_length=1, description="rate limits, breakers, config")
    contacts_table: str = Field(min_length=1, description="opt-outs, 24 h window, pair state")
    wabas_table: str = Field(min_length=1, description="registered WABAs")
    idempotency_table: str = Field(min_length=1, description="webhook de-duplication")
    outbound_queue_url: str = Field(min_length=1, description="the FIFO send queue")
    outbound_dlq_url: str = Field(min_length=1, description="its dead-letter queue")
    outbound_max_receive_count: int = Field(
        default=100, ge=1, description="receives before SQS moves a send to the DLQ"
    )
    inbound_queue_url: str = Field(min_length=1, description="webhook bodies to process")
    inbound_dlq_url: str = Field(min_length=1, description="its dead-letter queue")
    webhook_bucket: str = Field(min_length=1, description="webhook bodies over the inline limit")
    webhook_inline_limit_bytes: int = Field(
        default=196_608,
        ge=1_024,
        le=262_144,
        description="larger webhook bodies go to the bucket, the queue gets a pointer",
    )
    event_bus: str = Field(min_length=1, description="EventBridge bus for domain events")
    event_source: str = Field(default="pixy.whatsapp", min_length=1)
    app_secret_name: str = Field(min_length=1, description="Meta app secret (webhook HMAC)")
    verify_token_name: str = Field(min_length=1, description="webhook verify token")
    waba_secret_prefix: str = Field(
        min_length=2, description="per-WABA token secrets are named <prefix><waba_id>"
    )
    secret_max_age_seconds: int = Field(default=300, ge=0, le=86_400)

    # --- Meta's Graph API -----------------------------------------------------------------
    graph_base_url: str = Field(default="https://graph.facebook.com", min_length=1)
    graph_api_version: str = Field(default="v24.0")
    graph_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    callback_override_url: OptionalUrl = Field(
        default=None, description="webhook URL sent with subscribed_apps; None keeps the app's"
    )

    # --- sending --------------------------------------------------------------------------
    default_mps: int = Field(default=80, ge=1, le=1_000, description="per phone number")
    shard_count: int = Field(default=16, ge=1, le=1_024, description="FIFO groups per WABA")
    max_attempts: int = Field(default=8, ge=1, le=100, description="transient retries")
    ambiguous_window_seconds: int = Field(
        default=900, ge=0, description="how long a send found `sending` is not sent again"
    )
    breaker_cache_seconds: float = Field(default=2.0, ge=0, le=60)
    message_ttl_days: int = Field(default=90, ge=1, description="expires_at of message records")
    # Meta retries a webhook for up to 7 days: remember what was processed for 8.
    idempotency_ttl_seconds: int = Field(default=691_200, ge=60)

    # --- receiving ------------------------------------------------------------------------
    opt_out_keywords: Keywords = DEFAULT_OPT_OUT_KEYWORDS
    opt_in_keywords: Keywords = DEFAULT_OPT_IN_KEYWORDS
    shadow_delivery_minutes: int = Field(
        default=30, ge=1, description="accepted sends with no status webhook for this long"
    )
    mask_phone_numbers: bool = True

    @field_validator("graph_api_version")
    @classmethod
    def _check_graph_version(cls, value: str) -> str:
        if not _GRAPH_VERSION.match(value):
            raise ValueError("must look like v24.0")
        return value

    @field_validator("waba_secret_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if not value.endswith("/"):
            raise ValueError("must end with '/'")
        return value

    @field_validator("graph_base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Read every ``PIXY_*`` variable; raise :class:`SettingsError` naming what is wrong."""
        source = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        missing: list[str] = []
        for name, field in cls.model_fields.items():
            raw = source.get(env_name(name))
            if raw is not None:
                values[name] = raw
            elif field.is_required():
                missing.append(env_name(name))
        if missing:
            raise SettingsError(f"missing environment variable(s): {', '.join(missing)}")
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            problems = "; ".join(
                f"{env_name(str(e['loc'][0]))}: {e['msg']}" if e["loc"] else e["msg"]
                for e in error.errors()
            )
            raise SettingsError(f"invalid environment: {problems}") from error

    def to_env(self) -> dict[str, str]:
        """The environment variables that :meth:`from_env` reads back into these settings."""
        env: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool):
                env[env_name(name)] = "true" if value else "false"
            elif isinstance(value, tuple):
                env[env_name(name)] = ",".join(value)
            else:
                env[env_name(name)] = str(value)
        return env

    def graph_url(self, path: str) -> str:
        """``path`` under the configured Graph API base and version."""
        return f"{self.graph_base_url}/{self.graph_api_version}/{path.lstrip('/')}"

    def waba_secret_name(self, waba_id: str) -> str:
        """Name of the Secrets Manager secret that holds ``waba_id``'s access token."""
        return f"{self.waba_secret_prefix}{waba_id}"
