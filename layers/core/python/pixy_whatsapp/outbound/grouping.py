"""Message group ids for the outbound FIFO queue.

A group is both SQS's unit of ordering and of fairness: `{waba_id}#{shard}`
keeps one tenant's backlog from blocking another, and sharding a WABA by
(phone number, recipient) lets one WABA use many concurrent senders while each
recipient's messages stay in order. One shard gives strict per-WABA FIFO.
"""

from __future__ import annotations

import hashlib

DEFAULT_SHARD_COUNT = 16


def shard_of(phone_number_id: str, recipient: str, shard_count: int) -> int:
    """A stable shard: the same on every machine and Python version (no `hash()`)."""
    if shard_count < 1:
        raise ValueError("shard_count must be at least 1")
    digest = hashlib.blake2b(f"{phone_number_id}:{recipient}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shard_count


def message_group_id(
    waba_id: str, phone_number_id: str, recipient: str, shard_count: int = DEFAULT_SHARD_COUNT
) -> str:
    return f"{waba_id}#{shard_of(phone_number_id, recipient, shard_count)}"
