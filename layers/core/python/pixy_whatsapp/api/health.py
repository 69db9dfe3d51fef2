"""`GET /v1/health`: queue depths, and on request a number's and a WABA's send state.

Healthy means every queue answered: those are what the API and the functions cannot
work without. A breaker or limit that cannot be read is reported with its error but
does not make the answer unhealthy, since the sender fails safe on its own when
that happens (it holds messages back rather than sending blind).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from pixy_whatsapp.api.models import (
    BreakerView,
    HealthResponse,
    NumberLimitView,
    PhoneNumberHealth,
    QueueDepth,
    QueueDepths,
    WabaHealth,
)
from pixy_whatsapp.breaker import BreakerUnavailable, CircuitBreaker, Scope
from pixy_whatsapp.limits import LimitKey, LimitSettings, LimitStore, LimitStoreUnavailable
from pixy_whatsapp.statuses import now_ms

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType

OK = "ok"
UNAVAILABLE = "unavailable"

_DEPTH_ATTRIBUTES: list[QueueAttributeNameType] = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
]


@dataclass(frozen=True, slots=True)
class QueueUrls:
    outbound: str
    outbound_dlq: str
    inbound: str
    inbound_dlq: str


def _at(epoch_ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC) if epoch_ms else None


class HealthService:
    def __init__(
        self,
        sqs: SQSClient,
        queues: QueueUrls,
        breaker: CircuitBreaker,
        limits: LimitStore,
        limit_settings: LimitSettings,
        *,
        clock_ms: Callable[[], int] = now_ms,
    ) -> None:
        self._sqs = sqs
        self._queues = queues
        self._breaker = breaker
        self._limits = limits
        self._limit_settings = limit_settings
        self._clock_ms = clock_ms
        # Every read is independent: all of them in one round trip's time.
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="health")

    def close(self) -> None:
        """Let the worker threads go (tests; a Lambda environment just ends)."""
        self._pool.shutdown(wait=False)

    def report(
        self, *, phone_number_id: str | None = None, waba_id: str | None = None
    ) -> HealthResponse:
        queues = {
            name: self._pool.submit(self._depth, getattr(self._queues, name))
            for name in ("outbound", "outbound_dlq", "inbound", "inbound_dlq")
        }
        number: tuple[Future[BreakerView], Future[NumberLimitView]] | None = None
        if phone_number_id is not None:
            number = (
                self._pool.submit(self._breaker_view, Scope.NUMBER, phone_number_id),
                self._pool.submit(self._limit_view, phone_number_id),
            )
        waba = None
        if waba_id is not None:
            waba = self._pool.submit(self._breaker_view, Scope.WABA, waba_id)
        depths = QueueDepths(**{name: future.result() for name, future in queues.items()})
        reachable = all(
            depth.reachable
            for depth in (
                depths.outbound,
                depths.outbound_dlq,
                depths.inbound,
                depths.inbound_dlq,
            )
        )
        return HealthResponse(
            status=OK if reachable else UNAVAILABLE,
            queues=depths,
            phone_number=(
                PhoneNumberHealth(
                    id=phone_number_id, breaker=number[0].result(), limit=number[1].result()
                )
                if number is not None and phone_number_id is not None
                else None
            ),
            waba=(
                WabaHealth(id=waba_id, breaker=waba.result())
                if waba is not None and waba_id is not None
                else None
            ),
        )

    def _depth(self, queue_url: str) -> QueueDepth:
        try:
            response = self._sqs.get_queue_attributes(
                QueueUrl=queue_url, AttributeNames=_DEPTH_ATTRIBUTES
            )
        except (BotoCoreError, ClientError) as error:
            return QueueDepth(reachable=False, error=str(error))
        attributes = response.get("Attributes", {})

        def count(name: str) -> int | None:
            value = attributes.get(name)  # type: ignore[call-overload]
            return int(value) if value is not None else None

        return QueueDepth(
            reachable=True,
            visible=count("ApproximateNumberOfMessages"),
            in_flight=count("ApproximateNumberOfMessagesNotVisible"),
            delayed=count("ApproximateNumberOfMessagesDelayed"),
        )

    def _breaker_view(self, scope: Scope, scope_id: str) -> BreakerView:
        try:
            record = self._breaker.state(scope, scope_id)
        except BreakerUnavailable as error:
            return BreakerView(error=str(error))
        return BreakerView(
            state=record.state.value,
            reason=record.reason or None,
            changed_at=_at(record.changed_at_ms),
            open_until=_at(record.open_until_ms),
        )

    def _limit_view(self, phone_number_id: str) -> NumberLimitView:
        try:
            override = self._limits.read_number_mps(phone_number_id)
            tat_us = self._limits.read_tat(LimitKey.number(phone_number_id).pk)
        except LimitStoreUnavailable as error:
            return NumberLimitView(error=str(error))
        policy = self._limit_settings.number_policy(override)
        ahead_ms = 0 if tat_us is None else max(0, tat_us // 1000 - self._clock_ms())
        return NumberLimitView(
            mps=override if override is not None else self._limit_settings.number_mps,
            source="override" if override is not None else "default",
            sustained_per_s=round(policy.rate_per_s, 3),
            burst=policy.burst,
            reserved_ahead_ms=ahead_ms,
        )
