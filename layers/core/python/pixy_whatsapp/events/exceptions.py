"""Errors raised by :mod:`pixy_whatsapp.events`."""

from __future__ import annotations

from collections.abc import Sequence


class EventBusError(Exception):
    """Base class of every error in `pixy_whatsapp.events`."""


class EventPublishError(EventBusError):
    """EventBridge refused some events twice; the caller should retry the whole work item.

    ``error_codes`` holds EventBridge's code for each entry still refused.
    """

    def __init__(self, failed: int, error_codes: Sequence[str]) -> None:
        codes = ", ".join(sorted(set(error_codes))) or "no code"
        super().__init__(f"{failed} event(s) not published after a retry ({codes})")
        self.failed = failed
        self.error_codes = tuple(error_codes)


class EventTooLarge(EventBusError):
    """An event is over EventBridge's entry size even without Meta's raw payload."""
