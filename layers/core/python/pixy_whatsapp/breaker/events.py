"""Transitions, reported once (by the environment whose write made them) for metrics."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from pixy_whatsapp.breaker.model import BreakerState, Scope


class BreakerEventKind(StrEnum):
    OPENED = "opened"
    HALF_OPENED = "half_opened"
    CLOSED = "closed"
    HELD = "held"

    @property
    def state(self) -> BreakerState:
        """The state the breaker moved to (a metric dimension value)."""
        return _STATES[self]


_STATES = {
    BreakerEventKind.OPENED: BreakerState.OPEN,
    BreakerEventKind.HALF_OPENED: BreakerState.HALF_OPEN,
    BreakerEventKind.CLOSED: BreakerState.CLOSED,
    BreakerEventKind.HELD: BreakerState.HELD,
}


@dataclass(frozen=True, slots=True)
class BreakerEvent:
    kind: BreakerEventKind
    scope: Scope
    scope_id: str
    previous: BreakerState
    at_ms: int
    reason: str = ""
    cooldown_s: float | None = None  # for OPENED: how long until the next probe

    @property
    def state(self) -> BreakerState:
        return self.kind.state


BreakerListener = Callable[[BreakerEvent], None]


class EventLog:
    """A listener that keeps events until `drain()`: emit them as metrics per invocation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[BreakerEvent] = []

    def __call__(self, event: BreakerEvent) -> None:
        with self._lock:
            self._events.append(event)

    def drain(self) -> list[BreakerEvent]:
        with self._lock:
            events, self._events = self._events, []
        return events
