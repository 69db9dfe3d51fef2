"""The error table rendered as the Markdown page ``docs/error-codes.md``."""

from __future__ import annotations

from pixy_whatsapp.errors.actions import Action, ErrorClass
from pixy_whatsapp.errors.rules import MAX_DELAY_SECONDS, ErrorRule
from pixy_whatsapp.errors.table import RULES, SECTIONS, SOURCES, UNKNOWN_RULES

_INTRO = f"""\
<!-- Generated from layers/core/python/pixy_whatsapp/errors/table.py by
     `python -m pixy_whatsapp.errors.docs`. Do not edit by hand: change the table and
     regenerate. -->

# Graph API error codes

How the gateway reacts to each error Meta's Graph API returns, synchronously or in a failed
status webhook. The classification keys on `error.code`, as Meta asks: HTTP statuses for the
same code differ between revisions, and `error_subcode` is deprecated. The HTTP column is
for reference; the status only matters for codes missing from the table.

A code's own row wins over a band that contains it (132015 over 132000-132069).

Delays are base values for the next try of the message; the sender adds jitter.
`attempt` counts the message's earlier failures, starting at 0. No delay exceeds
{MAX_DELAY_SECONDS} s, the SQS limit for a message delay, which also bounds how long a FIFO
shard is held. Once a rule's retries are used up, the message fails with Meta's code and
reason. Look one code up with `pixy-whatsapp errors explain CODE`.
"""


def render_markdown() -> str:
    """The whole error-codes page, as committed in ``docs/error-codes.md``."""
    parts = [_INTRO, _actions(), _classes()]
    ordered = _ordered(RULES)
    for section in SECTIONS:
        rules = [rule for rule in ordered if rule.section == section]
        if rules:
            parts.append(f"## {section}\n\n{_code_table(rules)}")
    parts.append(_unknown())
    parts.append(_decisions(ordered))
    parts.append(_sources())
    return "\n".join(parts)


def _ordered(rules: tuple[ErrorRule, ...]) -> list[ErrorRule]:
    """Section by section; in each, single codes in order, then bands."""

    def key(rule: ErrorRule) -> tuple[int, bool, int]:
        assert rule.codes is not None
        return (SECTIONS.index(rule.section), rule.codes.first != rule.codes.last, rule.codes.first)

    return sorted(rules, key=key)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _actions() -> str:
    rows = [f"| `{action.value}` | {_cell(action.description)} |" for action in Action]
    return "## Actions\n\n| Action | What the sender does |\n|---|---|\n" + "\n".join(rows) + "\n"


def _classes() -> str:
    rows = [f"| `{cls.value}` | {_cell(cls.description)} |" for cls in ErrorClass]
    return (
        "## Error classes\n\nThe `error_class` label on metrics and `message.failed` events.\n\n"
        "| Class | Covers |\n|---|---|\n" + "\n".join(rows) + "\n"
    )


def _retries(rule: ErrorRule) -> str:
    if rule.backoff is None:
        return "none | -"
    return f"{rule.max_attempts} | {rule.delay_text}"


def _code_table(rules: list[ErrorRule]) -> str:
    header = (
        "| Code | Title | Action | Class | Breaker | Retries | Base delay | HTTP | Meaning "
        "| Source |\n|---|---|---|---|---|---|---|---|---|---|\n"
    )
    rows = [
        f"| {rule.key} | {_cell(rule.title)} | `{rule.action.value}` | {rule.error_class.value} "
        f"| {rule.breaker.value} | {_retries(rule)} "
        f"| {', '.join(str(s) for s in rule.http_statuses) or '?'} | {_cell(rule.meaning)} "
        f"| {', '.join(rule.sources)} |"
        for rule in rules
    ]
    return header + "\n".join(rows) + "\n"


def _unknown() -> str:
    header = (
        "## Codes missing from the table\n\n"
        "Never an endless retry: each rule below has a small cap or none.\n\n"
        "| Rule | When | Action | Class | Breaker | Retries | Base delay | Why |\n"
        "|---|---|---|---|---|---|---|---|\n"
    )
    rows = [
        f"| {rule.name} | {_cell(rule.meaning)} | `{rule.action.value}` "
        f"| {rule.error_class.value} | {rule.breaker.value} | {_retries(rule)} "
        f"| {_cell(rule.note)} |"
        for rule in UNKNOWN_RULES
    ]
    return header + "\n".join(rows) + "\n"


def _decisions(rules: list[ErrorRule]) -> str:
    items = [f"- **{rule.key}** {rule.title}: {rule.note}" for rule in rules if rule.note]
    return (
        "## Why these choices\n\nWhere Meta's advice leaves room, or the gateway departs "
        "from it.\n\n" + "\n".join(items) + "\n"
    )


def _sources() -> str:
    items = [
        f"- **{key}**: {title}" + (f", <{url}>" if url else "")
        for key, (title, url) in SOURCES.items()
    ]
    return "## Sources\n\n" + "\n".join(items) + "\n"
