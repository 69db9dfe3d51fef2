"""The sender: one SQS batch of send requests in, Meta calls out, every fate recorded.

Per batch, DynamoDB is visited in three rounds: one read of the batch's message,
contact and breaker items; then claims (conditional puts) with the limiter
reservations beside them; then each outcome. Each lane (same phone number, same
recipient) is sent in queue order and does not wait for the other lanes: it sends
as soon as its own claims and its pair and number tokens are in, so one lane's
writes overlap another's Graph call. A message that must be retried defers the
later messages of its lane, never anyone else's.
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from pixy_whatsapp.breaker import BreakerState, CircuitBreaker, Decision, Scope
from pixy_whatsapp.contacts import Contact, ContactStore
from pixy_whatsapp.errors import Action, BreakerScope, ErrorClass, classify
from pixy_whatsapp.events import (
    DetailType,
    EventDetail,
    EventPublisher,
    MessageFailed,
    MessageStatusChanged,
    MetaError,
    event_id,
)
from pixy_whatsapp.graph import GraphAmbiguousError, GraphApiError, GraphClient, GraphNotSentError
from pixy_whatsapp.limits import Grant, Limiter, LimitError, LimitKey, Reservation, plan_wait
from pixy_whatsapp.observability import logger, mask_phone
from pixy_whatsapp.outbound.contract import Category, SendRequest
from pixy_whatsapp.sender.policy import SenderPolicy
from pixy_whatsapp.sender.records import (
    QueuedRecord,
    dead_letter_attributes,
    parse_record,
    sqs_text,
)
from pixy_whatsapp.sender.telemetry import SenderTelemetry
from pixy_whatsapp.statuses import (
    Claim,
    ClaimConflict,
    ClaimOutcome,
    MessageError,
    MessageStatus,
    MessageStore,
    now_ms,
)
from pixy_whatsapp.subscriptions.shadow import DeliveryWatch
from pixy_whatsapp.tokens import TokenNotFoundError, TokenProvider

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

_P = ParamSpec("_P")
_T = TypeVar("_T")
# boto3 calls are blocking: a batch has up to ten lanes, each with a claim and a
# reservation in flight at once, more than asyncio's default executor gives on 2 vCPUs.
_IO_THREADS = 32


class Fate(StrEnum):
    DONE = "done"  # settled (accepted, failed, skipped): delete from the queue
    RETRY = "retry"  # back to the queue after `delay_s`
    DEAD = "dead"  # poison, moved to the DLQ by us


@dataclass(slots=True)
class _Work:
    record: QueuedRecord
    attempt: int = 0
    fate: Fate | None = None
    delay_s: float = 0.0
    claimed: bool = False
    claim: Claim | None = None
    current: Mapping[str, Any] | None = None  # the message's item as round 1 read it
    # The event loop's time of the slot the limiter booked (asked at + booked wait): the
    # send waits for that moment, however long the reservation itself took to come back,
    # so the spacing the limiter booked is the spacing Meta sees.
    send_at: float = 0.0
    event: EventDetail | None = None  # published once the batch is settled


@dataclass(slots=True)
class BatchReport:
    failed_ids: list[str] = field(default_factory=list)
    fates: dict[str, Fate] = field(default_factory=dict)


class Sender:
    def __init__(
        self,
        *,
        graph: GraphClient,
        messages: MessageStore,
        contacts: ContactStore,
        limiter: Limiter,
        breaker: CircuitBreaker,
        tokens: TokenProvider,
        sqs: SQSClient,
        queue_url: str,
        dlq_url: str,
        policy: SenderPolicy | None = None,
        telemetry: SenderTelemetry | None = None,
        watch: DeliveryWatch | None = None,
        events: EventPublisher | None = None,
        clock_ms: Callable[[], int] = now_ms,
        rng: random.Random | None = None,
    ) -> None:
        self._graph = graph
        self._messages = messages
        self._contacts = contacts
        self._limiter = limiter
        self._breaker = breaker
        self._tokens = tokens
        self._sqs = sqs
        self._queue_url = queue_url
        self._dlq_url = dlq_url
        self._policy = policy or SenderPolicy()
        self._telemetry = telemetry or SenderTelemetry()
        self._watch = watch
        self._events = events
        self._clock_ms = clock_ms
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        # Kept for the life of the environment: threads survive Lambda freezes.
        self._pool = ThreadPoolExecutor(max_workers=_IO_THREADS, thread_name_prefix="sender")

    def close(self) -> None:
        """Stop the thread pools (tests, benchmarks): an environment keeps them for life."""
        self._pool.shutdown(wait=True)
        self._limiter.close()

    async def _io(self, fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Run a blocking (boto3) call on the sender's own thread pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    async def process(self, records: Sequence[dict[str, Any]]) -> BatchReport:
        work = [_Work(parse_record(r)) for r in records]
        valid = [w for w in work if w.record.request is not None]
        poison = [w for w in work if w.record.request is None]

        # Round 1: the batch's message, contact and breaker items, and poison to the DLQ.
        current = asyncio.create_task(self._read_messages(valid))
        contacts = asyncio.create_task(self._read_contacts(valid))
        verdicts = asyncio.create_task(self._breaker_verdicts(valid))
        await asyncio.gather(current, contacts, verdicts, *(self._bury(w) for w in poison))
        await self._triage(valid, current.result(), contacts.result(), verdicts.result())
        # Round 2 and the sends: per lane, claims and the pair reservation, then the calls.
        lanes = self._lanes(valid)
        plans, numbers = await self._plan(lanes)
        number_grants = {
            phone: asyncio.ensure_future(self._grant(reservation))
            for phone, reservation in numbers.items()
        }
        await asyncio.gather(
            *(
                self._run_lane(lane, plans.get(key), number_grants.get(key[0]))
                for key, lane in lanes.items()
            )
        )
        await asyncio.gather(
            self._io(self._apply_visibility, [w for w in work if w.fate is Fate.RETRY]),
            self._io(self._publish, [w.event for w in work if w.event is not None]),
        )

        report = BatchReport()
        for w in work:
            fate = w.fate or Fate.RETRY
            report.fates[w.record.record_id] = fate
            if fate is Fate.RETRY:
                report.failed_ids.append(w.record.record_id)
        return report

    # -- round 1: what the batch's items say ---------------------------------------------

    async def _read_messages(self, valid: list[_Work]) -> dict[str, dict[str, Any]]:
        ids = [w.record.request.id for w in valid if w.record.request is not None]
        return await self._io(self._messages.read_many, ids) if ids else {}

    async def _triage(
        self,
        valid: list[_Work],
        current: dict[str, dict[str, Any]],
        contacts: dict[tuple[str, str], Contact],
        verdicts: dict[tuple[Scope, str], Decision],
    ) -> None:
        """Settle from round 1's reads what needs no claim: redeliveries, attempts in
        flight, deadlines, opt-outs and open breakers."""
        for w in valid:
            request = w.record.request
            assert request is not None
            item = current.get(request.id)
            refused = MessageStore.refusal(item)
            if refused is not None:
                await self._on_refusal(w, refused)
                if not w.claimed:  # settled, or deferred while an attempt is in flight
                    continue
            w.current = item
            await self._screen(w, contacts, verdicts)

    async def _settle_in_flight(self, w: _Work, sending_at_ms: int | None) -> None:
        """An earlier attempt may have reached Meta: wait for its webhook, then resend."""
        request = w.record.request
        assert request is not None
        waited_s = (self._clock_ms() - (sending_at_ms or 0)) / 1000
        if waited_s < self._policy.ambiguous_window_s:
            self._defer(w, self._policy.ambiguous_window_s - waited_s)
            return
        reclaimed = await self._io(self._messages.reclaim, request.id, w.attempt)
        if reclaimed is None:  # settled meanwhile (a webhook) or taken by another attempt
            w.fate = Fate.DONE
            return
        self._telemetry.ambiguous_resend()
        logger.warning("resending after an unresolved attempt", extra={"message_id": request.id})
        w.attempt = reclaimed.attempt
        w.claim = reclaimed
        w.claimed = True

    async def _bury(self, w: _Work) -> None:
        """Poison goes to the DLQ with its reason; its id, if any, is marked failed.

        If the DLQ will not take it, only this record goes back to the queue (SQS's own
        redrive moves it after maxReceiveCount): one bad body never fails the batch.
        """
        reason = w.record.poison_reason or "unreadable"
        body = w.record.body or "<empty>"
        attributes = dead_letter_attributes(body, reason, w.record.record_id)
        try:
            await self._io(
                self._sqs.send_message,
                QueueUrl=self._dlq_url,
                MessageBody=body,
                MessageGroupId="poison",
                MessageDeduplicationId=w.record.record_id,
                MessageAttributes=attributes,
            )
        except (BotoCoreError, ClientError):
            logger.exception("could not move an invalid send request to the DLQ")
            self._defer(w, self._backoff(w.record.receive_count))
            return
        if "reason" not in attributes:
            logger.error("invalid send request moved to the DLQ without its reason: too large")
        if w.record.poison_message_id:
            error = MessageError(
                reason="invalid", details=sqs_text(reason[:1024]), error_class="invalid"
            )
            # The body is safe in the DLQ: a record that cannot be written is only logged.
            await self._io(
                self._safely,
                self._messages.apply_status,
                w.record.poison_message_id,
                MessageStatus.FAILED,
                self._clock_ms(),
                error=error,
            )
        self._telemetry.failed("invalid")
        logger.warning("invalid send request moved to the DLQ", extra={"reason": reason})
        w.fate = Fate.DEAD

    # -- deadlines, opt-outs, breakers (from round 1's reads) ---------------------------

    async def _read_contacts(self, valid: list[_Work]) -> dict[tuple[str, str], Contact]:
        marketing = {
            (w.record.request.waba_id, w.record.request.recipient_key)
            for w in valid
            if w.record.request is not None and w.record.request.category is Category.MARKETING
        }
        if not marketing:
            return {}
        return await self._io(self._contacts.get_many, marketing)

    async def _screen(
        self,
        w: _Work,
        contacts: dict[tuple[str, str], Contact],
        verdicts: dict[tuple[Scope, str], Decision],
    ) -> None:
        request = w.record.request
        assert request is not None
        if request.is_expired():
            await self._fail(w, MessageError(reason="expired", error_class="expired"))
            return
        contact = contacts.get((request.waba_id, request.recipient_key))
        if request.category is Category.MARKETING and contact and contact.opted_out_marketing:
            error = MessageError(
                reason="opted_out",
                details="the recipient opted out of marketing messages",
                error_class="opted_out",
            )
            await self._fail(w, error)
            return
        for scope, scope_id in (
            (Scope.WABA, request.waba_id),
            (Scope.NUMBER, request.phone_number_id),
        ):
            verdict = verdicts.get((scope, scope_id))
            if verdict is not None and not verdict.allowed:
                self._telemetry.breaker_blocked(scope.value)
                # A held breaker waits for people (a new token, an appeal): check back
                # rarely, so the message's receive budget lasts hours.
                delay = (
                    float(self._policy.max_visibility_s)
                    if verdict.state is BreakerState.HELD
                    else verdict.retry_after_s or 30.0
                )
                await self._retry(w, None, delay, count_attempt=False)
                return

    async def _breaker_verdicts(self, pending: list[_Work]) -> dict[tuple[Scope, str], Decision]:
        scopes: dict[tuple[Scope, str], str | None] = {}
        for w in pending:
            request = w.record.request
            assert request is not None
            scopes[(Scope.WABA, request.waba_id)] = request.waba_id
            scopes[(Scope.NUMBER, request.phone_number_id)] = None

        async def verdict(key: tuple[Scope, str], waba: str | None) -> Decision:
            version = None
            if waba is not None:
                try:
                    version = (await self._io(self._tokens.get, waba)).version
                except TokenNotFoundError:
                    version = None
            return await self._io(self._breaker.check, key[0], key[1], secret_version=version)

        keys = list(scopes)
        results = await asyncio.gather(*(verdict(k, scopes[k]) for k in keys))
        return dict(zip(keys, results, strict=True))

    # -- round 2: limiter reservations ----------------------------------------------------

    def _lanes(self, valid: list[_Work]) -> dict[tuple[str, str], list[_Work]]:
        lanes: dict[tuple[str, str], list[_Work]] = defaultdict(list)
        for w in valid:
            if w.record.request is not None and (w.fate is None or w.fate is Fate.RETRY):
                lanes[w.record.lane].append(w)
        return lanes

    async def _plan(
        self, lanes: dict[tuple[str, str], list[_Work]]
    ) -> tuple[dict[tuple[str, str], Reservation], dict[str, Reservation]]:
        """A pair reservation per lane and a number reservation per phone number.

        A lane longer than the pair burst sends what the burst allows; the rest wait.
        Number tokens are booked for every sendable message even if its pair or its
        claim is refused: at worst a few tokens go unused, never more than Meta allows.
        """
        pairs: dict[tuple[str, str], Reservation] = {}
        per_number: dict[str, list[_Work]] = defaultdict(list)
        for (phone, recipient), lane in lanes.items():
            sendable = self._sendable(lane)
            if not sendable:
                continue
            key = LimitKey.pair(phone, recipient)
            allowed = self._burst(key, len(sendable))
            for w in sendable[allowed:]:
                await self._retry(w, None, 6.0, count_attempt=False)
            pairs[(phone, recipient)] = self._reservation(key, allowed)
            per_number[phone].extend(sendable[:allowed])
        numbers: dict[str, Reservation] = {}
        for phone, items in per_number.items():
            key = LimitKey.number(phone)
            allowed = self._burst(key, len(items))
            for w in items[allowed:]:
                await self._retry(w, None, 1.0, count_attempt=False)
            numbers[phone] = self._reservation(key, allowed)
        return pairs, numbers

    async def _grant(self, reservation: Reservation) -> tuple[Grant | None, float]:
        """The limiter's answer and when it was asked; None when it cannot be asked (then
        nothing is sent)."""
        asked_at = asyncio.get_running_loop().time()
        try:
            return await self._io(self._limiter.reserve, reservation), asked_at
        except LimitError:
            logger.exception("rate limiter unavailable", extra={"key": reservation.key.pk})
            return None, asked_at

    async def _run_lane(
        self,
        lane: list[_Work],
        pair: Reservation | None,
        number: Awaitable[tuple[Grant | None, float]] | None,
    ) -> None:
        """Claim the lane's sendable messages and take its tokens together, then send."""
        sendable = self._sendable(lane)
        if sendable and pair is not None and number is not None:
            pair_grant = asyncio.ensure_future(self._grant(pair))
            await asyncio.gather(*(self._claim(w) for w in sendable if not w.claimed))
            number_grant = await number
            for grant, asked_at in (number_grant, await pair_grant):
                if not await self._admit(lane, grant, asked_at):
                    break
        await self._send_lane(lane)

    async def _admit(self, lane: list[_Work], grant: Grant | None, asked_at: float) -> bool:
        """Apply a grant to the lane's claimed messages; False if they must wait instead."""
        waiting = [w for w in lane if w.claimed and w.fate is None]
        if grant is not None and grant.granted:
            for w in waiting:
                w.send_at = max(w.send_at, asked_at + grant.wait_s)
            return True
        if grant is None:
            delay = 5.0  # No limiter, no send: Meta's limits are never exceeded blind.
        else:
            self._telemetry.throttled(grant.key.kind.value)
            delay = plan_wait(grant.wait_s, max_sleep_s=0).delay_s
        for w in waiting:
            await self._retry(w, None, delay, count_attempt=False)
        return False

    async def _claim(self, w: _Work) -> None:
        request = w.record.request
        assert request is not None
        try:
            claim = await self._io(self._messages.claim_from, request, w.current, self._clock_ms())
        except ClaimConflict:
            logger.warning("message changed under its claim", extra={"message_id": request.id})
            self._defer(w, self._backoff(w.record.receive_count))
            return
        if claim.outcome is ClaimOutcome.CLAIMED:
            w.attempt = claim.attempt
            w.claim = claim
            w.claimed = True
        else:
            await self._on_refusal(w, claim)

    async def _on_refusal(self, w: _Work, refused: Claim) -> None:
        """A redelivery of a settled message is done; an attempt in flight is waited for."""
        w.attempt = refused.attempt
        if refused.outcome in (ClaimOutcome.ALREADY_DONE, ClaimOutcome.ALREADY_FAILED):
            self._telemetry.redelivered()
            w.fate = Fate.DONE
        else:
            await self._settle_in_flight(w, refused.sending_at_ms)

    def _reservation(self, key: LimitKey, tokens: int) -> Reservation:
        return Reservation(key=key, tokens=tokens, max_wait_s=self._policy.max_sleep_s)

    def _burst(self, key: LimitKey, wanted: int) -> int:
        policy = self._limiter.policy(key)
        return wanted if policy is None else max(1, min(wanted, policy.burst))

    @staticmethod
    def _sendable(lane: list[_Work]) -> list[_Work]:
        """Unsettled messages before the lane's first retry: the ones this batch may send."""
        out: list[_Work] = []
        for w in lane:
            if w.fate is Fate.RETRY:
                break
            if w.fate is None:
                out.append(w)
        return out

    # -- sends and round 3: outcomes ---------------------------------------------------------

    async def _send_lane(self, lane: list[_Work]) -> None:
        blocked_for: float | None = None
        for w in lane:
            if w.fate is Fate.RETRY:
                if blocked_for is None:
                    blocked_for = w.delay_s
                continue
            if w.fate is not None:
                continue
            if blocked_for is not None:
                # Order per recipient: never overtake a message that goes back to the queue.
                await self._retry(w, None, blocked_for, count_attempt=False)
                continue
            if not w.claimed:  # not expected: every sendable message is claimed or settled
                logger.warning("unclaimed message left in a lane", extra={"lane": len(lane)})
                await self._retry(w, None, 1.0, count_attempt=False)
                blocked_for = w.delay_s
                continue
            wait_s = w.send_at - asyncio.get_running_loop().time()
            if wait_s > 0:
                await asyncio.sleep(wait_s)
            try:
                await self._send_one(w)
            except Exception:
                # Unknown state: leave the claim `sending` so the next delivery treats the
                # message as possibly sent (ambiguous) instead of sending it blind.
                logger.exception("unexpected error while sending")
                self._defer(w, self._policy.ambiguous_window_s)
            if w.fate is Fate.RETRY:
                blocked_for = w.delay_s

    async def _send_one(self, w: _Work) -> None:
        request = w.record.request
        assert request is not None
        try:
            token = await self._io(self._tokens.get, request.waba_id)
        except TokenNotFoundError as exc:
            await self._fail(
                w, MessageError(reason="no_token", details=str(exc), error_class="credentials")
            )
            return
        try:
            result = await self._graph.send_message(
                request.phone_number_id,
                request.graph_body(),
                token.token,
                biz_opaque_callback_data=request.id,
            )
        except GraphApiError as exc:
            if exc.latency_ms is not None:
                self._telemetry.graph_latency(exc.latency_ms)
            await self._on_graph_error(w, exc, token.version)
            return
        except GraphAmbiguousError as exc:
            await self._on_ambiguous(w, exc)
            return
        except GraphNotSentError as exc:
            self._safely(self._breaker.record_failure, Scope.NUMBER, request.phone_number_id)
            error = MessageError(reason="not_sent", details=str(exc), error_class="transient")
            await self._retry(w, error, self._backoff(w.attempt))
            return
        self._telemetry.graph_latency(result.latency_ms)
        accepted_at = self._clock_ms()
        assert w.claim is not None
        await self._io(
            self._messages.record_accepted, request.id, w.claim, accepted_at, result.wamid
        )
        self._safely(self._breaker.record_success, Scope.NUMBER, request.phone_number_id)
        if self._watch is not None:
            # Shadow-delivery canary: rarely a write (at most one per number per minute).
            await self._io(
                self._safely,
                self._watch.note_accepted,
                request.phone_number_id,
                request.id,
                waba_id=request.waba_id,
                at_ms=accepted_at,
                message_status=result.message_status,
            )
        w.event = MessageStatusChanged(
            **self._event_fields(request, DetailType.MESSAGE_STATUS, accepted_at),
            wamid=result.wamid,
            status=MessageStatus.ACCEPTED.value,
            message_status=MessageStatus.ACCEPTED.value,
        )
        self._telemetry.accepted(
            enqueue_to_accepted_ms=(
                accepted_at - int(request.enqueued_at.timestamp() * 1000)
                if request.enqueued_at is not None
                else None
            )
        )
        w.fate = Fate.DONE

    async def _on_ambiguous(self, w: _Work, exc: GraphAmbiguousError) -> None:
        request = w.record.request
        assert request is not None
        self._telemetry.ambiguous()
        self._safely(self._breaker.record_failure, Scope.NUMBER, request.phone_number_id)
        error = MessageError(reason="ambiguous", details=str(exc), error_class="ambiguous")
        await self._io(self._messages.mark_ambiguous, request.id, w.attempt, error)
        # Left `sending`: the next delivery waits out the correlation window first.
        self._defer(w, self._policy.ambiguous_window_s)

    async def _on_graph_error(self, w: _Work, exc: GraphApiError, secret_version: str) -> None:
        request = w.record.request
        assert request is not None
        verdict = classify(
            exc.code, subcode=exc.subcode, http_status=exc.http_status, attempt=w.attempt - 1
        )
        error = MessageError(
            reason=verdict.reason,
            code=exc.code,
            title=exc.message,
            details=exc.details,
            error_class=verdict.error_class.value,
            source="graph",
        )
        backoff = verdict.rule.backoff
        slow_down = float(backoff.delay_for(w.attempt - 1)) if backoff is not None else 0.0
        match verdict.action:
            case Action.THROTTLE_NUMBER:
                self._safely(
                    self._limiter.penalize, LimitKey.number(request.phone_number_id), slow_down
                )
                self._telemetry.throttled("meta_number")
            case Action.THROTTLE_WABA:
                self._safely(self._limiter.penalize, LimitKey.waba(request.waba_id), slow_down)
                self._telemetry.throttled("meta_waba")
            case Action.RETRY_AFTER if verdict.error_class is ErrorClass.PAIR_LIMITED:
                self._safely(
                    self._limiter.penalize,
                    LimitKey.pair(request.phone_number_id, request.recipient_key),
                    slow_down,
                )
                self._telemetry.throttled("meta_pair")
            case Action.PAUSE_CREDENTIALS:
                self._tokens.invalidate(request.waba_id)
                self._safely(
                    self._breaker.hold_open,
                    Scope.WABA,
                    request.waba_id,
                    secret_version=secret_version,
                    reason=error.reason,
                )
            case Action.PAUSE_ACCOUNT:
                number_scope = verdict.breaker is BreakerScope.NUMBER
                self._safely(
                    self._breaker.hold_open,
                    Scope.NUMBER if number_scope else Scope.WABA,
                    request.phone_number_id if number_scope else request.waba_id,
                    secret_version=secret_version,
                    reason=error.reason,
                )
            case _ if verdict.breaker is BreakerScope.NUMBER:
                self._safely(self._breaker.record_failure, Scope.NUMBER, request.phone_number_id)

        if not verdict.retryable or verdict.delay_seconds is None:
            await self._fail(w, error)
            return
        delay = float(verdict.delay_seconds)
        if verdict.action is Action.RETRY_BACKOFF:
            delay = self._jitter(delay)
        await self._retry(w, error, delay)

    # -- fates ---------------------------------------------------------------------------

    async def _fail(self, w: _Work, error: MessageError) -> None:
        request = w.record.request
        assert request is not None
        await self._io(
            self._messages.apply_status,
            request.id,
            MessageStatus.FAILED,
            self._clock_ms(),
            error=error,
            # A message failed before any claim (sent straight to the queue, then expired
            # or opted out) gets its request's fields with the failure.
            descriptive=None
            if w.claimed or w.current is not None
            else MessageStore.descriptive(request),
        )
        meta_error = MetaError(
            code=error.code,
            title=error.title,
            details=error.details,
            error_class=error.error_class or "unknown",
            reason=error.reason,
        )
        w.event = MessageFailed(
            **self._event_fields(request, DetailType.MESSAGE_FAILED, self._clock_ms()),
            error=meta_error,
            errors=[meta_error],
        )
        self._telemetry.failed(error.error_class or "unknown", code=error.code)
        logger.info(
            "message failed",
            extra={
                "message_id": request.id,
                "recipient": mask_phone(request.recipient_key),
                "reason": error.reason,
                "code": error.code,
            },
        )
        w.fate = Fate.DONE

    async def _retry(
        self, w: _Work, error: MessageError | None, delay_s: float, *, count_attempt: bool = True
    ) -> None:
        """Back to the queue after `delay_s`, unless attempts, deadline or receives run out."""
        request = w.record.request
        assert request is not None
        delay = min(max(delay_s, 0.0), float(self._policy.max_visibility_s))
        gave_up: str | None = None
        if count_attempt and w.attempt >= self._policy.max_attempts:
            gave_up = f"gave up after {w.attempt} attempts"
        elif w.record.receive_count >= self._policy.max_receive_count - 1:
            gave_up = f"gave up after {w.record.receive_count} deliveries"
        elif request.not_after is not None and (
            self._clock_ms() + delay * 1000 > request.not_after.timestamp() * 1000
        ):
            await self._fail(w, MessageError(reason="expired", error_class="expired"))
            return
        if gave_up is not None:
            final = (error or MessageError(reason="retries_exhausted")).model_copy(
                update={"reason": f"{(error.reason if error else 'retries_exhausted')}: {gave_up}"}
            )
            await self._fail(w, final)
            return
        if w.claimed:
            await self._io(self._messages.release, request.id, w.attempt, error, sent=count_attempt)
        if count_attempt:
            self._telemetry.retried()
        self._defer(w, delay)

    @staticmethod
    def _event_fields(request: SendRequest, kind: DetailType, at_ms: int) -> dict[str, Any]:
        """What every event about one of our messages carries from its send request."""
        return {
            "event_id": event_id(kind, f"{request.id}|sender"),
            "waba_id": request.waba_id,
            "phone_number_id": request.phone_number_id,
            "occurred_at": datetime.fromtimestamp(at_ms / 1000, UTC),
            "message_id": request.id,
            "known": True,
            "client_reference": request.client_reference,
            "metadata": request.metadata,
            "category": request.category.value,
            "recipient_id": request.to,
            "recipient_user_id": request.recipient,
        }

    def _publish(self, details: list[EventDetail]) -> None:
        """Events follow the records; losing one must not resend a message."""
        if self._events is None or not details:
            return
        try:
            self._events.publish(details)
        except Exception:
            logger.exception("could not publish events", extra={"count": len(details)})

    @staticmethod
    def _safely(action: Callable[..., object], *args: Any, **kwargs: Any) -> None:
        """Breaker and limiter feedback is advice: losing it must not fail a sent message."""
        try:
            action(*args, **kwargs)
        except Exception:
            logger.exception("could not record feedback", extra={"action": action.__name__})

    def _defer(self, w: _Work, delay_s: float) -> None:
        w.fate = Fate.RETRY
        w.delay_s = min(max(delay_s, 0.0), float(self._policy.max_visibility_s))

    def _backoff(self, attempt: int) -> float:
        ceiling = min(
            self._policy.backoff_cap_s, self._policy.backoff_base_s * 2 ** max(attempt - 1, 0)
        )
        return self._jitter(ceiling)

    def _jitter(self, ceiling: float) -> float:
        """Half fixed, half random, so shards that failed together do not retry together."""
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def _apply_visibility(self, retrying: list[_Work]) -> None:
        entries = [
            {
                "Id": str(i),
                "ReceiptHandle": w.record.receipt_handle,
                "VisibilityTimeout": int(min(max(w.delay_s, 0), self._policy.max_visibility_s)),
            }
            for i, w in enumerate(retrying)
            if w.record.receipt_handle
        ]
        for start in range(0, len(entries), 10):
            try:
                self._sqs.change_message_visibility_batch(
                    QueueUrl=self._queue_url,
                    Entries=entries[start : start + 10],  # type: ignore[arg-type]
                )
            except Exception:  # the queue's own visibility timeout applies instead
                logger.exception("could not set retry delays")
