"""What the simulator saw and did, kept for tests and the admin endpoint to count.

Written on the simulator's event loop thread and read from test threads, so every access
goes through one lock and readers get copies.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.local.graph_simulator.config import FaultKind


@dataclass(frozen=True, slots=True)
class AcceptedMessage:
    """A send the simulator accepted: it answered (or meant to answer) with `wamid`."""

    wamid: str
    phone_number_id: str
    waba_id: str
    # What the client sent as `to` (or `recipient`, for a BSUID).
    recipient: str
    # The digits Meta would report as `wa_id`; None for a BSUID recipient.
    wa_id: str | None
    body: Mapping[str, Any]
    biz_opaque_callback_data: str | None
    accepted_at: float
    # A fault drawn after acceptance: the client may not know this message went out.
    fault: FaultKind | None = None

    @property
    def message_type(self) -> str | None:
        value = self.body.get("type")
        return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class ReadReceipt:
    phone_number_id: str
    message_id: str
    typing_indicator: bool
    received_at: float


@dataclass(frozen=True, slots=True)
class DeliveredStatus:
    """One status as it reached the webhook receiver (duplicates appear twice)."""

    wamid: str
    status: str
    url: str


class SimulatorRecords:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accepted: list[AcceptedMessage] = []
        self._read_receipts: list[ReadReceipt] = []
        self._delivered_statuses: list[DeliveredStatus] = []
        # error code -> answers given with it (faults included)
        self._rejections: Counter[int] = Counter()
        # fault kind -> times drawn (both phases)
        self._faults: Counter[str] = Counter()
        self._webhooks: Counter[str] = Counter()

    def add_accepted(self, message: AcceptedMessage) -> None:
        with self._lock:
            self._accepted.append(message)

    def add_read_receipt(self, receipt: ReadReceipt) -> None:
        with self._lock:
            self._read_receipts.append(receipt)

    def add_delivered_statuses(self, statuses: list[DeliveredStatus]) -> None:
        with self._lock:
            self._delivered_statuses.extend(statuses)

    def count_rejection(self, code: int) -> None:
        with self._lock:
            self._rejections[code] += 1

    def count_fault(self, kind: FaultKind) -> None:
        with self._lock:
            self._faults[kind.value] += 1

    def count_webhook(self, event: str, amount: int = 1) -> None:
        with self._lock:
            self._webhooks[event] += amount

    @property
    def accepted(self) -> list[AcceptedMessage]:
        with self._lock:
            return list(self._accepted)

    @property
    def read_receipts(self) -> list[ReadReceipt]:
        with self._lock:
            return list(self._read_receipts)

    @property
    def delivered_statuses(self) -> list[DeliveredStatus]:
        with self._lock:
            return list(self._delivered_statuses)

    @property
    def rejections(self) -> dict[int, int]:
        with self._lock:
            return dict(self._rejections)

    @property
    def faults(self) -> dict[str, int]:
        with self._lock:
            return dict(self._faults)

    @property
    def webhooks(self) -> dict[str, int]:
        with self._lock:
            return dict(self._webhooks)

    def accepted_by_callback_data(self) -> dict[str, int]:
        with self._lock:
            return dict(
                Counter(
                    message.biz_opaque_callback_data
                    for message in self._accepted
                    if message.biz_opaque_callback_data is not None
                )
            )

    def duplicates_by_callback_data(self) -> dict[str, int]:
        """Callback data accepted more than once, with how many times."""
        return {key: count for key, count in self.accepted_by_callback_data().items() if count > 1}

    def clear(self) -> None:
        with self._lock:
            self._accepted.clear()
            self._read_receipts.clear()
            self._delivered_statuses.clear()
            self._rejections.clear()
            self._faults.clear()
            self._webhooks.clear()
