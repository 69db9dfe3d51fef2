"""A message's life as the messages table records it.

Statuses only move forward: queued < sending < accepted < sent < delivered <
read, and failed is terminal. Each status's first time is its own attribute
(`t_<status>`), so the record a message ends with does not depend on the order
or the number of times Meta delivered its status webhooks.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict


class MessageStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    ACCEPTED = "accepted"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


RANK: dict[MessageStatus, int] = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.ACCEPTED: 2,
    MessageStatus.SENT: 3,
    MessageStatus.DELIVERED: 4,
    MessageStatus.READ: 5,
    MessageStatus.FAILED: 9,
}

# Statuses that appear in the history (queued and sending are the sender's own bookkeeping
# and are kept too, so an operator sees when a message waited and when it was tried).
HISTORY_ORDER: tuple[MessageStatus, ...] = tuple(RANK)

TERMINAL: frozenset[MessageStatus] = frozenset({MessageStatus.READ, MessageStatus.FAILED})


class MessageError(BaseModel):
    """Why a message failed or was retried: Meta's code and our classification."""

    model_config = ConfigDict(extra="ignore")

    reason: str
    code: int | None = None
    title: str | None = None
    details: str | None = None
    error_class: str | None = None
    source: str = "sender"


class StatusEntry(BaseModel):
    status: MessageStatus
    at_ms: int


class MessageRecord(BaseModel):
    """A message as `GET /v1/messages/{id}` shows it."""

    model_config = ConfigDict(extra="ignore")

    id: str
    status: MessageStatus
    waba_id: str | None = None
    phone_number_id: str | None = None
    wamid: str | None = None
    recipient: str | None = None
    category: str | None = None
    client_reference: str | None = None
    metadata: dict[str, Any] = {}
    attempts: int = 0
    error: MessageError | None = None
    last_error: MessageError | None = None
    pricing: dict[str, Any] | None = None
    history: list[StatusEntry] = []
    enqueued_at_ms: int | None = None
