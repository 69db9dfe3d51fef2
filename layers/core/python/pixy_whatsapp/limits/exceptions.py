"""Errors raised by `pixy_whatsapp.limits`."""

from __future__ import annotations


class LimitError(Exception):
    """Base class of every error in `pixy_whatsapp.limits`."""


class InvalidLimit(LimitError, ValueError):
    """A rate, burst or reservation size that no limiter can honour."""


class ReservationTooLarge(InvalidLimit):
    """More tokens asked for at once than the key's burst: it could never be granted.

    Split the reservation (e.g. reserve at most `burst` messages for one recipient and
    leave the rest for a later batch).
    """

    def __init__(self, tokens: int, burst: int) -> None:
        super().__init__(f"{tokens} tokens asked for at once, but the burst is {burst}")
        self.tokens = tokens
        self.burst = burst


class LimitStoreUnavailable(LimitError):
    """The limit store could not be read or written; nothing is known to be reserved."""
