"""The events one webhook body produces, and the guards that make each happen once."""

from __future__ import annotations

from pixy_whatsapp.events import EventDetail
from pixy_whatsapp.inbound.exceptions import GuardBusy
from pixy_whatsapp.inbound.guards import GuardState, GuardStore


class Outbox:
    """Collects events while a body is handled; the processor publishes them at the end.

    ``claim(key)`` says whether the caller should do the guarded work and add its events:
    True when the key is newly claimed, False when it was done before (or is already
    claimed by this same body, whose events are queued here). A key that another
    invocation holds raises `GuardBusy`.
    """

    def __init__(self, guards: GuardStore, *, received_at_ms: int, body_sha256: str) -> None:
        self._guards = guards
        self.received_at_ms = received_at_ms
        self.body_sha256 = body_sha256
        self._claimed: list[str] = []
        self._claimed_set: set[str] = set()
        self._events: list[EventDetail] = []

    def claim(self, key: str) -> bool:
        if key in self._claimed_set:
            return False
        state = self._guards.claim(key)
        if state is GuardState.BUSY:
            raise GuardBusy(key)
        if state is GuardState.DONE:
            return False
        self._claimed.append(key)
        self._claimed_set.add(key)
        return True

    def add(self, *events: EventDetail) -> None:
        self._events.extend(events)

    @property
    def events(self) -> tuple[EventDetail, ...]:
        return tuple(self._events)

    @property
    def claimed(self) -> tuple[str, ...]:
        return tuple(self._claimed)
