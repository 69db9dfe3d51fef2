"""The outbound queue: the send request contract and the helper that enqueues it."""

from pixy_whatsapp.outbound.contract import (
    CONTRACT_VERSION,
    Category,
    SendRequest,
    new_message_id,
    send_request_json_schema,
)
from pixy_whatsapp.outbound.enqueue import EnqueueResult, enqueue
from pixy_whatsapp.outbound.grouping import DEFAULT_SHARD_COUNT, message_group_id, shard_of

__all__ = [
    "CONTRACT_VERSION",
    "DEFAULT_SHARD_COUNT",
    "Category",
    "EnqueueResult",
    "SendRequest",
    "enqueue",
    "message_group_id",
    "new_message_id",
    "send_request_json_schema",
    "shard_of",
]
