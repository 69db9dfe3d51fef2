"""Registering WABAs for webhooks, and keeping them registered.

Meta delivers a WABA's webhooks only to apps subscribed to that WABA
(`/{WABA_ID}/subscribed_apps`); a subscription can disappear behind our back (someone
removes the app in Business Manager, a token owner leaves). `SubscriptionManager` does the
onboarding call, the periodic re-check that repairs drift, and the shadow-delivery check.

Every subscribed_apps call counts toward Meta's per-WABA limit (200 requests per hour by
default, 5,000 for a WABA with a registered number). A check run costs one GET per WABA,
plus a POST and a GET only for a WABA that lost its subscription; at one run every 15
minutes that stays under 12 calls per WABA per hour. When Meta says the *app* reached its
limit (code 4), the rest of the run asks nothing more.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import SecretStr

from pixy_whatsapp.graph import GraphApiError, GraphError, SubscribedApp
from pixy_whatsapp.observability import logger
from pixy_whatsapp.statuses import now_ms
from pixy_whatsapp.subscriptions.exceptions import (
    FailureKind,
    InvalidRegistration,
    RegistrationFailed,
    SubscriptionError,
    UnregistrationFailed,
    WabaNotFound,
)
from pixy_whatsapp.subscriptions.inputs import (
    check_callback_uri,
    check_graph_id,
)
from pixy_whatsapp.subscriptions.model import (
    CheckReport,
    CheckResult,
    SilentNumber,
    SubscriptionState,
    Unregistered,
    WabaCheck,
    WabaRecord,
)
from pixy_whatsapp.subscriptions.telemetry import record_run, record_unreadable_registry
from pixy_whatsapp.subscriptions.verdict import Verdict, judge
from pixy_whatsapp.tokens import TokenNotFoundError, WabaToken

if TYPE_CHECKING:
    from pixy_whatsapp.graph import GraphClient
    from pixy_whatsapp.subscriptions.registry import WabaRegistry
    from pixy_whatsapp.subscriptions.shadow import ShadowDeliveryCheck
    from pixy_whatsapp.tokens import TokenProvider

DEFAULT_CONCURRENCY = 8
APP_RATE_LIMIT_CODE = 4
INVALID_TOKEN_CODE = 190

# Printable ASCII without spaces: what an HTTP Authorization header can carry.
_TOKEN_CHARS = re.compile(r"^[\x21-\x7e]{1,4096}$")
# States in which the WABA was seen subscribed: losing that is drift, worth an alarm.
_WAS_SUBSCRIBED = frozenset({SubscriptionState.SUBSCRIBED, SubscriptionState.UNVERIFIED})

VerifyTokenSource = Callable[[], SecretStr]


class _VerifyTokenUnavailable(SubscriptionError):
    pass


def _check_token(token: SecretStr) -> None:
    if not isinstance(token, SecretStr):
        raise TypeError("the access token must be a pydantic SecretStr")
    if not _TOKEN_CHARS.match(token.get_secret_value()):
        raise InvalidRegistration(
            "access_token is empty, too long, or holds characters a header cannot carry",
            field="access_token",
        )


def _meta_reason(error: GraphError) -> str:
    if isinstance(error, GraphApiError):
        return f"Meta refused {error.operation}: {error}"
    return f"Meta could not be reached ({error.operation}): {error}"


def _meta_code(error: BaseException) -> int | None:
    return error.code if isinstance(error, GraphApiError) else None


@dataclass
class _Run:
    """What one check run learnt that changes how it treats the WABAs still to check."""

    app_limited: bool = False

    def learn(self, error: BaseException) -> None:
        if isinstance(error, GraphApiError) and error.code == APP_RATE_LIMIT_CODE:
            self.app_limited = True


class SubscriptionManager:
    """Onboards WABAs and keeps their webhook subscriptions in place.

    >>> manager = SubscriptionManager(graph=graph, tokens=tokens, registry=registry)
    >>> record = await manager.register("102290129340398", SecretStr(token),
    ...                                 phone_number_ids=["106540352242922"])
    >>> record.state
    <SubscriptionState.SUBSCRIBED: 'subscribed'>
    >>> report = await manager.check_all()   # the schedule's job
    """

    def __init__(
        self,
        *,
        graph: GraphClient,
        tokens: TokenProvider,
        registry: WabaRegistry,
        shadow: ShadowDeliveryCheck | None = None,
        callback_override_url: str | None = None,
        verify_token: VerifyTokenSource | None = None,
        app_id: str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if callback_override_url is not None:
            check_callback_uri(callback_override_url)
        self._graph = graph
        self._tokens = tokens
        self._registry = registry
        self._shadow = shadow
        self._default_override = callback_override_url
        self._verify_token = verify_token
        self._app_id = app_id
        self._concurrency = concurrency
        self._clock = clock

    # -- onboarding ------------------------------------------------------------------------

    async def register(
        self,
        waba_id: str,
        token: SecretStr,
        *,
        phone_number_ids: Sequence[str] = (),
        override_callback_uri: str | None = None,
    ) -> WabaRecord:
        """Store the token, subscribe the app, verify, and record the WABA as subscribed.

        Registering a WABA again replaces its token, numbers and override. Raises
        `InvalidRegistration` before anything is stored, or `RegistrationFailed` once the
        WABA is recorded as `failed` with the reason.
        """
        check_graph_id(waba_id, "waba_id")
        numbers = tuple(
            dict.fromkeys(check_graph_id(n, "phone_number_ids") for n in phone_number_ids)
        )
        _check_token(token)
        override = override_callback_uri or self._default_override
        if override is not None:
            check_callback_uri(override)
        self._registry.begin_registration(
            waba_id,
            phone_number_ids=numbers,
            override_callback_uri=override,
            at_ms=self._clock(),
        )
        try:
            self._tokens.store(waba_id, token)
        except Exception as error:
            raise self._registration_failed(
                waba_id,
                FailureKind.TOKEN_NOT_STORED,
                f"the token could not be stored in Secrets Manager ({type(error).__name__})",
            ) from error
        try:
            verdict = await self._subscribe(waba_id, token, override, app_id=self._app_id)
        except _VerifyTokenUnavailable as error:
            raise self._registration_failed(
                waba_id, FailureKind.VERIFY_TOKEN_UNAVAILABLE, str(error)
            ) from None
        except GraphApiError as error:
            raise self._registration_failed(
                waba_id,
                FailureKind.META_REFUSED,
                _meta_reason(error),
                meta_code=error.code,
                meta_message=error.message,
            ) from None
        except GraphError as error:
            raise self._registration_failed(
                waba_id, FailureKind.META_UNREACHABLE, _meta_reason(error)
            ) from None
        if not verdict.subscribed:
            raise self._registration_failed(
                waba_id,
                FailureKind.NOT_SUBSCRIBED,
                f"Meta accepted the subscription, but GET shows otherwise: {verdict.problem}",
                apps_seen=verdict.apps_seen,
            )
        record = self._registry.save_state(
            waba_id,
            SubscriptionState.SUBSCRIBED,
            at_ms=self._clock(),
            app_id=verdict.app_id,
            apps_seen=verdict.apps_seen,
            check_result=CheckResult.OK,
        )
        if record is None:
            raise WabaNotFound(waba_id)  # unregistered while this registration ran
        logger.info(
            "WABA registered",
            extra={
                "waba_id": waba_id,
                "app_id": verdict.app_id,
                "override_callback_uri": override,
                "phone_number_ids": list(numbers),
            },
        )
        return record

    def status(self, waba_id: str) -> WabaRecord:
        """What the registry knows (no call to Meta: those count toward its limits)."""
        record = self._registry.get(waba_id)
        if record is None:
            raise WabaNotFound(waba_id)
        return record

    async def unregister(self, waba_id: str, *, force: bool = False) -> Unregistered:
        """Unsubscribe the app from the WABA, delete its token and forget it.

        If Meta cannot be told (refusal, no answer, no token) this raises
        `UnregistrationFailed` and changes nothing, unless `force`: then the WABA is
        forgotten anyway and the result says it may still be subscribed.
        """
        record = self.status(waba_id)
        failure: UnregistrationFailed | None = None
        try:
            token = self._tokens.get(waba_id)
            if not await self._graph.unsubscribe_app(waba_id, token.token):
                failure = UnregistrationFailed(
                    FailureKind.META_REFUSED, "Meta answered success: false to the unsubscribe"
                )
        except TokenNotFoundError:
            failure = UnregistrationFailed(
                FailureKind.TOKEN_MISSING, "no token is stored, so Meta cannot be asked to stop"
            )
        except GraphApiError as error:
            failure = UnregistrationFailed(
                FailureKind.META_REFUSED,
                _meta_reason(error),
                meta_code=error.code,
                meta_message=error.message,
            )
        except GraphError as error:
            failure = UnregistrationFailed(FailureKind.META_UNREACHABLE, _meta_reason(error))
        if failure is not None and not force:
            logger.warning(
                "WABA not unregistered",
                extra={
                    "waba_id": waba_id,
                    "reason": failure.reason,
                    "meta_code": failure.meta_code,
                },
            )
            raise failure
        self._tokens.delete(waba_id)
        self._registry.delete(waba_id)
        logger.info(
            "WABA unregistered",
            extra={
                "waba_id": waba_id,
                "unsubscribed": failure is None,
                "reason": failure.reason if failure else None,
                "state_before": record.state.value,
            },
        )
        return Unregistered(
            waba_id, unsubscribed=failure is None, reason=failure.reason if failure else None
        )

    # -- the schedule ----------------------------------------------------------------------

    async def verify(self, waba_id: str) -> WabaCheck:
        """Check one WABA now, repairing a lost subscription, as the schedule does."""
        return await self._check_guarded(self.status(waba_id), _Run())

    async def check_all(self) -> CheckReport:
        """Re-verify every registered WABA, repair drift, look for shadow delivery.

        One WABA's failure never stops the others; at most `concurrency` WABAs are being
        asked at once. Emits the run's metrics and returns what it found.
        """
        started = self._clock()
        try:
            records = list(self._registry.all())
        except Exception:
            # Nothing could be checked: say so where the alarm looks, then fail the run.
            record_unreadable_registry()
            raise
        run = _Run()
        gate = asyncio.Semaphore(self._concurrency)

        async def check(record: WabaRecord) -> WabaCheck:
            async with gate:
                return await self._check_guarded(record, run)

        checks = tuple(await asyncio.gather(*(check(record) for record in records)))
        silent, watched, shadow_failed = self._find_silent(records, started)
        report = CheckReport(
            checks=checks, silent=silent, shadow_check_failed=shadow_failed, numbers_watched=watched
        )
        record_run(report)
        logger.info("subscription check finished", extra=report.summary())
        return report

    # -- one WABA --------------------------------------------------------------------------

    async def _check_guarded(self, record: WabaRecord, run: _Run) -> WabaCheck:
        try:
            return await self._check(record, run)
        except Exception as error:
            # A bug or an AWS outage for one WABA must not cost the others their check.
            logger.exception("subscription check crashed", extra={"waba_id": record.waba_id})
            return await self._failed(
                record, f"internal error: {type(error).__name__}", known=False
            )

    async def _check(self, record: WabaRecord, run: _Run) -> WabaCheck:
        waba_id = record.waba_id
        if run.app_limited:
            return await self._failed(
                record,
                "not checked: the app reached Meta's request limit earlier in this run",
                meta_code=APP_RATE_LIMIT_CODE,
                known=False,
            )
        try:
            # Secrets Manager and DynamoDB calls go to threads, so that one WABA's AWS
            # round trips do not hold up the Graph calls of the others.
            token = await asyncio.to_thread(self._tokens.get, waba_id)
            apps, token = await self._list_apps(waba_id, token)
        except TokenNotFoundError:
            return await self._failed(record, "no access token is stored for the WABA", known=False)
        except GraphError as error:
            run.learn(error)
            return await self._failed(
                record, _meta_reason(error), meta_code=_meta_code(error), known=False
            )
        app_id = record.app_id or self._app_id
        override = record.override_callback_uri
        verdict = judge(apps, app_id=app_id, override_callback_uri=override)
        if verdict.subscribed:
            return await self._succeeded(record, verdict, CheckResult.OK)
        logger.warning(
            "webhook subscription lost, subscribing again",
            extra={"waba_id": waba_id, "problem": verdict.problem, "apps_seen": verdict.apps_seen},
        )
        try:
            repaired = await self._subscribe(waba_id, token.token, override, app_id=app_id)
        except (GraphError, _VerifyTokenUnavailable) as error:
            run.learn(error)
            reason = error if isinstance(error, _VerifyTokenUnavailable) else _meta_reason(error)
            return await self._failed(
                record,
                f"{verdict.problem}; subscribing again failed: {reason}",
                meta_code=_meta_code(error),
                known=True,
                apps_seen=verdict.apps_seen,
            )
        if not repaired.subscribed:
            return await self._failed(
                record,
                f"{verdict.problem}; after subscribing again: {repaired.problem}",
                known=True,
                apps_seen=repaired.apps_seen,
            )
        # A WABA never seen subscribed (its registration failed) just completed: not drift.
        result = CheckResult.REPAIRED if record.state in _WAS_SUBSCRIBED else CheckResult.OK
        logger.warning(
            "webhook subscription restored"
            if result is CheckResult.REPAIRED
            else "webhook subscription completed by the scheduled check",
            extra={"waba_id": waba_id, "was": verdict.problem},
        )
        return await self._succeeded(record, repaired, result)

    async def _list_apps(
        self, waba_id: str, token: WabaToken
    ) -> tuple[list[SubscribedApp], WabaToken]:
        try:
            return await self._graph.list_subscribed_apps(waba_id, token.token), token
        except GraphApiError as error:
            if error.code != INVALID_TOKEN_CODE:
                raise
            # The cached token may be one an operator has since rotated in Secrets Manager.
            self._tokens.invalidate(waba_id)
            fresh = await asyncio.to_thread(self._tokens.get, waba_id)
            if fresh.version == token.version:
                raise
            return await self._graph.list_subscribed_apps(waba_id, fresh.token), fresh

    async def _subscribe(
        self, waba_id: str, token: SecretStr, override: str | None, *, app_id: str | None
    ) -> Verdict:
        """POST subscribed_apps, then GET it: Meta's `success` alone proves nothing."""
        verify_token = self._verify_token_for(override)
        if not await self._graph.subscribe_app(
            waba_id, token, override_callback_uri=override, verify_token=verify_token
        ):
            return Verdict(False, app_id, (), "Meta answered success: false to the subscription")
        apps = await self._graph.list_subscribed_apps(waba_id, token)
        return judge(apps, app_id=app_id, override_callback_uri=override)

    def _verify_token_for(self, override: str | None) -> SecretStr | None:
        if override is None:
            return None
        if self._verify_token is None:
            raise _VerifyTokenUnavailable("a callback override needs a verify token source")
        try:
            token = self._verify_token()
        except Exception as error:
            raise _VerifyTokenUnavailable(
                f"the webhook verify token could not be read ({type(error).__name__})"
            ) from error
        if not token.get_secret_value():
            raise _VerifyTokenUnavailable("the webhook verify token is empty")
        return token

    # -- bookkeeping -----------------------------------------------------------------------

    def _registration_failed(
        self,
        waba_id: str,
        kind: FailureKind,
        reason: str,
        *,
        meta_code: int | None = None,
        meta_message: str | None = None,
        apps_seen: Sequence[str] | None = None,
    ) -> RegistrationFailed:
        record = self._registry.save_state(
            waba_id,
            SubscriptionState.FAILED,
            at_ms=self._clock(),
            reason=reason,
            meta_code=meta_code,
            apps_seen=apps_seen,
        )
        logger.warning(
            "WABA registration failed",
            extra={
                "waba_id": waba_id,
                "kind": kind.value,
                "reason": reason,
                "meta_code": meta_code,
            },
        )
        return RegistrationFailed(
            kind, reason, record, meta_code=meta_code, meta_message=meta_message
        )

    async def _succeeded(
        self, record: WabaRecord, verdict: Verdict, result: CheckResult
    ) -> WabaCheck:
        await self._save(
            record.waba_id,
            SubscriptionState.SUBSCRIBED,
            app_id=verdict.app_id,
            apps_seen=verdict.apps_seen,
            check_result=result,
        )
        return WabaCheck(record.waba_id, result, SubscriptionState.SUBSCRIBED)

    async def _failed(
        self,
        record: WabaRecord,
        reason: str,
        *,
        known: bool,
        meta_code: int | None = None,
        apps_seen: Sequence[str] | None = None,
    ) -> WabaCheck:
        """`known`: Meta showed the subscription missing (rather than not answering)."""
        if known or record.state not in _WAS_SUBSCRIBED:
            state = SubscriptionState.FAILED
        else:
            state = SubscriptionState.UNVERIFIED
        logger.warning(
            "subscription check failed",
            extra={"waba_id": record.waba_id, "reason": reason, "meta_code": meta_code},
        )
        await self._save(
            record.waba_id,
            state,
            reason=reason,
            meta_code=meta_code,
            apps_seen=apps_seen,
            check_result=CheckResult.FAILED,
        )
        return WabaCheck(record.waba_id, CheckResult.FAILED, state, reason, meta_code)

    async def _save(
        self,
        waba_id: str,
        state: SubscriptionState,
        *,
        check_result: CheckResult,
        reason: str | None = None,
        meta_code: int | None = None,
        app_id: str | None = None,
        apps_seen: Sequence[str] | None = None,
    ) -> None:
        try:
            await asyncio.to_thread(
                self._registry.save_state,
                waba_id,
                state,
                at_ms=self._clock(),
                reason=reason,
                meta_code=meta_code,
                app_id=app_id,
                apps_seen=apps_seen,
                check_result=check_result,
            )
        except Exception:
            logger.exception("could not record a subscription check", extra={"waba_id": waba_id})

    # -- shadow delivery -------------------------------------------------------------------

    def _find_silent(
        self, records: Sequence[WabaRecord], now: int
    ) -> tuple[tuple[SilentNumber, ...], int, bool]:
        if self._shadow is None:
            return (), 0, False
        owner = {number: r.waba_id for r in records for number in r.phone_number_ids}
        try:
            scan = self._shadow.find_silent(owner, now)
        except Exception:
            logger.exception("shadow-delivery check failed")
            return (), 0, True
        silent_by_waba: dict[str, list[str]] = {}
        for silent in scan.silent:
            waba_id = owner.get(silent.phone_number_id) or silent.waba_id
            logger.warning(
                "shadow delivery: accepted sends get no status webhooks",
                extra={
                    "phone_number_id": silent.phone_number_id,
                    "waba_id": waba_id,
                    "message_id": silent.message_id,
                    "awaiting_since_ms": silent.awaiting_since_ms,
                    "silent_minutes": (now - silent.awaiting_since_ms) // 60_000,
                },
            )
            if waba_id is not None:
                silent_by_waba.setdefault(waba_id, []).append(silent.phone_number_id)
        for record in records:
            numbers = sorted(silent_by_waba.get(record.waba_id, ()))
            if numbers != sorted(record.silent_phone_number_ids):
                try:
                    self._registry.save_silent_numbers(record.waba_id, numbers)
                except Exception:
                    logger.exception(
                        "could not record silent numbers", extra={"waba_id": record.waba_id}
                    )
        return scan.silent, scan.watched, False
