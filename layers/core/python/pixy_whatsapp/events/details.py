"""The domain events on the EventBridge bus: one pydantic model per detail type.

Every event has source ``pixy.whatsapp`` (the ``event_source`` setting) and one of the
detail types below; its ``detail`` is the model's JSON. The models are the contract: their
JSON Schemas are published in ``docs/contract/events/`` (``export_schemas``), and a field
is only ever added, never renamed or retyped, within a ``version``.

Fields every detail shares:

- ``version``: ``"1"``;
- ``event_id``: stable for one fact (a status of a message, an inbound message, one update),
  so a consumer can drop the rare duplicate a retried publication produces;
- ``waba_id``, ``phone_number_id``: whose event it is, when Meta said;
- ``occurred_at``: when it happened by Meta's clock; ``received_at``: when the webhook
  reached us;
- ``payload``: Meta's object exactly as delivered, keys we do not model included; ``None``
  with ``payload_omitted`` set when it would not fit in one EventBridge entry.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

DETAIL_VERSION: Literal["1"] = "1"

# Published details always hold every key (null when unknown), so the schemas list every
# key as required rather than marking the defaulted ones optional.
_CONFIG = ConfigDict(frozen=True, extra="forbid", json_schema_serialization_defaults_required=True)

_EVENT_ID_NAMESPACE = uuid.UUID("6f1f4bb0-53a4-4c8e-9a55-1f0c3f0e7a21")


class DetailType(StrEnum):
    MESSAGE_RECEIVED = "message.received"
    MESSAGE_STATUS = "message.status"
    MESSAGE_FAILED = "message.failed"
    TEMPLATE_UPDATED = "template.updated"
    ACCOUNT_UPDATED = "account.updated"
    NUMBER_UPDATED = "number.updated"


def event_id(detail_type: DetailType, fact: str) -> str:
    """The id of the event that reports ``fact`` (a stable key such as a wamid and status)."""
    return str(uuid.uuid5(_EVENT_ID_NAMESPACE, f"{detail_type.value}|{fact}"))


class EventDetail(BaseModel):
    """Fields every detail carries (see the module docstring)."""

    model_config = _CONFIG

    DETAIL_TYPE: ClassVar[DetailType]

    version: Literal["1"] = DETAIL_VERSION
    event_id: str = Field(description="stable per fact: the same fact always has the same id")
    waba_id: str | None = Field(default=None, description="WhatsApp Business Account id")
    phone_number_id: str | None = Field(default=None, description="business phone number id")
    occurred_at: datetime | None = Field(
        default=None, description="when it happened, by Meta's timestamp (UTC)"
    )
    received_at: datetime | None = Field(
        default=None, description="when the webhook that reported it reached us (UTC)"
    )
    payload: dict[str, Any] | None = Field(
        default=None,
        description="Meta's object as delivered, every key kept (unknown ones included)",
    )
    payload_omitted: bool = Field(
        default=False, description="true when `payload` was left out to fit the event size"
    )

    @property
    def detail_type(self) -> DetailType:
        return self.DETAIL_TYPE

    def to_json(self) -> str:
        return self.model_dump_json()

    def without_payload(self) -> Self:
        """The same event with Meta's raw object left out (for events over the size limit)."""
        return self.model_copy(update={"payload": None, "payload_omitted": True})


class MetaError(BaseModel):
    """An error Meta reported, with our classification of its code."""

    model_config = _CONFIG

    code: int | None = Field(default=None, description="Meta's error code")
    title: str | None = None
    message: str | None = None
    details: str | None = Field(default=None, description="Meta's error_data.details")
    href: str | None = None
    error_class: str = Field(
        description="our classification of the code (pixy_whatsapp.errors ErrorClass)"
    )
    reason: str | None = Field(default=None, description="what the code means, in one line")


class SentMessageFields(BaseModel):
    """What the original send said about a message of ours (empty when it is not ours)."""

    model_config = _CONFIG

    message_id: str | None = Field(
        default=None, description="our id of the message (the send request's id); null if unknown"
    )
    wamid: str | None = Field(default=None, description="Meta's message id")
    known: bool = Field(
        default=False, description="whether the message was found in the messages table"
    )
    client_reference: str | None = Field(
        default=None, description="the client reference given with the send request"
    )
    metadata: dict[str, Any] = Field(
        default_factory=dict, description="the opaque metadata given with the send request"
    )
    category: str | None = Field(
        default=None, description="the send request's category (marketing, utility, ...)"
    )
    recipient_id: str | None = Field(default=None, description="the recipient's phone number")
    recipient_user_id: str | None = Field(
        default=None, description="the recipient's business-scoped user id (BSUID)"
    )


