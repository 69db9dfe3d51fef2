"""Account-level webhook changes the spec does not model (templates, number quality).

Their values arrive in :class:`~pixy_whatsapp.models.webhook.WebhookValue` as extra keys
(kept, never dropped); :func:`read_update` gives them a typed view by ``change.field``.
Field names follow Meta's webhook reference pages; everything is optional and unknown
keys are kept, as for every webhook record.
"""

from __future__ import annotations

from pixy_whatsapp.models.bases import WebhookRecord
from pixy_whatsapp.models.webhook import WebhookChange


class TemplateStatusUpdate(WebhookRecord):
    """``message_template_status_update``: a template was approved, rejected, paused, ..."""

    event: str | None = None
    message_template_id: str | None = None
    message_template_name: str | None = None
    message_template_language: str | None = None
    message_template_category: str | None = None
    reason: str | None = None


class PhoneNumberQualityUpdate(WebhookRecord):
    """``phone_number_quality_update``: a number's messaging limit or throughput changed."""

    display_phone_number: str | None = None
    event: str | None = None
    current_limit: str | None = None
    old_limit: str | None = None
    max_daily_conversations_per_business: str | None = None


def read_update(change: WebhookChange) -> TemplateStatusUpdate | PhoneNumberQualityUpdate | None:
    """The typed value of an update change; ``None`` for other fields or an empty value."""
    if change.value is None:
        return None
    data = change.value.model_dump(by_alias=True, exclude_unset=True)
    if change.field == "message_template_status_update":
        return TemplateStatusUpdate.model_validate(data)
    if change.field == "phone_number_quality_update":
        return PhoneNumberQualityUpdate.model_validate(data)
    return None
