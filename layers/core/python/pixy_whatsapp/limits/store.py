"""Where limiter state lives: the protocol, shared by the DynamoDB and in-memory stores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class TatSwap:
    """Result of a compare-and-set: `current_us` is the TAT the store now holds."""

    applied: bool
    current_us: int | None


class LimitStore(Protocol):
    """TATs per key (epoch microseconds) and per-number throughput overrides.

    Every method raises `LimitStoreUnavailable` when the store cannot be reached.
    """

    def swap_tat(self, pk: str, expected_us: int | None, new_us: int) -> TatSwap:
        """Set the TAT to `new_us` if it is `expected_us` (None: no TAT stored).

        On a mismatch nothing is written and `current_us` is what is stored instead.
        """
        ...

    def raise_tat(self, pk: str, floor_us: int) -> None:
        """Move the TAT up to `floor_us` unless it is already there or beyond."""
        ...

    def read_tat(self, pk: str) -> int | None: ...

    def read_number_mps(self, phone_number_id: str) -> float | None:
        """The number's throughput override, or None to use the default."""
        ...

    def write_number_mps(self, phone_number_id: str, mps: float, at_ms: int) -> None:
        """Record the throughput Meta reported for a number (ignored if older than stored)."""
        ...
