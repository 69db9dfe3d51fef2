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
    def metric_name(self) -> str:
        return _METRICS[self]


_METRICS = {
    BreakerEventKind.OPENED: "BreakerOpened",
    BreakerEventKind.HALF_OPENED: "BreakerHalfOpened",
    BreakerEventKind.CLOSED: "BreakerClosed",
    BreakerEventKind.HELD: "BreakerHeld",
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
