"""An in-process limit store: for unit tests and for one-process local runs."""

from __future__ import annotations

import threading

from pixy_whatsapp.limits.keys import number_config_pk
from pixy_whatsapp.limits.policies import check_mps
from pixy_whatsapp.limits.store import TatSwap


class InMemoryLimitStore:
    """Same contract as `DynamoDBLimitStore`, with one lock standing in for item atomicity."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tats: dict[str, int] = {}
        self._mps: dict[str, tuple[float, int]] = {}
        self.writes = 0  # successful and failed conditional writes, as DynamoDB would bill them

    def swap_tat(self, pk: str, expected_us: int | None, new_us: int) -> TatSwap:
        with self._lock:
            self.writes += 1
            current = self._tats.get(pk)
            if current != expected_us:
                return TatSwap(applied=False, current_us=current)
            self._tats[pk] = new_us
            return TatSwap(applied=True, current_us=new_us)

    def raise_tat(self, pk: str, floor_us: int) -> None:
        with self._lock:
            self.writes += 1
            current = self._tats.get(pk)
            if current is None or current < floor_us:
                self._tats[pk] = floor_us

    def read_tat(self, pk: str) -> int | None:
        with self._lock:
            return self._tats.get(pk)

    def read_number_mps(self, phone_number_id: str) -> float | None:
        with self._lock:
            found = self._mps.get(number_config_pk(phone_number_id))
            return None if found is None else found[0]

    def write_number_mps(self, phone_number_id: str, mps: float, at_ms: int) -> None:
        check_mps(mps)
        pk = number_config_pk(phone_number_id)
        with self._lock:
            previous = self._mps.get(pk)
            if previous is None or previous[1] <= at_ms:
                self._mps[pk] = (float(mps), at_ms)
