"""The deployment's shape, described once for the CDK stack and the local stack.

Tables, queues, the event bus, the schedule, secret names and the functions with what feeds
them are plain data here (no ``aws_cdk`` import), so ``infra/`` builds them in AWS and
``infra/local`` builds the same thing on moto server from the same numbers and names.

Example::

    topology = Topology("dev")
    topology.queue_name(QueueKey.OUTBOUND)      # 'pixy-whatsapp-dev-outbound.fifo'
    topology.function(FunctionKey.SENDER).event_source.max_concurrency
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

PROJECT = "pixy-whatsapp"
PARTITION_KEY = "pk"
TTL_ATTRIBUTE = "expires_at"
EVENT_SOURCE = "pixy.whatsapp"
HANDLER = "handler.handler"

VISIBILITY_FACTOR = 6
"""Queue visibility is at least this many times its consumer's timeout.

Lambda's advice for SQS event sources: a message whose invocation is retried by the
poller must not become visible again while a slow earlier attempt still runs.
"""

_STAGE = re.compile(r"^[a-z][a-z0-9-]{0,11}$")


class TableKey(StrEnum):
    MESSAGES = "messages"
    CONTROL = "control"
    CONTACTS = "contacts"
    WABAS = "wabas"
    IDEMPOTENCY = "idempotency"


class QueueKey(StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class FunctionKey(StrEnum):
    API = "api"
    WEBHOOK = "webhook"
    INBOUND = "inbound"
    SENDER = "sender"
    SUBSCRIPTIONS = "subscriptions"


class SecretKey(StrEnum):
    """Secret *names* (suffixes); the values live in Secrets Manager only."""

    APP_SECRET = "app-secret"  # noqa: S105 - a name, not a value
    VERIFY_TOKEN = "verify-token"  # noqa: S105 - a name, not a value


class Projection(StrEnum):
    KEYS_ONLY = "keys_only"
    ALL = "all"


@dataclass(frozen=True)
class IndexSpec:
    name: str
    partition_key: str
    projection: Projection = Projection.KEYS_ONLY


@dataclass(frozen=True)
class TableSpec:
    """A DynamoDB table: string key ``pk``, no sort key, TTL on ``expires_at``, on demand."""

    key: TableKey
    purpose: str
    indexes: tuple[IndexSpec, ...] = ()
    partition_key: str = PARTITION_KEY
    ttl_attribute: str = TTL_ATTRIBUTE


@dataclass(frozen=True)
class EventSourceSpec:
    """How a queue feeds a function (Lambda's SQS event source mapping)."""

    queue: QueueKey
    batch_size: int
    max_concurrency: int
    report_batch_item_failures: bool = True


@dataclass(frozen=True)
class FunctionSpec:
    key: FunctionKey
    description: str
    memory_mb: int
    timeout_seconds: int
    event_source: EventSourceSpec | None = None
    handler: str = HANDLER

    @property
    def code_dir(self) -> str:
        """Folder (relative to the project root) shipped as the function's code."""
        return f"functions/{self.key}"


@dataclass(frozen=True)
class QueueSpec:
    """A queue and its dead-letter queue."""

    key: QueueKey
    fifo: bool
    consumer: FunctionKey
    visibility_timeout_seconds: int
    max_receive_count: int
    retention_days: int
    dlq_retention_days: int = 14
    high_throughput: bool = False
    max_message_bytes: int = 262_144
    # Room for a body of the source queue's largest size plus the reason it was moved.
    dlq_max_message_bytes: int = 1_048_576


@dataclass(frozen=True)
class ScheduleSpec:
    key: str
    target: FunctionKey
    rate_minutes: int
    description: str

    @property
    def expression(self) -> str:
        """The EventBridge schedule expression."""
        unit = "minute" if self.rate_minutes == 1 else "minutes"
        return f"rate({self.rate_minutes} {unit})"


@dataclass(frozen=True)
class SecretSpec:
    key: SecretKey
    description: str


TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        TableKey.MESSAGES,
        "one record per send request: status history, wamid, Meta's error",
        indexes=(IndexSpec("by-wamid", "wamid"),),
    ),
    TableSpec(TableKey.CONTROL, "rate-limit state, circuit breakers, per-number overrides"),
    TableSpec(TableKey.CONTACTS, "opt-outs, last inbound time (24 h window), pair-limit state"),
    TableSpec(TableKey.WABAS, "registered WABAs and their subscription state"),
    TableSpec(TableKey.IDEMPOTENCY, "webhook statuses and inbound messages already applied"),
)

FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        FunctionKey.API,
        "send API and WABA admin routes (/v1/*)",
        memory_mb=512,
        timeout_seconds=15,
    ),
    FunctionSpec(
        FunctionKey.WEBHOOK,
        "Meta webhook: verify handshake and signature, hand the body to the inbound queue",
        memory_mb=256,
        timeout_seconds=10,
    ),
    FunctionSpec(
        FunctionKey.INBOUND,
        "apply statuses, publish inbound messages and account updates as events",
        memory_mb=512,
        timeout_seconds=30,
        event_source=EventSourceSpec(QueueKey.INBOUND, batch_size=10, max_concurrency=20),
    ),
    FunctionSpec(
        FunctionKey.SENDER,
        "send queued messages to the Graph API within Meta's limits",
        # The sender validates, signs TLS and serialises for up to ten concurrent sends:
        # CPU, which Lambda hands out in proportion to memory, sets its batch latency.
        memory_mb=1024,
        timeout_seconds=30,
        event_source=EventSourceSpec(QueueKey.OUTBOUND, batch_size=10, max_concurrency=50),
    ),
    FunctionSpec(
        FunctionKey.SUBSCRIPTIONS,
        "re-check every WABA's webhook subscription, repair drift, detect shadow delivery",
        memory_mb=256,
        timeout_seconds=120,
    ),
)

_FUNCTIONS_BY_KEY: Mapping[FunctionKey, FunctionSpec] = MappingProxyType(
    {spec.key: spec for spec in FUNCTIONS}
)


def _visibility_for(consumer: FunctionKey) -> int:
    return VISIBILITY_FACTOR * _FUNCTIONS_BY_KEY[consumer].timeout_seconds


QUEUES: tuple[QueueSpec, ...] = (
    QueueSpec(
        QueueKey.OUTBOUND,
        fifo=True,
        consumer=FunctionKey.SENDER,
        visibility_timeout_seconds=_visibility_for(FunctionKey.SENDER),
        # Every receive counts, deferrals for rate limits and breakers included; the sender
        # records a terminal failure itself one receive before this, so the DLQ keeps only
        # what the sender could not handle at all (a crash on every delivery). 100 receives
        # cover a WABA paused for hours, since a held breaker defers for 15 minutes a time.
        max_receive_count=100,
        retention_days=4,
        high_throughput=True,
    ),
    QueueSpec(
        QueueKey.INBOUND,
        fifo=False,
        consumer=FunctionKey.INBOUND,
        visibility_timeout_seconds=_visibility_for(FunctionKey.INBOUND),
        max_receive_count=5,
        retention_days=4,
    ),
)

SCHEDULES: tuple[ScheduleSpec, ...] = (
    ScheduleSpec(
        "subscription-check",
        target=FunctionKey.SUBSCRIPTIONS,
        rate_minutes=15,
        description="re-verify every registered WABA's subscription; check shadow delivery",
    ),
)

SECRETS: tuple[SecretSpec, ...] = (
    SecretSpec(SecretKey.APP_SECRET, "Meta app secret: the HMAC key of webhook signatures"),
    SecretSpec(SecretKey.VERIFY_TOKEN, "token Meta echoes in the webhook verify handshake"),
)

WEBHOOK_BODY_RETENTION_DAYS = 14
"""Offloaded webhook bodies live as long as a message may wait in the inbound DLQ."""


