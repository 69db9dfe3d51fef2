"""Where breaker state lives: the protocol, shared by the DynamoDB and in-memory stores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pixy_whatsapp.breaker.model import BreakerRecord


@dataclass(frozen=True, slots=True)
class Replaced:
    """Result of a conditional replace: `current` is the record the store now holds."""

    saved: bool
    current: BreakerRecord


class BreakerStore(Protocol):
    """One record per breaker. Every method raises `BreakerUnavailable` when unreachable."""

    def load(self, pk: str) -> BreakerRecord:
        """The stored record; a never-written breaker is `BreakerRecord()` (closed, version 0)."""
        ...

    def replace(self, pk: str, expected_version: int, record: BreakerRecord) -> Replaced:
        """Store `record` if the stored version is `expected_version`, else say what is stored."""
        ...
