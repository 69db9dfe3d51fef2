"""What is wrong with a payload, and where: a JSON path plus a one-line message."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import ValidationError
from pydantic_core import ErrorDetails


@dataclass(frozen=True, slots=True)
class MessageProblem:
    """One problem in a send payload.

    ``path`` is a JSON path from the payload root (``$.text.body``, ``$.contacts[0].name``;
    ``$`` is the payload itself).
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def json_path(location: Iterable[int | str]) -> str:
    path = "$"
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


# pydantic's wording is written for Python callers; these read better next to JSON paths.
_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not allowed here",
}


def problems_from_error(error: ValidationError, skip: int = 0) -> list[MessageProblem]:
    """Turn pydantic's errors into problems; ``skip`` drops leading location parts.

    Discriminated unions put the chosen member's tag first (``('text', 'text', 'body')``);
    callers skip it so paths match the JSON document.
    """
    return [_problem(detail, skip) for detail in error.errors(include_url=False)]


def _problem(detail: ErrorDetails, skip: int) -> MessageProblem:
    location = detail["loc"][skip:]
    message = _MESSAGES.get(detail["type"], detail["msg"])
    if detail["type"] == "union_tag_invalid":
        context = detail.get("ctx") or {}
        tag, expected = context.get("tag"), context.get("expected_tags")
        message = f"unknown message type {tag!r}; expected one of {expected}"
        location = ("type",)
    return MessageProblem(json_path(location), message)


def unique(problems: Sequence[MessageProblem]) -> list[MessageProblem]:
    """Drop repeats, keep first-seen order."""
    return list(dict.fromkeys(problems))
