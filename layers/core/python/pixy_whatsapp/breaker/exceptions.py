"""Errors raised by `pixy_whatsapp.breaker`."""

from __future__ import annotations


class BreakerError(Exception):
    """Base class of every error in `pixy_whatsapp.breaker`."""


class BreakerUnavailable(BreakerError):
    """The breaker store could not be read or written, so the breaker's state is unknown."""
