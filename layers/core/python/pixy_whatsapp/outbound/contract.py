"""The outbound queue contract: what other systems put on the outbound FIFO queue.

A `SendRequest` is the SQS message body, versioned so the sender can refuse a
body it does not understand instead of guessing. It never carries an access
token: tokens live in Secrets Manager, one secret per WABA.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    field_validator,
    model_validator,
)

CONTRACT_VERSION: Literal["1"] = "1"

_GRAPH_ID = r"^[0-9]{1,32}$"
_MESSAGE_ID = r"^[A-Za-z0-9_-]{1,64}$"
# Meta rejects `biz_opaque_callback_data` above 512 characters; our id is far below.
_MAX_METADATA_BYTES = 4096


class Category(StrEnum):
    """What Meta bills the message as; marketing is what opt-outs suppress."""

    MARKETING = "marketing"
    UTILITY = "utility"
    AUTHENTICATION = "authentication"
    SERVICE = "service"


def new_message_id() -> str:
    """Our id for a message; also sent to Meta as `biz_opaque_callback_data`."""
    return uuid.uuid4().hex


class SendRequest(BaseModel):
    """One message to send, as it travels on the outbound queue."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal["1"] = CONTRACT_VERSION
    id: Annotated[str, Field(pattern=_MESSAGE_ID, default_factory=new_message_id)]
    waba_id: Annotated[str, Field(pattern=_GRAPH_ID)]
    phone_number_id: Annotated[str, Field(pattern=_GRAPH_ID)]
    to: Annotated[str | None, Field(min_length=1, max_length=64)] = None
    recipient: Annotated[str | None, Field(min_length=1, max_length=160)] = None
    message: dict[str, JsonValue] = Field(
        description=(
            "The Meta message object (type plus the object of that type, context, ...), "
            "without messaging_product, to or recipient: those are set by the sender."
        )
    )
    category: Category = Category.SERVICE
    # It becomes the SQS deduplication id, which takes printable ASCII only.
    idempotency_key: Annotated[str | None, Field(pattern=r"^[!-~]{1,128}$")] = None
    client_reference: Annotated[str | None, Field(max_length=256)] = None
    not_after: AwareDatetime | None = None
    metadata: dict[str, JsonValue] = Field(default_factory=dict)
    enqueued_at: AwareDatetime | None = None

    @field_validator("to")
    @classmethod
    def _normalize_phone(cls, value: str | None) -> str | None:
        """Digits only, as Meta writes `from`/`wa_id`, so opt-outs and windows match."""
        if value is None:
            return None
        digits = re.sub(r"[\s().+-]", "", value)
        if not digits.isdigit() or not 5 <= len(digits) <= 20:
            raise ValueError(
                "'to' must be a phone number in international format, e.g. +15551234567"
            )
        return digits

    @model_validator(mode="after")
    def _check(self) -> SendRequest:
        if (self.to is None) == (self.recipient is None):
            raise ValueError(
                "exactly one of 'to' (phone number) or 'recipient' (BSUID) is required"
            )
        for key in ("messaging_product", "to", "recipient", "biz_opaque_callback_data"):
            if key in self.message:
                raise ValueError(f"message must not contain '{key}': the sender sets it")
        if len(json.dumps(self.metadata, separators=(",", ":"))) > _MAX_METADATA_BYTES:
            raise ValueError(f"metadata is larger than {_MAX_METADATA_BYTES} bytes")
        # Imported here: the generated models are large and only needed to validate.
        from pixy_whatsapp.models import validate_message

        problems = validate_message(self.graph_body())
        if problems:
            raise ValueError(
                "; ".join(f"message{p.path.removeprefix('$')}: {p.message}" for p in problems)
            )
        return self

    @property
    def recipient_key(self) -> str:
        """The recipient as Meta's pair limit sees it: phone number or BSUID."""
        return self.to if self.to is not None else str(self.recipient)

    def graph_body(self) -> dict[str, Any]:
        """The body of `POST /{phone_number_id}/messages`, without the callback data."""
        body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual"}
        if self.to is not None:
            body["to"] = self.to
        else:
            body["recipient"] = self.recipient
        body.update(self.message)
        return body

    def deduplication_id(self) -> str:
        """The FIFO deduplication id: the client's key, else a hash of the request.

        The hash includes our id: two requests with the same content are two messages
        unless they are the same request sent again.
        """
        if self.idempotency_key is not None:
            return self.idempotency_key
        canonical = self.model_dump_json(exclude={"enqueued_at"})
        return hashlib.sha256(canonical.encode()).hexdigest()

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.not_after is not None and (now or datetime.now(UTC)) > self.not_after


def send_request_json_schema() -> dict[str, Any]:
    """JSON Schema for non-Python producers (published in docs/contract/)."""
    schema = SendRequest.model_json_schema()
    schema["$id"] = "https://pixy-whatsapp/contract/send-request.v1.json"
    schema["title"] = "SendRequest"
    return schema
