"""`enqueue()`: put send requests on the outbound FIFO queue in batches of ten."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pixy_whatsapp.outbound.contract import SendRequest
from pixy_whatsapp.outbound.grouping import DEFAULT_SHARD_COUNT, message_group_id

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

SQS_BATCH_SIZE = 10


@dataclass(frozen=True, slots=True)
class EnqueueResult:
    """What happened to one request: `sqs_message_id` on success, else `error`."""

    id: str
    ok: bool
    sqs_message_id: str | None = None
    error: str | None = None


def _entries(
    batch: Sequence[SendRequest], shard_count: int
) -> list[SendMessageBatchRequestEntryTypeDef]:
    return [
        {
            "Id": str(index),
            "MessageBody": request.model_dump_json(exclude_none=True),
            "MessageGroupId": message_group_id(
                request.waba_id, request.phone_number_id, request.recipient_key, shard_count
            ),
            "MessageDeduplicationId": request.deduplication_id(),
        }
        for index, request in enumerate(batch)
    ]


def enqueue(
    sqs: SQSClient,
    queue_url: str,
    requests: Iterable[SendRequest],
    *,
    shard_count: int = DEFAULT_SHARD_COUNT,
) -> list[EnqueueResult]:
    """Send requests with SendMessageBatch; one result per request, in input order.

    Partial failures are reported per message, never raised: the caller decides
    whether to retry the failed ones (retrying is safe: the deduplication id is
    stable for five minutes).
    """
    stamped = [
        r if r.enqueued_at is not None else r.model_copy(update={"enqueued_at": datetime.now(UTC)})
        for r in requests
    ]
    results: list[EnqueueResult] = []
    for start in range(0, len(stamped), SQS_BATCH_SIZE):
        batch = stamped[start : start + SQS_BATCH_SIZE]
        try:
            response = sqs.send_message_batch(
                QueueUrl=queue_url, Entries=_entries(batch, shard_count)
            )
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            results.extend(EnqueueResult(id=r.id, ok=False, error=reason) for r in batch)
            continue
        by_index: dict[int, EnqueueResult] = {}
        for ok in response.get("Successful", []):
            index = int(ok["Id"])
            by_index[index] = EnqueueResult(
                id=batch[index].id, ok=True, sqs_message_id=ok["MessageId"]
            )
        for failed in response.get("Failed", []):
            index = int(failed["Id"])
            reason = f"{failed.get('Code', 'Error')}: {failed.get('Message', '')}".strip()
            by_index[index] = EnqueueResult(id=batch[index].id, ok=False, error=reason)
        results.extend(
            by_index.get(i, EnqueueResult(id=r.id, ok=False, error="no answer from SQS"))
            for i, r in enumerate(batch)
        )
    return results
