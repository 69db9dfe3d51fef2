"""The idempotency table: one item per thing the inbound processor must do only once.

Keys (string partition key ``pk``, TTL on ``expires_at``):

    inbound#{wamid}                     an inbound message (or inbound#sha:{digest} if it has no id)
    status#{message_id}#{status}        the events of one status of one of our messages
    status#wamid#{wamid}#{status}       the same for a message we cannot find
    change#{digest}                     one account, template or number update

An item is claimed (``state = in_progress`` with a lease), then completed
(``state = done``) once the events it guards are published. A claim that finds ``done``
means the work was finished before; one that finds a live lease means another invocation
is doing it right now (retry later); an expired lease means that invocation died, and the
work is taken over. Releasing deletes the item, so a retry of a failed record redoes it at
once instead of waiting out the lease.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from pixy_whatsapp.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import WriteRequestTypeDef

DONE = "done"
IN_PROGRESS = "in_progress"
# Longer than the inbound function's timeout, so a live invocation is never overtaken,
# and shorter than the queue's visibility timeout, so the retry of a record whose
# invocation died finds the lease expired.
DEFAULT_LEASE_SECONDS = 120
_BATCH_WRITE_LIMIT = 25
_BATCH_WRITE_ATTEMPTS = 4


class GuardState(StrEnum):
    NEW = "new"  # claimed now: do the work
    DONE = "done"  # finished before: skip it
    BUSY = "busy"  # another invocation holds the lease: retry later


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class GuardStore:
    """Claims in the idempotency table (see the module docstring)."""

    def __init__(
        self,
        dynamodb: DynamoDBClient,
        table_name: str,
        *,
        ttl_seconds: int,
        lease_seconds: int = DEFAULT_LEASE_SECONDS,
        clock_ms: Callable[[], int] = _now_ms,
    ) -> None:
        self._ddb = dynamodb
        self._table = table_name
        self._ttl_s = ttl_seconds
        self._lease_ms = lease_seconds * 1000
        self._clock_ms = clock_ms

    def claim(self, key: str) -> GuardState:
        now = self._clock_ms()
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": key},
                    "state": {"S": IN_PROGRESS},
                    "lease_until": {"N": str(now + self._lease_ms)},
                    "expires_at": {"N": str(now // 1000 + self._ttl_s)},
                },
                # DynamoDB deletes expired items lazily (within days): one past its TTL is
                # treated as gone.
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now_s "
                "OR (#state = :in_progress AND lease_until < :now_ms)",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":now_s": {"N": str(now // 1000)},
                    ":now_ms": {"N": str(now)},
                    ":in_progress": {"S": IN_PROGRESS},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._ddb.exceptions.ConditionalCheckFailedException as exc:
            old: dict[str, Any] = exc.response.get("Item") or {}  # type: ignore[assignment]
            state = old.get("state", {}).get("S")
            return GuardState.DONE if state == DONE else GuardState.BUSY
        return GuardState.NEW

    def complete(self, keys: Sequence[str]) -> None:
        """Mark claimed keys done. Best effort: the events they guard are already out."""
        expires_at = str(self._clock_ms() // 1000 + self._ttl_s)
        self._batch_write(
            [
                {
                    "PutRequest": {
                        "Item": {
                            "pk": {"S": key},
                            "state": {"S": DONE},
                            "expires_at": {"N": expires_at},
                        }
                    }
                }
                for key in keys
            ],
            "complete",
        )

    def release(self, keys: Sequence[str]) -> None:
        """Give up claimed keys so a retry can take them at once. Best effort.

        Unconditional: the lease outlives the invocation that holds it, so nobody else
        can have taken these keys over while we still run.
        """
        self._batch_write(
            [{"DeleteRequest": {"Key": {"pk": {"S": key}}}} for key in keys], "release"
        )

    def _batch_write(self, requests: list[WriteRequestTypeDef], what: str) -> None:
        for start in range(0, len(requests), _BATCH_WRITE_LIMIT):
            pending = requests[start : start + _BATCH_WRITE_LIMIT]
            for attempt in range(_BATCH_WRITE_ATTEMPTS):
                try:
                    response = self._ddb.batch_write_item(RequestItems={self._table: pending})
                except Exception:
                    # A guard left in progress only delays a later duplicate until its
                    # lease ends; it never loses work, so this must not fail the record.
                    logger.warning(f"could not {what} idempotency guards", exc_info=True)
                    return
                unprocessed = response.get("UnprocessedItems", {}).get(self._table, [])
                pending = cast("list[WriteRequestTypeDef]", unprocessed)
                if not pending:
                    break
                time.sleep(0.05 * 2**attempt)
            if pending:
                logger.warning(
                    f"could not {what} some idempotency guards", extra={"count": len(pending)}
                )
