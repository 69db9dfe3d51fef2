"""The shape of one row of the error table: which codes, what they mean, what to do."""

from __future__ import annotations

from dataclasses import dataclass

from pixy_whatsapp.errors.actions import Action, BreakerScope, ErrorClass

# SQS caps DelaySeconds at 15 minutes; keeping every delay under it lets the sender use
# either a re-queue or a visibility change, and bounds how long a FIFO shard is held.
MAX_DELAY_SECONDS = 900

# Past this exponent every delay is already at its cap; stopping here keeps the integer
# power cheap for absurd attempt numbers.
_MAX_EXPONENT = 32


@dataclass(frozen=True, slots=True)
class CodeSpan:
    """An inclusive range of error codes; a single code has ``first == last``."""

    first: int
    last: int

    def __post_init__(self) -> None:
        if self.first > self.last:
            raise ValueError(f"empty code span {self.first}-{self.last}")

    def __contains__(self, code: object) -> bool:
        return isinstance(code, int) and self.first <= code <= self.last

    @property
    def label(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"


@dataclass(frozen=True, slots=True)
class Backoff:
    """Base delay rule: ``seconds * factor ** attempt``, capped; ``factor=1`` is a fixed wait."""

    seconds: int
    factor: int = 1
    cap_seconds: int = MAX_DELAY_SECONDS

    def __post_init__(self) -> None:
        if self.seconds < 1 or self.factor < 1:
            raise ValueError("a back-off needs a positive delay and factor")
        if not self.seconds <= self.cap_seconds <= MAX_DELAY_SECONDS:
            raise ValueError(f"cap must lie between the base delay and {MAX_DELAY_SECONDS} s")

    def delay_for(self, attempt: int) -> int:
        exponent = min(max(attempt, 0), _MAX_EXPONENT)
        growth: int = self.factor**exponent
        return min(self.seconds * growth, self.cap_seconds)

    @property
    def text(self) -> str:
        if self.factor == 1:
            return f"{self.seconds} s"
        return f"{self.seconds} s * {self.factor}^attempt, at most {self.cap_seconds} s"


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorRule:
    """One row of the error table.

    ``codes`` is ``None`` only for the rules that cover codes missing from the table; those
    rules are named by ``key`` instead.
    """

    codes: CodeSpan | None
    name: str = ""
    title: str
    meaning: str
    action: Action
    error_class: ErrorClass
    breaker: BreakerScope = BreakerScope.NONE
    backoff: Backoff | None = None
    max_attempts: int = 0
    section: str
    sources: tuple[str, ...]
    http_statuses: tuple[int, ...] = ()
    note: str = ""

    def __post_init__(self) -> None:
        if (self.codes is None) == (not self.name):
            raise ValueError("a rule has either a code span or a name, not both")
        if self.action.retries:
            if self.backoff is None or self.max_attempts < 1:
                raise ValueError(f"rule {self.key}: a retrying action needs a back-off and cap")
        elif self.backoff is not None or self.max_attempts:
            raise ValueError(f"rule {self.key}: a final action takes no back-off")

    @property
    def key(self) -> str:
        return self.codes.label if self.codes is not None else self.name

    @property
    def delay_text(self) -> str:
        return self.backoff.text if self.backoff is not None else "-"
