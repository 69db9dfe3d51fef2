"""Circuit breakers per phone number and per WABA, shared by every Lambda environment.

    breaker = CircuitBreaker(DynamoDBBreakerStore(dynamodb, control_table), listeners=[log])
    decision = breaker.check("number", phone_number_id)
    if decision.allowed:
        ...send...
        breaker.record_success("number", phone_number_id)   # or record_failure(...)
    else:
        ...defer the message by decision.retry_after_s...

closed -> open: after N consecutive transient failures, or a failure rate over a window,
counted in memory per environment (the healthy path writes nothing).
open -> half_open: after the cool-down, the first `check` anywhere claims the probe lease
with a conditional write; exactly one call goes through, everyone else is turned away.
half_open -> closed when the probe succeeds, -> open with a longer cool-down when it
fails; a lease whose owner never reports expires and the next check claims it again.
held: credential and account errors (`hold_open`); never half-opens by time. It closes
when `check` is given a secret version other than the one it was held on, or on
`reset` by an operator. A breaker held without a secret version waits for `reset`.

State is cached per environment for `cache_ttl_s` (default 2 s); a failure seen here
drops the cached state so the next check reads the store. Staleness is therefore
bounded by the TTL: another environment's opening is seen within 2 s.

Fail safe: when the store cannot be read, `check` answers UNKNOWN (not allowed, retry
later) rather than guessing, so an open breaker is never taken for closed. Reporting
outcomes never raises: a lost write is redone by the next failure, and a check after
it goes to the store anyway. `reset` does raise, as an operator needs to know.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from pixy_whatsapp.breaker.events import BreakerEvent, BreakerEventKind, BreakerListener
from pixy_whatsapp.breaker.exceptions import BreakerUnavailable
from pixy_whatsapp.breaker.model import (
    BreakerRecord,
    BreakerState,
    Circuit,
    Decision,
    Scope,
    Verdict,
)
from pixy_whatsapp.breaker.outcomes import OutcomeWindow
from pixy_whatsapp.breaker.settings import BreakerSettings
from pixy_whatsapp.breaker.store import BreakerStore

logger = logging.getLogger(__name__)

ClockMs = Callable[[], float]
"""Wall-clock epoch milliseconds."""

_ATTEMPTS = 3


def wall_clock_ms() -> float:
    return time.time_ns() / 1_000_000


@dataclass(frozen=True, slots=True)
class _Transition:
    record: BreakerRecord
    kind: BreakerEventKind
    cooldown_s: float | None = None


Plan = Callable[[BreakerRecord], _Transition | None]


@dataclass(slots=True)
class _Cached:
    record: BreakerRecord
    fetched_at: float
    fresh: bool = True


class CircuitBreaker:
    """Per-scope circuit breakers over a `BreakerStore`; safe to share between threads.

    `scope` arguments take a `Scope` or its value ("number", "waba"), so other enums
    with the same values (such as the error table's) can be passed as they are.
    """

    def __init__(
        self,
        store: BreakerStore,
        settings: BreakerSettings | None = None,
        *,
        listeners: Iterable[BreakerListener] = (),
        clock_ms: ClockMs = wall_clock_ms,
        monotonic: Callable[[], float] = time.monotonic,
        new_token: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._store = store
        self._settings = settings if settings is not None else BreakerSettings()
        self._listeners = list(listeners)
        self._clock_ms = clock_ms
        self._monotonic = monotonic
        self._new_token = new_token
        self._lock = threading.Lock()
        self._cache: dict[Circuit, _Cached] = {}
        self._windows: dict[Circuit, OutcomeWindow] = {}
        self._probes: dict[Circuit, str] = {}

    @property
    def settings(self) -> BreakerSettings:
        return self._settings

    def add_listener(self, listener: BreakerListener) -> None:
        self._listeners.append(listener)

    # --- asking ------------------------------------------------------------------------

    def check(self, scope: str, scope_id: str, *, secret_version: str | None = None) -> Decision:
        """May this environment call Meta for this scope now?

        `secret_version` is the version of the credentials the call would use; a held
        breaker closes when it differs from the one it was held on.
        """
        circuit = Circuit(Scope(scope), scope_id)
        try:
            record = self._current(circuit)
            now = self._now_ms()

            def plan(current: BreakerRecord) -> _Transition | None:
                return self._plan_check(current, now, secret_version)

            final, transition = self._commit(circuit, record, plan, now)
        except BreakerUnavailable as error:
            return self._unknown(circuit, error)
        if transition is not None and transition.kind is BreakerEventKind.HALF_OPENED:
            assert final.probe_owner is not None
            with self._lock:
                self._probes[circuit] = final.probe_owner
            return Decision(
                circuit.scope, scope_id, Verdict.PROBE, final.state, reason=final.reason
            )
        return self._verdict(circuit, final, now)

    def _plan_check(
        self, current: BreakerRecord, now: int, secret_version: str | None
    ) -> _Transition | None:
        state = current.state
        if state is BreakerState.HELD:
            rotated = (
                secret_version is not None
                and current.secret_version is not None
                and secret_version != current.secret_version
            )
            if rotated:
                return _Transition(
                    _closed(current, now, f"credentials changed to {secret_version}"),
                    BreakerEventKind.CLOSED,
                )
            return None
        cooled = state is BreakerState.OPEN and now >= (current.open_until_ms or 0)
        abandoned = state is BreakerState.HALF_OPEN and now >= (current.probe_until_ms or 0)
        if cooled or abandoned:
            lease_ms = round(self._settings.probe_lease_s * 1_000)
            return _Transition(
                replace(
                    current,
                    state=BreakerState.HALF_OPEN,
                    version=current.version + 1,
                    changed_at_ms=now,
                    probe_owner=self._new_token(),
                    probe_until_ms=now + lease_ms,
                    reason="probe lease expired" if abandoned else "cool-down over",
                ),
                BreakerEventKind.HALF_OPENED,
            )
        return None

    def _verdict(self, circuit: Circuit, record: BreakerRecord, now: int) -> Decision:
        settings = self._settings
        if record.state is BreakerState.CLOSED:
            with self._lock:
                window = self._windows.get(circuit)
                if window is None or window.version != record.version:
                    self._windows[circuit] = OutcomeWindow(settings, record.version)
            return Decision(circuit.scope, circuit.scope_id, Verdict.ALLOW, record.state)
        if record.state is BreakerState.OPEN:
            retry_ms = max(0, (record.open_until_ms or now) - now)
            retry_s = retry_ms / 1_000
        elif record.state is BreakerState.HALF_OPEN:
            lease_left_s = max(0, (record.probe_until_ms or now) - now) / 1_000
            retry_s = min(lease_left_s, settings.half_open_retry_s)
        else:
            retry_s = settings.held_retry_s
        return Decision(
            circuit.scope, circuit.scope_id, Verdict.REJECT, record.state, retry_s, record.reason
        )

    def _unknown(self, circuit: Circuit, error: BreakerUnavailable) -> Decision:
        with self._lock:
            cached = self._cache.get(circuit)
        logger.warning("breaker %s unknown: %s", circuit.pk, error)
        return Decision(
            circuit.scope,
            circuit.scope_id,
            Verdict.UNKNOWN,
            None if cached is None else cached.record.state,
            self._settings.unavailable_retry_s,
            "breaker store unavailable",
        )

    # --- reporting ---------------------------------------------------------------------

    def record_success(self, scope: str, scope_id: str) -> None:
        """A call allowed by `check` succeeded. Writes only if it was this environment's probe."""
        circuit = Circuit(Scope(scope), scope_id)
        with self._lock:
            token = self._probes.pop(circuit, None)
            if token is None:
                self._window(circuit).success(self._monotonic())
                return

        now = self._now_ms()

        def plan(current: BreakerRecord) -> _Transition | None:
            if current.state is not BreakerState.HALF_OPEN or current.probe_owner != token:
                return None  # the lease ran out and someone else owns the breaker now
            return _Transition(_closed(current, now, "probe succeeded"), BreakerEventKind.CLOSED)

        self._report(circuit, plan, now)

    def record_failure(self, scope: str, scope_id: str, *, reason: str = "") -> None:
        """A call allowed by `check` failed in a way that counts (5xx, timeouts, 131000...)."""
        circuit = Circuit(Scope(scope), scope_id)
        now = self._now_ms()
        tripped: str | None = None
        counted_on: int | None = None
        with self._lock:
            token = self._probes.pop(circuit, None)
            cached = self._cache.get(circuit)
            if cached is not None:
                cached.fresh = False  # a failure here is news: read the store next time
            if token is None:
                window = self._window(circuit)
                window.failure(self._monotonic())
                tripped = window.tripped(self._monotonic())
                counted_on = window.version
        if token is not None:
            self._report(
                circuit, self._reopen_plan(token, now, _joined("probe failed", reason)), now
            )
        elif tripped is not None:
            self._report(circuit, self._open_plan(counted_on, now, _joined(tripped, reason)), now)

    def _reopen_plan(self, token: str, now: int, reason: str) -> Plan:
        def plan(current: BreakerRecord) -> _Transition | None:
            if current.state is not BreakerState.HALF_OPEN or current.probe_owner != token:
                return None  # the lease ran out and someone else owns the breaker now
            return self._opening(current, now, reason)

        return plan

    def _open_plan(self, counted_on: int | None, now: int, reason: str) -> Plan:
        def plan(current: BreakerRecord) -> _Transition | None:
            if current.state is not BreakerState.CLOSED:
                return None  # already open or held: nothing to add
            if counted_on is not None and current.version != counted_on:
                return None  # reopened and closed since: these failures are old news
            return self._opening(current, now, reason)

        return plan

    def _opening(self, current: BreakerRecord, now: int, reason: str) -> _Transition:
        opens = current.opens + 1
        cooldown_ms = self._settings.cooldown_ms(opens)
        record = BreakerRecord(
            state=BreakerState.OPEN,
            version=current.version + 1,
            opens=opens,
            changed_at_ms=now,
            open_until_ms=now + cooldown_ms,
            reason=reason,
        )
        return _Transition(record, BreakerEventKind.OPENED, cooldown_ms / 1_000)

    def hold_open(
        self, scope: str, scope_id: str, *, secret_version: str | None, reason: str
    ) -> None:
        """Credentials or account unusable: stay open until they change or an operator resets.

        `secret_version` is the version of the credentials that failed; a later check
        with any other version closes the breaker.
        """
        circuit = Circuit(Scope(scope), scope_id)
        now = self._now_ms()
        with self._lock:
            self._probes.pop(circuit, None)

        def plan(current: BreakerRecord) -> _Transition | None:
            if current.state is BreakerState.HELD and current.secret_version == secret_version:
                return None
            record = BreakerRecord(
                state=BreakerState.HELD,
                version=current.version + 1,
                opens=current.opens,
                changed_at_ms=now,
                secret_version=secret_version,
                reason=reason,
            )
            return _Transition(record, BreakerEventKind.HELD)

        self._report(circuit, plan, now)

    def reset(self, scope: str, scope_id: str, *, reason: str = "operator reset") -> BreakerRecord:
        """Close the breaker whatever its state. Raises `BreakerUnavailable`."""
        circuit = Circuit(Scope(scope), scope_id)
        now = self._now_ms()

        def plan(current: BreakerRecord) -> _Transition | None:
            if current.state is BreakerState.CLOSED:
                return None
            return _Transition(_closed(current, now, reason), BreakerEventKind.CLOSED)

        with self._lock:
            self._probes.pop(circuit, None)
        record, _ = self._commit(circuit, self._store.load(circuit.pk), plan, now)
        return record

    def state(self, scope: str, scope_id: str) -> BreakerRecord:
        """The stored record, read now (for operators). Raises `BreakerUnavailable`."""
        circuit = Circuit(Scope(scope), scope_id)
        record = self._store.load(circuit.pk)
        self._remember(circuit, record)
        return record

    # --- plumbing ----------------------------------------------------------------------

    def _now_ms(self) -> int:
        return round(self._clock_ms())

    def _window(self, circuit: Circuit) -> OutcomeWindow:
        window = self._windows.get(circuit)
        if window is None:
            window = self._windows[circuit] = OutcomeWindow(self._settings, None)
        return window

    def _current(self, circuit: Circuit) -> BreakerRecord:
        with self._lock:
            cached = self._cache.get(circuit)
        if (
            cached is not None
            and cached.fresh
            and self._monotonic() - cached.fetched_at < self._settings.cache_ttl_s
        ):
            return cached.record
        record = self._store.load(circuit.pk)
        self._remember(circuit, record)
        return record

    def _known(self, circuit: Circuit) -> BreakerRecord:
        """The last record seen, however old: the expected version of the next write."""
        with self._lock:
            cached = self._cache.get(circuit)
        return cached.record if cached is not None else BreakerRecord()

    def _remember(self, circuit: Circuit, record: BreakerRecord) -> None:
        with self._lock:
            self._cache[circuit] = _Cached(record, self._monotonic())
            if record.state is BreakerState.CLOSED:
                window = self._windows.get(circuit)
                if window is not None and window.version != record.version:
                    self._windows[circuit] = OutcomeWindow(self._settings, record.version)

    def _commit(
        self, circuit: Circuit, current: BreakerRecord, plan: Plan, now: int
    ) -> tuple[BreakerRecord, _Transition | None]:
        """Apply `plan` with optimistic concurrency; replan on whatever beat us."""
        for _ in range(_ATTEMPTS):
            transition = plan(current)
            if transition is None:
                return current, None
            result = self._store.replace(circuit.pk, current.version, transition.record)
            self._remember(circuit, result.current)
            if result.saved:
                self._emit(circuit, current, transition, now)
                return transition.record, transition
            current = result.current
        return current, None

    def _report(self, circuit: Circuit, plan: Plan, now: int) -> None:
        try:
            self._commit(circuit, self._known(circuit), plan, now)
        except BreakerUnavailable as error:
            # The next failure retries the transition, and every check meanwhile reads
            # the (unreachable) store and answers UNKNOWN: nothing is sent blind.
            with self._lock:
                self._cache.pop(circuit, None)
            logger.warning("breaker %s transition not recorded: %s", circuit.pk, error)

    def _emit(
        self, circuit: Circuit, previous: BreakerRecord, transition: _Transition, now: int
    ) -> None:
        event = BreakerEvent(
            kind=transition.kind,
            scope=circuit.scope,
            scope_id=circuit.scope_id,
            previous=previous.state,
            at_ms=now,
            reason=transition.record.reason,
            cooldown_s=transition.cooldown_s,
        )
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                # Metrics must never decide whether a message is sent.
                logger.exception("breaker listener failed on %s", event.kind)


def _joined(why: str, reason: str) -> str:
    return f"{why}: {reason}" if reason else why


def _closed(current: BreakerRecord, now: int, reason: str) -> BreakerRecord:
    return BreakerRecord(
        state=BreakerState.CLOSED, version=current.version + 1, changed_at_ms=now, reason=reason
    )
