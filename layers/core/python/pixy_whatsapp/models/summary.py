"""A few numbers that say what a webhook carried, for logs, metrics and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pixy_whatsapp.models._generated_vocabulary import INBOUND_MESSAGE_TYPES, STATUS_VALUES
from pixy_whatsapp.models.webhook import WebhookPayload, iter_changes, iter_errors


@dataclass(frozen=True, slots=True)
class WebhookSummary:
    """Counts over a whole payload (every entry, every change).

    - ``fields``: the ``field`` of each change, in payload order (repeats kept);
    - ``messages``: inbound messages; ``statuses``: delivery statuses;
    - ``errors``: every error object Meta reported, wherever it sits: ``value.errors``
      (account or app level), ``statuses[].errors`` (a message we sent failed) and
      ``messages[].errors`` (an inbound message Meta could not process). Each says
      something went wrong, so one number counts them all; ``iter_errors`` yields them;
    - ``unknown_types``: message types and status values the spec does not list, as
      ``message:<type>`` and ``status:<value>``, sorted and without repeats. They are
      kept in the payload, not dropped; this only makes them visible.
    """

    fields: tuple[str, ...]
    messages: int
    statuses: int
    errors: int
    unknown_types: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "fields": list(self.fields),
            "messages": self.messages,
            "statuses": self.statuses,
            "errors": self.errors,
            "unknown_types": list(self.unknown_types),
        }


_MISSING = "<missing>"


def summarize_webhook(payload: WebhookPayload) -> WebhookSummary:
    fields: list[str] = []
    messages = statuses = 0
    unknown: set[str] = set()
    for _entry, change in iter_changes(payload):
        fields.append(change.field or _MISSING)
        value = change.value
        if value is None:
            continue
        for message in value.messages or []:
            messages += 1
            if message.type not in INBOUND_MESSAGE_TYPES:
                unknown.add(f"message:{message.type or _MISSING}")
        for status in value.statuses or []:
            statuses += 1
            if status.status not in STATUS_VALUES:
                unknown.add(f"status:{status.status or _MISSING}")
    return WebhookSummary(
        fields=tuple(fields),
        messages=messages,
        statuses=statuses,
        errors=sum(1 for _ in iter_errors(payload)),
        unknown_types=tuple(sorted(unknown)),
    )
