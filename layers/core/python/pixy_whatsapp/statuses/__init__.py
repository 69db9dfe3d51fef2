"""Message statuses and the messages table that records them."""

from pixy_whatsapp.statuses.model import (
    RANK,
    TERMINAL,
    MessageError,
    MessageRecord,
    MessageStatus,
    StatusEntry,
)
from pixy_whatsapp.statuses.store import (
    WAMID_INDEX,
    ApplyResult,
    Claim,
    ClaimConflict,
    ClaimOutcome,
    MessageStore,
    now_ms,
)

__all__ = [
    "RANK",
    "TERMINAL",
    "WAMID_INDEX",
    "ApplyResult",
    "Claim",
    "ClaimConflict",
    "ClaimOutcome",
    "MessageError",
    "MessageRecord",
    "MessageStatus",
    "MessageStore",
    "StatusEntry",
    "now_ms",
]
