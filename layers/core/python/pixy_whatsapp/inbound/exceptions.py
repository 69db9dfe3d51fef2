"""Errors raised by :mod:`pixy_whatsapp.inbound`."""

from __future__ import annotations


class InboundError(Exception):
    """Base class of every error in `pixy_whatsapp.inbound`."""


class GuardBusy(InboundError):
    """Another invocation is handling the same message or status right now.

    The record fails and comes back a few seconds later (`BUSY_RETRY_SECONDS`), by which
    time the other invocation has usually finished; if it has not, the record is busy again
    until that invocation finishes or its lease runs out.
    """

    def __init__(self, key: str) -> None:
        super().__init__(f"{key} is being handled by another invocation")
        self.key = key
