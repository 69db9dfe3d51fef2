"""Turn a Graph API error (code, optional subcode and HTTP status) into what to do next."""

from __future__ import annotations

from dataclasses import dataclass

from pixy_whatsapp.errors.actions import Action, BreakerScope, ErrorClass
from pixy_whatsapp.errors.rules import CodeSpan, ErrorRule
from pixy_whatsapp.errors.table import (
    RULES,
    UNKNOWN_PERMANENT,
    UNKNOWN_THROTTLED,
    UNKNOWN_TRANSIENT,
)


def _index_exact(rules: tuple[ErrorRule, ...]) -> dict[int, ErrorRule]:
    exact: dict[int, ErrorRule] = {}
    for rule in rules:
        if rule.codes is not None and rule.codes.first == rule.codes.last:
            if rule.codes.first in exact:
                raise ValueError(f"code {rule.codes.first} has two rules")
            exact[rule.codes.first] = rule
    return exact


_EXACT = _index_exact(RULES)
# Narrowest band first, so a band nested in a wider one wins.
_BANDS: list[tuple[CodeSpan, ErrorRule]] = sorted(
    (
        (rule.codes, rule)
        for rule in RULES
        if rule.codes is not None and rule.codes.last > rule.codes.first
    ),
    key=lambda band: band[0].last - band[0].first,
)


def find_rule(code: int) -> ErrorRule | None:
    """The table's rule for ``code``: its own row first, else the narrowest band holding it."""
    return _EXACT.get(code) or next((rule for span, rule in _BANDS if code in span), None)


def unknown_rule(code: int | None, http_status: int | None) -> ErrorRule:
    """The rule for a code the table does not know (or no code), chosen by HTTP status."""
    if http_status == 429:
        return UNKNOWN_THROTTLED
    if http_status is not None and (http_status == 408 or 500 <= http_status <= 599):
        return UNKNOWN_TRANSIENT
    if code is None and http_status is None:
        return UNKNOWN_TRANSIENT
    return UNKNOWN_PERMANENT


@dataclass(frozen=True, slots=True, kw_only=True)
class Classification:
    """What to do about one failed call, for the ``attempt``-th failure of a message.

    ``delay_seconds`` is the base wait before the next try (the caller adds jitter); it is
    ``None`` when the message should not be retried, including when the rule's attempts
    are used up, in which case ``action`` still says what kind of failure it was.
    """

    code: int | None
    subcode: int | None
    http_status: int | None
    attempt: int
    rule: ErrorRule
    retryable: bool
    delay_seconds: int | None
    reason: str

    @property
    def known(self) -> bool:
        """Whether the code has a row in the table (as opposed to an unknown-code rule)."""
        return self.rule.codes is not None

    @property
    def action(self) -> Action:
        return self.rule.action

    @property
    def breaker(self) -> BreakerScope:
        return self.rule.breaker

    @property
    def error_class(self) -> ErrorClass:
        return self.rule.error_class

    def as_dict(self) -> dict[str, str | int | bool | None]:
        """Flat, JSON-ready fields for logs and ``message.failed`` events."""
        return {
            "code": self.code,
            "subcode": self.subcode,
            "http_status": self.http_status,
            "rule": self.rule.key,
            "action": self.action.value,
            "error_class": self.error_class.value,
            "breaker": self.breaker.value,
            "retryable": self.retryable,
            "delay_seconds": self.delay_seconds,
            "attempt": self.attempt,
            "reason": self.reason,
        }


def classify(
    code: int | None,
    *,
    subcode: int | None = None,
    http_status: int | None = None,
    attempt: int = 0,
) -> Classification:
    """Classify a Graph API error.

    ``code`` is ``error.code`` from the response or webhook, ``None`` when there was no
    parseable error (timeout, connection failure, foreign body). The decision keys on the
    code, as Meta asks; the HTTP status only chooses among the unknown-code rules, and the
    subcode (deprecated by Meta) is carried for logs but never decides. ``attempt`` counts
    the message's earlier failures: 0 on the first one.

    >>> c = classify(131056, attempt=2)
    >>> c.action.value, c.delay_seconds, c.retryable
    ('retry_after', 16, True)
    """
    attempt = max(attempt, 0)
    rule = find_rule(code) if code is not None else None
    if rule is None:
        rule = unknown_rule(code, http_status)

    retryable = rule.action.retries and attempt < rule.max_attempts
    delay = rule.backoff.delay_for(attempt) if retryable and rule.backoff is not None else None
    return Classification(
        code=code,
        subcode=subcode,
        http_status=http_status,
        attempt=attempt,
        rule=rule,
        retryable=retryable,
        delay_seconds=delay,
        reason=_reason(rule, code, http_status, attempt, delay),
    )


def _reason(
    rule: ErrorRule, code: int | None, http_status: int | None, attempt: int, delay: int | None
) -> str:
    if rule.codes is not None:
        subject = f"({code}) {rule.title}"
    else:
        status = f"HTTP {http_status}" if http_status is not None else "no HTTP status"
        subject = f"unknown error {code if code is not None else '(no code)'}, {status}"

    if delay is not None:
        outcome = f"{rule.action.value}: retry {attempt + 1} of {rule.max_attempts} in {delay} s"
    elif rule.action.retries:
        outcome = f"{rule.action.value}: gave up after {rule.max_attempts} attempts"
    else:
        outcome = rule.action.value
    return f"{subject}: {outcome}. {rule.meaning}"
