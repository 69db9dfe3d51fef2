"""Every webhook change that is not a message or a status: templates, numbers, the account.

- template status, quality, category and components updates -> ``template.updated``;
- phone number quality and name updates -> ``number.updated``; a throughput change also
  sets the number's rate limit (Meta's automatic upgrade to 1,000 mps);
- ``user_preferences`` (marketing stop/resume) updates the contact, then, like account
  updates, alerts, errors Meta reports at the value level and any field this code does
  not know, -> ``account.updated`` with the field's name and Meta's value as delivered.

Each change is handled once: its guard key is a digest of the change (with the entry's
time, which tells a redelivery from a new report of the same thing); a change without a
time is keyed by the body's digest and its position instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pixy_whatsapp.contacts import ContactStore
from pixy_whatsapp.events import (
    AccountUpdated,
    EventDetail,
    NumberUpdated,
    TemplateUpdated,
    event_id,
)
from pixy_whatsapp.events.details import DetailType
from pixy_whatsapp.inbound.conversions import digest, epoch_ms, meta_error, utc
from pixy_whatsapp.inbound.directory import NumberDirectory
from pixy_whatsapp.inbound.messages import PREFERENCE_SOURCE
from pixy_whatsapp.inbound.outbox import Outbox
from pixy_whatsapp.inbound.telemetry import InboundTelemetry
from pixy_whatsapp.limits import MAX_NUMBER_MPS, InvalidLimit, Limiter
from pixy_whatsapp.models import WebhookChange, WebhookEntry
from pixy_whatsapp.observability import logger, mask_phone

MESSAGES_FIELD = "messages"
USER_PREFERENCES_FIELD = "user_preferences"
TEMPLATE_FIELDS = frozenset(
    {
        "message_template_status_update",
        "message_template_quality_update",
        "message_template_components_update",
        "template_category_update",
    }
)
NUMBER_FIELDS = frozenset({"phone_number_quality_update", "phone_number_name_update"})

THROUGHPUT_UPGRADE = "THROUGHPUT_UPGRADE"
STANDARD_LEVEL = "STANDARD"
# Meta names the default level STANDARD; the name of the upgraded one is not published,
# so only these explicit spellings are trusted (an explicit mps value always is).
HIGH_LEVELS = frozenset({"HIGH", "HIGH_THROUGHPUT", "UPGRADED"})


@dataclass(frozen=True, slots=True)
class ChangeAt:
    """One change of a body, where it sits, and what it says."""

    entry: WebhookEntry
    change: WebhookChange
    position: str
    value: dict[str, Any]

    @property
    def field(self) -> str | None:
        return self.change.field

    @property
    def at_ms(self) -> int | None:
        return epoch_ms(self.entry.time)


def throughput_mps(value: dict[str, Any], default_mps: float) -> float | None:
    """The messages per second a phone number update grants, if it says."""
    throughput = value.get("throughput")
    explicit = value.get("mps")
    level = value.get("throughput_level")
    if isinstance(throughput, dict):
        explicit = throughput.get("mps", explicit)
        level = throughput.get("level", level)
    if explicit is not None and not isinstance(explicit, bool):
        try:
            return float(explicit)
        except (TypeError, ValueError):
            logger.warning("throughput mps is not a number", extra={"mps": str(explicit)})
    if value.get("event") == THROUGHPUT_UPGRADE:
        return MAX_NUMBER_MPS
    if isinstance(level, str):
        if level.upper() == STANDARD_LEVEL:
            return default_mps
        if level.upper() in HIGH_LEVELS:
            return MAX_NUMBER_MPS
    return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


class UpdateHandler:
    def __init__(
        self,
        contacts: ContactStore,
        limiter: Limiter,
        directory: NumberDirectory,
        telemetry: InboundTelemetry,
        *,
        default_mps: float,
    ) -> None:
        self._contacts = contacts
        self._limiter = limiter
        self._directory = directory
        self._telemetry = telemetry
        self._default_mps = default_mps

    def handle(self, at: ChangeAt, outbox: Outbox) -> None:
        carries_messages = at.field == MESSAGES_FIELD or (
            at.field is None and _carries_messages(at.value)
        )
        # Messages and statuses have their own handlers; only value-level errors are left.
        if carries_messages and not at.value.get("errors"):
            return
        if not outbox.claim(self._guard(at, outbox)):
            return
        if at.field in TEMPLATE_FIELDS:
            outbox.add(self._template(at, outbox))
        elif at.field in NUMBER_FIELDS:
            outbox.add(self._number(at, outbox))
        else:
            if at.field == USER_PREFERENCES_FIELD:
                self._preferences(at, outbox.received_at_ms)
            outbox.add(self._account(at, outbox))

    def _guard(self, at: ChangeAt, outbox: Outbox) -> str:
        fact: dict[str, Any] = {
            "waba_id": at.entry.id,
            "time": at.entry.time,
            "field": at.field,
            "value": at.value,
        }
        if at.entry.time is None:
            fact |= {"body": outbox.body_sha256, "position": at.position}
        return f"change#{digest(fact)}"

    def _common(self, at: ChangeAt, outbox: Outbox, detail_type: DetailType) -> dict[str, Any]:
        metadata = at.change.value.metadata if at.change.value is not None else None
        return {
            "event_id": event_id(detail_type, self._guard(at, outbox)),
            "waba_id": at.entry.id,
            "phone_number_id": metadata.phone_number_id if metadata else None,
            "occurred_at": utc(at.at_ms),
            "received_at": utc(outbox.received_at_ms),
            "payload": at.value,
        }

    def _template(self, at: ChangeAt, outbox: Outbox) -> EventDetail:
        v = at.value
        return TemplateUpdated(
            **self._common(at, outbox, DetailType.TEMPLATE_UPDATED),
            field=str(at.field),
            event=_text(v.get("event")),
            template_id=_text(v.get("message_template_id")),
            template_name=_text(v.get("message_template_name")),
            language=_text(v.get("message_template_language")),
            category=_text(v.get("message_template_category") or v.get("new_category")),
            previous_category=_text(v.get("previous_category")),
            new_category=_text(v.get("new_category")),
            previous_quality_score=_text(v.get("previous_quality_score")),
            new_quality_score=_text(v.get("new_quality_score")),
            reason=_text(v.get("reason")),
        )

    def _number(self, at: ChangeAt, outbox: Outbox) -> EventDetail:
        v = at.value
        common = self._common(at, outbox, DetailType.NUMBER_UPDATED)
        display = _text(v.get("display_phone_number"))
        phone_number_id = (
            common["phone_number_id"]
            or _text(v.get("phone_number_id"))
            or self._directory.lookup(display)
        )
        common["phone_number_id"] = phone_number_id
        applied = self._apply_throughput(at, phone_number_id, display)
        throughput = v.get("throughput")
        level = throughput.get("level") if isinstance(throughput, dict) else None
        return NumberUpdated(
            **common,
            field=str(at.field),
            event=_text(v.get("event")),
            display_phone_number=display,
            current_limit=_text(v.get("current_limit")),
            old_limit=_text(v.get("old_limit")),
            max_daily_conversations_per_business=_text(
                v.get("max_daily_conversations_per_business")
            ),
            throughput_level=_text(level or v.get("throughput_level")),
            mps=applied,
        )

    def _apply_throughput(
        self, at: ChangeAt, phone_number_id: str | None, display: str | None
    ) -> float | None:
        mps = throughput_mps(at.value, self._default_mps)
        if mps is None:
            return None
        if phone_number_id is None:
            logger.warning(
                "throughput change for a number not seen in any webhook yet",
                extra={"display_phone_number": mask_phone(display), "mps": mps},
            )
            return None
        try:
            self._limiter.set_number_mps(phone_number_id, mps, at_ms=at.at_ms)
        except InvalidLimit:
            logger.warning("throughput out of range, limit unchanged", extra={"mps": mps})
            return None
        logger.info(
            "phone number throughput changed",
            extra={"phone_number_id": phone_number_id, "mps": mps},
        )
        return mps

    def _preferences(self, at: ChangeAt, received_at_ms: int) -> None:
        waba_id = at.entry.id
        preferences = at.value.get(USER_PREFERENCES_FIELD)
        if not waba_id or not isinstance(preferences, list):
            return
        for preference in preferences:
            if not isinstance(preference, dict):
                continue
            if preference.get("category", "marketing_messages") != "marketing_messages":
                continue
            choice = str(preference.get("value", "")).lower()
            if choice not in ("stop", "resume"):
                continue
            at_ms = epoch_ms(preference.get("timestamp")) or at.at_ms or received_at_ms
            users = [str(u) for u in (preference.get("wa_id"), preference.get("user_id")) if u]
            for user in dict.fromkeys(users):
                self._contacts.set_opt_out(
                    waba_id,
                    user,
                    opted_out=choice == "stop",
                    at_ms=at_ms,
                    source=PREFERENCE_SOURCE,
                )
            if choice == "stop" and users:
                self._telemetry.opted_out()

    def _account(self, at: ChangeAt, outbox: Outbox) -> EventDetail:
        value = at.change.value
        errors = [meta_error(error) for error in (value.errors if value else None) or []]
        return AccountUpdated(
            **self._common(at, outbox, DetailType.ACCOUNT_UPDATED),
            field=at.field,
            event=_text(at.value.get("event")),
            errors=errors,
        )


def _carries_messages(value: dict[str, Any]) -> bool:
    return any(key in value for key in ("messages", "statuses", "errors"))
