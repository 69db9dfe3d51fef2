"""Typed answers of the Graph API calls the client makes.

Parsing is tolerant in the sense the inbound side is: fields Meta adds later
are kept (`extra="allow"`), only the fields an operation cannot do without are
required.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class SentContact(BaseModel):
    """One entry of `contacts[]` in a send answer.

    `input` is what we sent; `wa_id` is Meta's normalised id for it, which may
    differ (country prefixes) or be missing (recipients addressed by BSUID).
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    input: str | None = None
    wa_id: str | None = None


class SendResult(BaseModel):
    """Meta accepted a message. Acceptance only: delivery arrives later as status webhooks."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    wamid: str = Field(min_length=1)
    # Present only for templates under pacing ("accepted", "held_for_quality_assessment").
    message_status: str | None = None
    contacts: tuple[SentContact, ...] = ()
    latency_ms: float

    @classmethod
    def from_answer(cls, answer: dict[str, Any], *, latency_ms: float) -> SendResult:
        """Read `{"messages": [{"id", "message_status"?}], "contacts": [...]}`; raises if absent."""
        messages = answer.get("messages")
        if not isinstance(messages, list) or not messages or not isinstance(messages[0], dict):
            raise ValueError("no messages[0] in the answer")
        first = messages[0]
        return cls.model_validate(
            {
                "wamid": first.get("id"),
                "message_status": first.get("message_status"),
                "contacts": answer.get("contacts") or (),
                "latency_ms": latency_ms,
            }
        )


class SubscribedApp(BaseModel):
    """An app subscribed to a WABA's webhooks.

    Meta's documents show two shapes: the examples nest the app under
    `whatsapp_business_api_data`, the schema has a flat `{id, name}`. Both are
    read into the same fields.
    """

    model_config = ConfigDict(frozen=True, extra="allow", coerce_numbers_to_str=True)

    id: str | None = None
    name: str | None = None
    link: str | None = None
    override_callback_uri: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _flatten(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        nested = data.get("whatsapp_business_api_data")
        if not isinstance(nested, dict):
            return data
        flat = {key: value for key, value in data.items() if key != "whatsapp_business_api_data"}
        for key, value in nested.items():
            flat.setdefault(key, value)
        return flat
