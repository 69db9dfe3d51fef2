"""Errors raised by :mod:`pixy_whatsapp.models`."""

from __future__ import annotations

from collections.abc import Sequence

from pixy_whatsapp.models.problems import MessageProblem


class WebhookParseError(ValueError):
    """The body is not a WhatsApp Business webhook; ``reason`` says why in one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MessageValidationError(ValueError):
    """A send payload Meta would refuse; ``problems`` lists each one with its JSON path."""

    def __init__(self, problems: Sequence[MessageProblem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = tuple(problems)