class MessageStatusChanged(SentMessageFields, EventDetail):
    """``message.status``: Meta reported a status of a message (sent, delivered, read, ...).

    Published once per message and status, also when it arrives late (``late``): a
    ``sent`` after ``read`` is reported but never moves the message back.
    """

    DETAIL_TYPE: ClassVar[DetailType] = DetailType.MESSAGE_STATUS

    status: str = Field(description="the status Meta reported; unknown values are passed on")
    late: bool = Field(
        default=False,
        description="the message was already further along; its status did not change",
    )
    message_status: str | None = Field(
        default=None, description="the message's status after this one was applied"
    )
    pricing: dict[str, Any] | None = Field(
        default=None, description="Meta's pricing object (category, type, pricing_model)"
    )
    conversation: dict[str, Any] | None = None
    error: MetaError | None = Field(default=None, description="the first error, for `failed`")


class MessageFailed(SentMessageFields, EventDetail):
    """``message.failed``: Meta could not send or deliver a message (a failed status)."""

    DETAIL_TYPE: ClassVar[DetailType] = DetailType.MESSAGE_FAILED

    error: MetaError
    errors: list[MetaError] = Field(default_factory=list, description="every error Meta gave")
    opted_out: bool = Field(
        default=False,
        description="the recipient was marked opted out of marketing because of this failure",
    )


class ReplyTarget(BaseModel):
    """A message of ours that an inbound message replies or reacts to."""

    model_config = _CONFIG

    wamid: str
    message_id: str | None = None
    client_reference: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class MessageReceived(EventDetail):
    """``message.received``: a WhatsApp user sent the business a message (any type)."""

    DETAIL_TYPE: ClassVar[DetailType] = DetailType.MESSAGE_RECEIVED

    wamid: str | None = Field(description="Meta's id of the inbound message")
    type: str | None = Field(description="message type; types new to us are passed on")
    from_phone: str | None = Field(default=None, description="sender's phone number (`from`)")
    from_user_id: str | None = Field(
        default=None, description="sender's business-scoped user id (`from_user_id`)"
    )
    profile_name: str | None = None
    username: str | None = None
    text: str | None = Field(
        default=None,
        description="what the user wrote or chose: text body, button text, list or button "
        "reply title, caption",
    )
    in_reply_to: ReplyTarget | None = Field(
        default=None, description="our message this one replies or reacts to, when known"
    )
    opt_change: Literal["opt_out", "opt_in"] | None = Field(
        default=None, description="the marketing opt-out this message recorded, if any"
    )
    errors: list[MetaError] = Field(default_factory=list)
    contact: dict[str, Any] | None = Field(
        default=None, description="Meta's contact object of the sender, as delivered"
    )


class TemplateUpdated(EventDetail):
    """``template.updated``: a template's status, quality, category or components changed."""

    DETAIL_TYPE: ClassVar[DetailType] = DetailType.TEMPLATE_UPDATED

    field: str = Field(description="the webhook field, e.g. message_template_status_update")
    event: str | None = Field(default=None, description="e.g. APPROVED, REJECTED, PAUSED")
    template_id: str | None = None
    template_name: str | None = None
    language: str | None = None
    category: str | None = None
    previous_category: str | None = None
    new_category: str | None = None
    previous_quality_score: str | None = None
    new_quality_score: str | None = None
    reason: str | None = None


class AccountUpdated(EventDetail):
    """``account.updated``: anything else Meta says about the account, errors included.

    Covers account_update, account_alerts, account_review_update,
    business_capability_update, user_preferences, errors Meta reports at the value level,
    and every webhook field this code does not know yet (passed on with its name).
    """

    DETAIL_TYPE: ClassVar[DetailType] = DetailType.ACCOUNT_UPDATED

    field: str | None = Field(description="the webhook field the update came in")
    event: str | None = None
    errors: list[MetaError] = Field(default_factory=list)


class NumberUpdated(EventDetail):
    """``number.updated``: a phone number's quality, messaging limit, throughput or name."""

    DETAIL_TYPE: ClassVar[DetailType] = DetailType.NUMBER_UPDATED

    field: str = Field(description="the webhook field, e.g. phone_number_quality_update")
    event: str | None = Field(default=None, description="e.g. UPGRADE, FLAGGED, THROUGHPUT_UPGRADE")
    display_phone_number: str | None = None
    current_limit: str | None = None
    old_limit: str | None = None
    max_daily_conversations_per_business: str | None = None
    throughput_level: str | None = None
    mps: float | None = Field(
        default=None,
        description="the throughput (messages per second) now applied to the number's limit",
    )


DETAIL_MODELS: dict[DetailType, type[EventDetail]] = {
    DetailType.MESSAGE_RECEIVED: MessageReceived,
    DetailType.MESSAGE_STATUS: MessageStatusChanged,
    DetailType.MESSAGE_FAILED: MessageFailed,
    DetailType.TEMPLATE_UPDATED: TemplateUpdated,
    DetailType.ACCOUNT_UPDATED: AccountUpdated,
    DetailType.NUMBER_UPDATED: NumberUpdated,
}