@dataclass(frozen=True)
class Topology:
    """Names of every resource of one stage, and the specs above."""

    stage: str
    tables: tuple[TableSpec, ...] = field(default=TABLES, repr=False)
    queues: tuple[QueueSpec, ...] = field(default=QUEUES, repr=False)
    functions: tuple[FunctionSpec, ...] = field(default=FUNCTIONS, repr=False)
    schedules: tuple[ScheduleSpec, ...] = field(default=SCHEDULES, repr=False)
    secrets: tuple[SecretSpec, ...] = field(default=SECRETS, repr=False)

    def __post_init__(self) -> None:
        if not _STAGE.match(self.stage):
            raise ValueError(
                f"stage {self.stage!r}: use 1-12 lower-case letters, digits or '-', "
                "starting with a letter (it becomes part of bucket and queue names)"
            )
        for queue in self.queues:
            consumer = self.function(queue.consumer)
            if queue.visibility_timeout_seconds < VISIBILITY_FACTOR * consumer.timeout_seconds:
                raise ValueError(f"queue {queue.key}: visibility below {VISIBILITY_FACTOR}x")
            if consumer.event_source is None or consumer.event_source.queue != queue.key:
                raise ValueError(f"queue {queue.key}: consumer {consumer.key} does not read it")

    # --- names ---------------------------------------------------------------------------
    @property
    def prefix(self) -> str:
        return f"{PROJECT}-{self.stage}"

    @property
    def service_name(self) -> str:
        """``POWERTOOLS_SERVICE_NAME``: the ``service`` dimension of every metric."""
        return self.prefix

    @property
    def bus_name(self) -> str:
        return f"{self.prefix}-events"

    @property
    def dashboard_name(self) -> str:
        return self.prefix

    @property
    def api_name(self) -> str:
        return f"{self.prefix}-api"

    @property
    def alarm_topic_name(self) -> str:
        return f"{self.prefix}-alarms"

    @property
    def secret_path(self) -> str:
        return f"{PROJECT}/{self.stage}/"

    @property
    def waba_secret_prefix(self) -> str:
        """Per-WABA token secrets are created at run time as ``<prefix><waba_id>``."""
        return f"{self.secret_path}waba/"

    def table_name(self, key: TableKey) -> str:
        return f"{self.prefix}-{key}"

    def queue_name(self, key: QueueKey) -> str:
        return f"{self.prefix}-{key}{'.fifo' if self.queue(key).fifo else ''}"

    def dlq_name(self, key: QueueKey) -> str:
        return f"{self.prefix}-{key}-dlq{'.fifo' if self.queue(key).fifo else ''}"

    def function_name(self, key: FunctionKey) -> str:
        return f"{self.prefix}-{key}"

    def log_group_name(self, key: FunctionKey) -> str:
        return f"/aws/lambda/{self.function_name(key)}"

    def secret_name(self, key: SecretKey) -> str:
        return f"{self.secret_path}{key}"

    def schedule_name(self, key: str) -> str:
        return f"{self.prefix}-{key}"

    def alarm_name(self, key: str) -> str:
        return f"{self.prefix}-{key}"

    def bucket_name(self, account: str, region: str) -> str:
        """Bucket names are global: account and region keep stages and copies apart."""
        return f"pixy-wa-{self.stage}-webhooks-{account}-{region}"

    # --- specs ---------------------------------------------------------------------------
    def table(self, key: TableKey) -> TableSpec:
        return next(spec for spec in self.tables if spec.key == key)

    def queue(self, key: QueueKey) -> QueueSpec:
        return next(spec for spec in self.queues if spec.key == key)

    def function(self, key: FunctionKey) -> FunctionSpec:
        return next(spec for spec in self.functions if spec.key == key)

    def settings_values(
        self,
        *,
        queue_urls: Mapping[QueueKey, str],
        dlq_urls: Mapping[QueueKey, str],
        bucket: str,
    ) -> dict[str, object]:
        """The resource-name fields of ``pixy_whatsapp.settings.Settings``.

        Queue URLs and the bucket name are only known once the queues exist (CloudFormation
        tokens in the stack, real URLs on moto), so the caller passes them in.
        """
        messages = self.table(TableKey.MESSAGES)
        return {
            "stage": self.stage,
            "messages_table": self.table_name(TableKey.MESSAGES),
            "messages_wamid_index": messages.indexes[0].name,
            "control_table": self.table_name(TableKey.CONTROL),
            "contacts_table": self.table_name(TableKey.CONTACTS),
            "wabas_table": self.table_name(TableKey.WABAS),
            "idempotency_table": self.table_name(TableKey.IDEMPOTENCY),
            "outbound_queue_url": queue_urls[QueueKey.OUTBOUND],
            "outbound_dlq_url": dlq_urls[QueueKey.OUTBOUND],
            "outbound_max_receive_count": self.queue(QueueKey.OUTBOUND).max_receive_count,
            "inbound_queue_url": queue_urls[QueueKey.INBOUND],
            "inbound_dlq_url": dlq_urls[QueueKey.INBOUND],
            "webhook_bucket": bucket,
            "event_bus": self.bus_name,
            "event_source": EVENT_SOURCE,
            "app_secret_name": self.secret_name(SecretKey.APP_SECRET),
            "verify_token_name": self.secret_name(SecretKey.VERIFY_TOKEN),
            "waba_secret_prefix": self.waba_secret_prefix,
        }
