"""Plain-text explanation of one error code, for operators (``pixy-whatsapp errors explain``)."""

from __future__ import annotations

from pixy_whatsapp.errors.classify import find_rule
from pixy_whatsapp.errors.rules import ErrorRule
from pixy_whatsapp.errors.table import SOURCES, UNKNOWN_RULES


def explain(code: int) -> str:
    """Title, meaning, action and reasons for ``code``; the unknown-code rules if it has none."""
    rule = find_rule(code)
    if rule is not None:
        return _describe(rule, heading=f"{code}: {rule.title}")

    parts = [
        f"{code} is not in the error table. The rule for it depends on the HTTP status "
        "of the answer:"
    ]
    for unknown in UNKNOWN_RULES:
        parts.append(_describe(unknown, heading=f"{unknown.name}: {unknown.title}"))
    return "\n\n".join(parts)


def _describe(rule: ErrorRule, *, heading: str) -> str:
    lines = [heading]
    if rule.codes is not None and rule.codes.first != rule.codes.last:
        lines.append(f"  rule:     band {rule.key}")
    lines.append(f"  meaning:  {rule.meaning}")
    lines.append(f"  action:   {rule.action.value}: {rule.action.description}")
    if rule.backoff is not None:
        lines.append(f"  delay:    {rule.backoff.text}, up to {rule.max_attempts} retries")
    lines.append(f"  class:    {rule.error_class.value}")
    lines.append(f"  breaker:  {rule.breaker.value}")
    if rule.http_statuses:
        lines.append(f"  http:     {', '.join(str(s) for s in rule.http_statuses)}")
    if rule.note:
        lines.append(f"  why:      {rule.note}")
    if rule.sources:
        lines.append(f"  source:   {'; '.join(SOURCES[key][0] for key in rule.sources)}")
    return "\n".join(lines)
