"""How the simulator checks a send body: through an injected validator.

The default is the project's own `pixy_whatsapp.models.validate_message`, imported on first
use so the simulator starts even while the models are being regenerated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol


class Problem(Protocol):
    """One thing wrong with a body: where, and what."""

    @property
    def path(self) -> object: ...

    @property
    def message(self) -> str: ...


Validator = Callable[[Mapping[str, Any]], Sequence[Problem]]


def validate_with_models(body: Mapping[str, Any]) -> Sequence[Problem]:
    from pixy_whatsapp.models import validate_message

    return validate_message(body)


def describe_problems(problems: Sequence[Problem]) -> str:
    parts = []
    for problem in problems:
        path = str(problem.path) if problem.path not in (None, "", ()) else ""
        parts.append(f"{path}: {problem.message}" if path else problem.message)
    return "; ".join(parts)
