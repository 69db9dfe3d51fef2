"""The limiter: GCRA reservations against a `LimitStore`, one conditional write each.

Usage, per SQS batch (one phone number, several recipients)::

    limiter = Limiter(DynamoDBLimitStore(dynamodb, control_table))
    number = limiter.reserve(Reservation(LimitKey.number(phone_id), tokens=len(batch)))
    if number.granted:
        pairs = limiter.reserve_many(
            [Reservation(LimitKey.pair(phone_id, to), tokens=k) for to, k in per_recipient]
        )

A reservation takes at most `limiter.policy(key).burst` tokens (10 or more for a number
at 80 mps and up, 5 for a pair); reserve the rest of a larger group on a later attempt.
Reserve the number (and the WABA, if metered) before the pairs. A refusal consumes
nothing, but tokens already granted on one key are not handed back when another key
refuses; the number key is the one refused under load, so taking it first means a
refusal there burns no pair quota. Pair refusals are rare and waste a few number
tokens at most.

Tokens are never returned: if a group is granted n and only m < n are sent (an earlier
message failed and the rest of that recipient's messages wait for the next attempt),
the unused n - m stay spent. That is conservative, it can only make the sender slower
than Meta's limit, never faster, and at worst costs one batch's worth of capacity.

Reservations for different keys are independent, so `reserve_many` issues them
concurrently on a small thread pool (boto3 clients are thread-safe); from asyncio,
call it through `asyncio.to_thread`.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from pixy_whatsapp.limits import gcra
from pixy_whatsapp.limits.gcra import US_PER_S, GcraPolicy
from pixy_whatsapp.limits.keys import LimitKey, LimitKind
from pixy_whatsapp.limits.policies import LimitSettings, check_mps
from pixy_whatsapp.limits.reservations import Grant, GrantReason, Reservation
from pixy_whatsapp.limits.store import LimitStore

ClockMs = Callable[[], float]
"""Wall-clock epoch milliseconds (fractions allowed)."""


def wall_clock_ms() -> float:
    return time.time_ns() / 1_000_000


class _KnownTats:
    """The last TAT this environment saw per key: the expected value of the next write.

    A TAT only ever moves forward (items expire only once it has passed), so a
    remembered value is never ahead of the stored one: a stale entry costs one
    conflicting write, and a refusal computed from it is never wrong, only early.
    """

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._tats: OrderedDict[str, int] = OrderedDict()

    def get(self, pk: str) -> int | None:
        with self._lock:
            return self._tats.get(pk)

    def put(self, pk: str, tat_us: int | None) -> None:
        with self._lock:
            if tat_us is None:
                self._tats.pop(pk, None)
                return
            self._tats[pk] = tat_us
            self._tats.move_to_end(pk)
            while len(self._tats) > self._capacity:
                self._tats.popitem(last=False)

    def raise_to(self, pk: str, floor_us: int) -> None:
        with self._lock:
            current = self._tats.get(pk)
        self.put(pk, floor_us if current is None else max(current, floor_us))


class Limiter:
    """GCRA rate limits on phone numbers, recipient pairs and (optionally) WABAs.

    `clock_ms` is wall-clock epoch milliseconds, shared by every environment through
    the persisted TATs; `monotonic` only ages local caches.
    """

    def __init__(
        self,
        store: LimitStore,
        settings: LimitSettings | None = None,
        *,
        clock_ms: ClockMs = wall_clock_ms,
        monotonic: Callable[[], float] = time.monotonic,
        max_attempts: int = 4,
        max_workers: int = 8,
        override_ttl_s: float = 30.0,
        gate_ttl_s: float = 1.0,
        remembered_keys: int = 4_096,
    ) -> None:
        if max_attempts < 1 or max_workers < 1:
            raise ValueError("max_attempts and max_workers must be at least 1")
        self._store = store
        self._settings = settings if settings is not None else LimitSettings()
        self._clock_ms = clock_ms
        self._monotonic = monotonic
        self._max_attempts = max_attempts
        self._max_workers = max_workers
        self._override_ttl_s = override_ttl_s
        self._gate_ttl_s = gate_ttl_s
        self._known = _KnownTats(remembered_keys)
        self._lock = threading.Lock()
        self._overrides: dict[str, tuple[float | None, float]] = {}
        self._gates: dict[str, tuple[int | None, float]] = {}
        self._executor: ThreadPoolExecutor | None = None

    @property
    def settings(self) -> LimitSettings:
        return self._settings

    def _now_us(self) -> int:
        return round(self._clock_ms() * 1_000)

    def policy(self, key: LimitKey) -> GcraPolicy | None:
        """The key's policy; None means unmetered (only penalties apply)."""
        if key.kind is LimitKind.NUMBER:
            return self._settings.number_policy(self._number_mps(key.id))
        if key.kind is LimitKind.PAIR:
            return self._settings.pair
        return self._settings.waba

    def _number_mps(self, phone_number_id: str) -> float | None:
        now = self._monotonic()
        with self._lock:
            cached = self._overrides.get(phone_number_id)
        if cached is not None and now - cached[1] < self._override_ttl_s:
            return cached[0]
        mps = self._store.read_number_mps(phone_number_id)
        with self._lock:
            self._overrides[phone_number_id] = (mps, now)
        return mps

    def set_number_mps(self, phone_number_id: str, mps: float, *, at_ms: int | None = None) -> None:
        """Record the throughput Meta granted a number (from a THROUGHPUT_UPGRADE update).

        Other environments pick it up when their override cache ages out.
        """
        check_mps(mps)
        at = at_ms if at_ms is not None else int(self._clock_ms())
        self._store.write_number_mps(phone_number_id, mps, at)
        with self._lock:
            self._overrides.pop(phone_number_id, None)

    def reserve(self, reservation: Reservation) -> Grant:
        """Reserve `reservation.tokens` on its key with one conditional write.

        Raises `ReservationTooLarge` if the tokens exceed the key's burst, and
        `LimitStoreUnavailable` if the store cannot be reached.
        """
        policy = self.policy(reservation.key)
        if policy is None:
            return self._pass_gate(reservation)
        key, tokens = reservation.key, reservation.tokens
        max_wait_us = round(reservation.max_wait_s * US_PER_S)
        expected = self._known.get(key.pk)
        for _ in range(self._max_attempts):
            outcome = gcra.reserve(policy, expected, self._now_us(), tokens, max_wait_us)
            if not outcome.granted:
                return _grant(reservation, outcome.wait_us, GrantReason.RATE, expected)
            assert outcome.tat_us is not None
            swap = self._store.swap_tat(key.pk, expected, outcome.tat_us)
            self._known.put(key.pk, swap.current_us)
            if swap.applied:
                return _grant(reservation, outcome.wait_us, GrantReason.GRANTED, outcome.tat_us)
            expected = swap.current_us
        # Other environments won every round. Say how long the key needs as far as we now
        # know, or at least the time our own tokens take, so the retry does not spin.
        outcome = gcra.reserve(policy, expected, self._now_us(), tokens)
        if not outcome.granted:
            return _grant(reservation, outcome.wait_us, GrantReason.RATE, expected)
        return _grant(reservation, tokens * policy.interval_us, GrantReason.CONTENDED, expected)

    def reserve_many(self, reservations: Sequence[Reservation]) -> list[Grant]:
        """`reserve` each one, concurrently; grants come back in the same order.

        Give each key at most once: two reservations on one key would only contend
        with each other.
        """
        if len(reservations) <= 1:
            return [self.reserve(r) for r in reservations]
        return list(self._pool().map(self.reserve, reservations))

    def penalize(self, key: LimitKey, seconds: float) -> None:
        """Meta said slow down: admit nothing on `key` for `seconds`, then the sustained rate.

        130429 penalizes the number, 131056 the recipient pair, 4 and 80007 the WABA.
        Penalties never shorten one already in force. One write, no read.
        """
        floor = gcra.penalty_tat(
            self.policy(key), None, self._now_us(), round(max(0.0, seconds) * US_PER_S)
        )
        self._store.raise_tat(key.pk, floor)
        self._known.raise_to(key.pk, floor)
        with self._lock:
            cached = self._gates.get(key.pk)
            if cached is not None:
                tat = floor if cached[0] is None else max(cached[0], floor)
                self._gates[key.pk] = (tat, cached[1])

    def _pass_gate(self, reservation: Reservation) -> Grant:
        """An unmetered key: admit unless a penalty is in force. Reads (cached), never writes."""
        pk = reservation.key.pk
        now = self._monotonic()
        with self._lock:
            cached = self._gates.get(pk)
        if cached is not None and now - cached[1] < self._gate_ttl_s:
            tat = cached[0]
        else:
            tat = self._store.read_tat(pk)
            with self._lock:
                self._gates[pk] = (tat, now)
        wait = 0 if tat is None else max(0, tat - self._now_us())
        if wait <= round(reservation.max_wait_s * US_PER_S):
            return _grant(reservation, wait, GrantReason.GRANTED, None)
        return _grant(reservation, wait, GrantReason.RATE, None)

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                # Kept for the life of the environment: threads survive Lambda freezes.
                self._executor = ThreadPoolExecutor(
                    max_workers=self._max_workers, thread_name_prefix="limits"
                )
            return self._executor

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)


def _grant(
    reservation: Reservation, wait_us: int, reason: GrantReason, tat_us: int | None
) -> Grant:
    return Grant(
        key=reservation.key,
        tokens=reservation.tokens,
        granted=reason is GrantReason.GRANTED,
        wait_s=wait_us / US_PER_S,
        reason=reason,
        tat_ms=None if tat_us is None else tat_us / 1_000,
    )
