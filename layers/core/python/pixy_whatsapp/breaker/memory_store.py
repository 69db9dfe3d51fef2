"""An in-process breaker store: for unit tests and for one-process local runs."""

from __future__ import annotations

import threading

from pixy_whatsapp.breaker.model import BreakerRecord
from pixy_whatsapp.breaker.store import Replaced


class InMemoryBreakerStore:
    """Same contract as `DynamoDBBreakerStore`, with one lock standing in for item atomicity."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, BreakerRecord] = {}
        self.loads = 0
        self.writes = 0

    def load(self, pk: str) -> BreakerRecord:
        with self._lock:
            self.loads += 1
            return self._records.get(pk, BreakerRecord())

    def replace(self, pk: str, expected_version: int, record: BreakerRecord) -> Replaced:
        with self._lock:
            self.writes += 1
            current = self._records.get(pk, BreakerRecord())
            if current.version != expected_version:
                return Replaced(saved=False, current=current)
            self._records[pk] = record
            return Replaced(saved=True, current=record)
