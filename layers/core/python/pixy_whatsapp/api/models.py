"""Request and response bodies of the `/v1` API, as its OpenAPI document shows them."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from pixy_whatsapp.api.item_checks import (
    MAX_QUEUE_BODY_BYTES,
    Problem,
    located_error,
    message_problems,
    metadata_problems,
    uncarriable_strings,
)
from pixy_whatsapp.outbound import Category, SendRequest
from pixy_whatsapp.statuses import MessageError, MessageStatus

MAX_MESSAGES_PER_REQUEST = 100

_GRAPH_ID = r"^[0-9]{1,32}$"
_MESSAGE_ID = r"^[A-Za-z0-9_-]{1,64}$"
# SQS takes the key as the FIFO deduplication id: printable ASCII without spaces.
_DEDUPLICATION_ID = r"^[!-~]{1,128}$"


def _omit_none(value: object) -> bool:
    return value is None


# --- requests -----------------------------------------------------------------------------


class SendRequestInput(BaseModel):
    """One message to send: a `SendRequest` without the fields the API sets itself."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "waba_id": "102290129340398",
                    "phone_number_id": "106540352242922",
                    "to": "+15557654321",
                    "category": "utility",
                    "message": {"type": "text", "text": {"body": "Your order 1042 has shipped."}},
                    "client_reference": "order-1042",
                }
            ]
        },
    )

    id: Annotated[
        str | None,
        Field(
            pattern=_MESSAGE_ID,
            description="Our id for the message; assigned when absent. A known id is "
            "reported as a duplicate.",
        ),
    ] = None
    waba_id: Annotated[str, Field(pattern=_GRAPH_ID, description="WhatsApp Business Account")]
    phone_number_id: Annotated[
        str, Field(pattern=_GRAPH_ID, description="the business phone number that sends")
    ]
    to: Annotated[
        str | None,
        Field(min_length=1, max_length=64, description="recipient phone number"),
    ] = None
    recipient: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=160,
            description="recipient business-scoped user id, instead of `to`",
        ),
    ] = None
    message: dict[str, JsonValue] = Field(
        description="The Meta message object (type plus the object of that type, context, "
        "...), without messaging_product, to, recipient or biz_opaque_callback_data.",
    )
    category: Category = Category.SERVICE
    idempotency_key: Annotated[
        str | None,
        Field(
            pattern=_DEDUPLICATION_ID,
            description="the queue's deduplication id for five minutes; defaults to a hash "
            "of the request",
        ),
    ] = None
    client_reference: Annotated[str | None, Field(max_length=256)] = None
    not_after: Annotated[
        AwareDatetime | None,
        Field(description="deadline: the message fails as expired if not sent by then"),
    ] = None
    metadata: dict[str, JsonValue] = Field(
        default_factory=dict, description="opaque, echoed in status events (4 KiB at most)"
    )

    _request: SendRequest | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _check_strings(cls, data: Any) -> Any:
        problems = uncarriable_strings(data)
        if problems:
            raise located_error(cls.__name__, problems, data)
        return data

    @field_validator("message")
    @classmethod
    def _check_message(cls, message: dict[str, JsonValue]) -> dict[str, JsonValue]:
        problems = message_problems(message)
        if problems:
            raise located_error(cls.__name__, problems, message)
        return message

    @field_validator("metadata")
    @classmethod
    def _check_metadata(cls, metadata: dict[str, JsonValue]) -> dict[str, JsonValue]:
        problems = metadata_problems(metadata)
        if problems:
            raise located_error(cls.__name__, problems, metadata)
        return metadata

    @field_validator("not_after")
    @classmethod
    def _check_deadline(cls, not_after: datetime | None) -> datetime | None:
        if not_after is not None and not_after <= datetime.now(UTC):
            raise ValueError("is in the past: the message could never be sent")
        return not_after

    @model_validator(mode="after")
    def _build_request(self) -> SendRequestInput:
        problems: list[Problem] = []
        if self.to is None and self.recipient is None:
            problems.append(
                (("to",), "a recipient is required: `to` (phone number) or `recipient` (BSUID)")
            )
        elif self.to is not None and self.recipient is not None:
            problems.append((("recipient",), "give either `to` or `recipient`, not both"))
        if problems:
            raise located_error(type(self).__name__, problems, self)
        fields = self.model_dump(exclude={"id"} if self.id is None else set())
        try:
            request = SendRequest(**fields)
        except ValidationError as error:
            # The contract has the last word; what it adds here was not caught above.
            raise located_error(
                type(self).__name__,
                [(tuple(e["loc"]), e["msg"].removeprefix("Value error, ")) for e in error.errors()],
                self,
            ) from None
        size = len(request.model_dump_json(exclude_none=True).encode())
        if size > MAX_QUEUE_BODY_BYTES:
            raise located_error(
                type(self).__name__,
                [((), f"is {size} bytes as a queue message; the limit is {MAX_QUEUE_BODY_BYTES}")],
                self,
            )
        self._request = request
        return self

    def send_request(self) -> SendRequest:
        """The contract this input validated into (its id assigned if it had none)."""
        assert self._request is not None, "validated inputs always carry their request"
        return self._request


class SendMessagesRequest(BaseModel):
    """Body of `POST /v1/messages`."""

    model_config = ConfigDict(extra="forbid")

    messages: Annotated[
        list[SendRequestInput],
        Field(min_length=1, max_length=MAX_MESSAGES_PER_REQUEST),
    ]


# --- responses ----------------------------------------------------------------------------


class Outcome(StrEnum):
    """What the API did with one message of a request."""

    QUEUED = "queued"  # recorded and on the outbound queue
    DUPLICATE = "duplicate"  # its id (or deduplication id) was already taken: not sent twice
    FAILED = "failed"  # could not be queued; recorded as failed: resend under a new id


class MessageAcceptance(BaseModel):
    id: str
    status: Outcome
    reason: Annotated[
        str | None,
        Field(description="why a message failed or was a duplicate", exclude_if=_omit_none),
    ] = None
    detail: Annotated[
        str | None, Field(description="the queue's error, if any", exclude_if=_omit_none)
    ] = None


class SendMessagesResponse(BaseModel):
    """One entry per message of the request, in the request's order."""

    messages: list[MessageAcceptance]


class StatusChange(BaseModel):
    status: MessageStatus
    at: datetime


class MessageView(BaseModel):
    """A message's record: where it is now and how it got there."""

    id: str
    status: MessageStatus
    waba_id: str | None = None
    phone_number_id: str | None = None
    category: str | None = None
    wamid: Annotated[str | None, Field(description="Meta's id, once accepted")] = None
    client_reference: str | None = None
    metadata: dict[str, JsonValue] = {}
    attempts: Annotated[int, Field(description="sends tried so far")] = 0
    error: Annotated[
        MessageError | None, Field(description="why it failed (Meta's code, our class)")
    ] = None
    last_error: Annotated[
        MessageError | None, Field(description="the last retried problem, if any")
    ] = None
    pricing: dict[str, JsonValue] | None = None
    enqueued_at: datetime | None = None
    history: Annotated[list[StatusChange], Field(description="each status, first seen, in order")]


class QueueDepth(BaseModel):
    """SQS's approximate counts; `error` instead when the queue could not be read."""

    reachable: bool
    visible: int | None = None
    in_flight: int | None = None
    delayed: int | None = None
    error: str | None = None


class QueueDepths(BaseModel):
    outbound: QueueDepth
    outbound_dlq: QueueDepth
    inbound: QueueDepth
    inbound_dlq: QueueDepth


class BreakerView(BaseModel):
    """A circuit breaker's shared state; `error` instead when it could not be read."""

    state: str | None = None
    reason: str | None = None
    changed_at: datetime | None = None
    open_until: datetime | None = None
    error: str | None = None


class NumberLimitView(BaseModel):
    """The phone number's send limit; `error` instead when it could not be read."""

    mps: float | None = Field(default=None, description="messages per second allowed")
    source: str | None = Field(default=None, description="`override` (from Meta) or `default`")
    sustained_per_s: float | None = None
    burst: int | None = None
    reserved_ahead_ms: int | None = Field(
        default=None, description="how far ahead of now sends are already booked (0: idle)"
    )
    error: str | None = None


class PhoneNumberHealth(BaseModel):
    id: str
    breaker: BreakerView
    limit: NumberLimitView


class WabaHealth(BaseModel):
    id: str
    breaker: BreakerView


class HealthResponse(BaseModel):
    """`ok` (HTTP 200) when every queue answered, else `unavailable` (HTTP 503)."""

    status: str
    queues: QueueDepths
    phone_number: PhoneNumberHealth | None = None
    waba: WabaHealth | None = None


class ErrorDetail(BaseModel):
    path: Annotated[str, Field(description="where: `messages[3].message.text.body`, `query.x`")]
    message: str


class ErrorBody(BaseModel):
    """Every 4xx answer: what went wrong, and each problem with its place."""

    error: str
    details: list[ErrorDetail] = []
