"""The messages table: one item per message, keyed `msg#{id}`.

The item is also the sender's idempotency guard: `claim()` moves it to
`sending` with one conditional write, and the old item that a refused claim
returns tells the sender why (already accepted, already failed, or a previous
attempt that may have reached Meta).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from pixy_whatsapp.statuses.model import (
    HISTORY_ORDER,
    RANK,
    MessageError,
    MessageRecord,
    MessageStatus,
    StatusEntry,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    from pixy_whatsapp.outbound.contract import SendRequest

WAMID_INDEX = "by-wamid"
_BATCH_GET_LIMIT = 100
DEFAULT_RETENTION_DAYS = 30

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _key(message_id: str) -> dict[str, AttributeValueTypeDef]:
    return {"pk": {"S": f"msg#{message_id}"}}


def _values(values: dict[str, Any]) -> dict[str, AttributeValueTypeDef]:
    return {k: _serializer.serialize(v) for k, v in values.items()}


def _item(raw: dict[str, Any] | None) -> dict[str, Any]:
    if not raw:
        return {}
    return {k: _deserializer.deserialize(v) for k, v in raw.items()}


def _decimals(value: Any) -> Any:
    """DynamoDB takes numbers as Decimal, never float."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    return value


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class ClaimOutcome(StrEnum):
    CLAIMED = "claimed"
    ALREADY_DONE = "already_done"  # accepted or beyond: a redelivery, nothing to send
    ALREADY_FAILED = "already_failed"
    IN_FLIGHT = "in_flight"  # a previous attempt is `sending`: it may have reached Meta


@dataclass(frozen=True, slots=True)
class Claim:
    outcome: ClaimOutcome
    attempt: int
    sending_at_ms: int | None = None
    ambiguous: bool = False
    # The whole item as this claim wrote it: `record_accepted` writes it back with the
    # outcome, conditioned on nothing having changed since.
    item: Mapping[str, Any] | None = None


class ClaimConflict(Exception):
    """The item kept changing under the claim: another delivery is working on it."""


class ApplyResult(StrEnum):
    CURRENT = "current"  # the status is new and is now the message's status
    LATE = "late"  # new, but the message is already further along: recorded, status kept
    DUPLICATE = "duplicate"  # seen before: nothing changed


class MessageStore:
    """DynamoDB implementation of the messages table."""

    def __init__(
        self,
        dynamodb: DynamoDBClient,
        table_name: str,
        *,
        retention_days: int = DEFAULT_RETENTION_DAYS,
    ) -> None:
        self._ddb = dynamodb
        self._table = table_name
        self._retention_s = retention_days * 86_400

    def _expires_at(self, at_ms: int) -> int:
        return at_ms // 1000 + self._retention_s

    @staticmethod
    def descriptive(request: SendRequest) -> dict[str, Any]:
        values: dict[str, Any] = {
            "id": request.id,
            "waba_id": request.waba_id,
            "phone_number_id": request.phone_number_id,
            "recipient": request.recipient_key,
            "category": request.category.value,
            "metadata": _decimals(request.metadata),
        }
        if request.client_reference is not None:
            values["client_reference"] = request.client_reference
        if request.enqueued_at is not None:
            values["enqueued_at_ms"] = int(request.enqueued_at.timestamp() * 1000)
        return values

    def record_queued(self, request: SendRequest, at_ms: int | None = None) -> bool:
        """Record a message the API accepted; False if its id is already known."""
        at = at_ms if at_ms is not None else now_ms()
        item = {
            "pk": f"msg#{request.id}",
            "req": self.descriptive(request),
            "st": MessageStatus.QUEUED.value,
            "rk": RANK[MessageStatus.QUEUED],
            "t_queued": at,
            "attempts": 0,
            "expires_at": self._expires_at(at),
        }
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item=_values(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self._ddb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def claim(self, request: SendRequest, at_ms: int | None = None) -> Claim:
        """Move a queued (or unknown) message to `sending`: one read, one conditional put."""
        return self.claim_from(request, self.read_many([request.id]).get(request.id), at_ms)

    def claim_from(
        self,
        request: SendRequest,
        current: Mapping[str, Any] | None,
        at_ms: int | None = None,
        *,
        max_conflicts: int = 3,
    ) -> Claim:
        """Claim against the item as last read (`read_many`), with one conditional put.

        A put conditioned on the item being exactly what was read (still queued, same
        attempt count) is the claim: it carries every attribute forward, so nothing
        another writer added can be lost, and a refusal returns the item that won.
        A message already past `queued` is refused without a write.
        """
        at = at_ms if at_ms is not None else now_ms()
        old: Mapping[str, Any] | None = current
        for _ in range(max_conflicts):
            refused = self.refusal(old)
            if refused is not None:
                return refused
            item, condition, values = self._claimed_item(request, old, at)
            try:
                put: dict[str, Any] = {
                    "TableName": self._table,
                    "Item": _values(item),
                    "ConditionExpression": condition,
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
                if values:
                    put["ExpressionAttributeValues"] = _values(values)
                self._ddb.put_item(**put)
            except self._ddb.exceptions.ConditionalCheckFailedException as exc:
                old = _item(exc.response.get("Item"))  # type: ignore[arg-type]
                continue
            return Claim(
                ClaimOutcome.CLAIMED, attempt=int(item["attempts"]), sending_at_ms=at, item=item
            )
        raise ClaimConflict(f"message {request.id} changed under {max_conflicts} claims")

    def _claimed_item(
        self, request: SendRequest, old: Mapping[str, Any] | None, at: int
    ) -> tuple[dict[str, Any], str, dict[str, Any]]:
        values: dict[str, Any]
        if not old:
            item: dict[str, Any] = {"pk": f"msg#{request.id}", "t_queued": at}
            condition, values = "attribute_not_exists(pk)", {}
        else:
            item = dict(old)
            clauses: list[str] = []
            values = {}
            for name in ("rk", "attempts"):
                if name in old:
                    clauses.append(f"{name} = :{name}")
                    values[f":{name}"] = old[name]
                else:
                    clauses.append(f"attribute_not_exists({name})")
            condition = " AND ".join(clauses)
        item.setdefault("req", self.descriptive(request))
        item.setdefault("t_queued", at)
        item.update(
            st=MessageStatus.SENDING.value,
            rk=RANK[MessageStatus.SENDING],
            sending_at_ms=at,
            attempts=int((old or {}).get("attempts", 0)) + 1,
            expires_at=self._expires_at(at),
        )
        return item, condition, values

    def record_accepted(self, message_id: str, claim: Claim, at_ms: int, wamid: str) -> ApplyResult:
        """`accepted` onto the claimed item with one conditional put.

        If anything moved the item since the claim (a status webhook can beat us), the
        general `apply_status` path merges instead.
        """
        if claim.item is None:
            return self.apply_status(message_id, MessageStatus.ACCEPTED, at_ms, wamid=wamid)
        item = dict(claim.item) | {
            "st": MessageStatus.ACCEPTED.value,
            "rk": RANK[MessageStatus.ACCEPTED],
            "t_accepted": at_ms,
            "wamid": wamid,
        }
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item=_values(item),
                ConditionExpression="rk = :rk_sending AND attempts = :attempt",
                ExpressionAttributeValues=_values(
                    {":rk_sending": RANK[MessageStatus.SENDING], ":attempt": claim.attempt}
                ),
            )
        except self._ddb.exceptions.ConditionalCheckFailedException:
            return self.apply_status(message_id, MessageStatus.ACCEPTED, at_ms, wamid=wamid)
        return ApplyResult.CURRENT

    @staticmethod
    def refusal(old: Mapping[str, Any] | None) -> Claim | None:
        """Why a claim of this item (as read) would be refused; None if it can be claimed."""
        if not old:
            return None
        rank = int(old.get("rk", RANK[MessageStatus.QUEUED]))
        if rank == RANK[MessageStatus.QUEUED]:
            return None
        attempt = int(old.get("attempts", 0))
        if rank == RANK[MessageStatus.FAILED]:
            return Claim(ClaimOutcome.ALREADY_FAILED, attempt)
        if rank >= RANK[MessageStatus.ACCEPTED]:
            return Claim(ClaimOutcome.ALREADY_DONE, attempt)
        sending_at = old.get("sending_at_ms")
        return Claim(
            ClaimOutcome.IN_FLIGHT,
            attempt,
            sending_at_ms=int(sending_at) if sending_at is not None else None,
            ambiguous=bool(old.get("ambiguous", False)),
        )

    def reclaim(self, message_id: str, attempt: int, at_ms: int | None = None) -> Claim | None:
        """Take over an in-flight attempt whose correlation window passed unresolved."""
        at = at_ms if at_ms is not None else now_ms()
        try:
            response = self._ddb.update_item(
                TableName=self._table,
                Key=_key(message_id),
                UpdateExpression=(
                    "SET sending_at_ms = :now, attempts = attempts + :one REMOVE ambiguous"
                ),
                ConditionExpression="rk = :rk_sending AND attempts = :attempt",
                ExpressionAttributeValues=_values(
                    {":now": at, ":one": 1, ":rk_sending": 1, ":attempt": attempt}
                ),
                ReturnValues="ALL_NEW",
            )
        except self._ddb.exceptions.ConditionalCheckFailedException:
            return None
        new = _item(response.get("Attributes"))
        return Claim(ClaimOutcome.CLAIMED, attempt=int(new["attempts"]), sending_at_ms=at)

    def release(
        self,
        message_id: str,
        attempt: int,
        error: MessageError | None,
        *,
        sent: bool = True,
    ) -> bool:
        """Back to `queued` after an attempt that surely did not reach Meta.

        `sent=False` when the message was claimed but never tried (held back by a limit,
        a breaker or an earlier message of its recipient): the attempt is not counted.
        """
        values: dict[str, Any] = {
            ":queued": MessageStatus.QUEUED.value,
            ":rk_queued": 0,
            ":rk_sending": 1,
            ":attempt": attempt,
        }
        update = "SET st = :queued, rk = :rk_queued"
        if not sent:
            update += ", attempts = attempts - :one"
            values[":one"] = 1
        if error is not None:
            update += ", last_error = :err"
            values[":err"] = error.model_dump(exclude_none=True)
        return self._conditional(
            message_id, update, "rk = :rk_sending AND attempts = :attempt", values
        )

    def mark_ambiguous(self, message_id: str, attempt: int, error: MessageError) -> bool:
        """Keep `sending` but note that the attempt may have reached Meta."""
        return self._conditional(
            message_id,
            "SET ambiguous = :true, last_error = :err",
            "rk = :rk_sending AND attempts = :attempt",
            {
                ":true": True,
                ":err": error.model_dump(exclude_none=True),
                ":rk_sending": 1,
                ":attempt": attempt,
            },
        )

    def _conditional(
        self, message_id: str, update: str, condition: str, values: dict[str, Any]
    ) -> bool:
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key=_key(message_id),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=_values(values),
            )
        except self._ddb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def apply_status(
        self,
        message_id: str,
        status: MessageStatus,
        at_ms: int,
        *,
        wamid: str | None = None,
        error: MessageError | None = None,
        pricing: dict[str, Any] | None = None,
        descriptive: dict[str, Any] | None = None,
    ) -> ApplyResult:
        """Record a status (accepted onward) without ever moving the message backwards.

        The first write makes the status current when it ranks above the present
        one; a refused write that shows the status was never seen records its
        time only (a late status); a status already seen changes nothing.
        """
        if RANK[status] < RANK[MessageStatus.ACCEPTED]:
            raise ValueError(f"{status} is the sender's bookkeeping, not a status to apply")
        time_attr = f"t_{status.value}"
        once: dict[str, Any] = dict(descriptive or {})
        if wamid is not None:
            once["wamid"] = wamid
        if pricing is not None:
            once["pricing"] = pricing
        names = {f"#{k}": k for k in once} | {"#t": time_attr}
        once_sets = "".join(f", #{k} = if_not_exists(#{k}, :{k})" for k in once)
        values = {f":{k}": v for k, v in once.items()} | {":at": at_ms}
        current_sets = "st = :st, rk = :rk"
        current_values: dict[str, Any] = {":st": status.value, ":rk": RANK[status]}
        if error is not None:
            current_sets += ", #error = :error"
            names["#error"] = "error"
            current_values[":error"] = error.model_dump(exclude_none=True)
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key=_key(message_id),
                UpdateExpression=f"SET #t = :at, {current_sets}{once_sets}, "
                "expires_at = if_not_exists(expires_at, :exp)",
                ConditionExpression="attribute_not_exists(#t) AND "
                "(attribute_not_exists(rk) OR rk < :rk)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=_values(
                    values | current_values | {":exp": self._expires_at(at_ms)}
                ),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._ddb.exceptions.ConditionalCheckFailedException as exc:
            old = _item(exc.response.get("Item"))  # type: ignore[arg-type]
            if time_attr in old:
                return ApplyResult.DUPLICATE
        else:
            return ApplyResult.CURRENT
        late_names = {k: v for k, v in names.items() if k != "#error"}
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key=_key(message_id),
                UpdateExpression=f"SET #t = :at{once_sets}",
                ConditionExpression="attribute_not_exists(#t)",
                ExpressionAttributeNames=late_names,
                ExpressionAttributeValues=_values(values),
            )
        except self._ddb.exceptions.ConditionalCheckFailedException:
            return ApplyResult.DUPLICATE
        return ApplyResult.LATE

    def get(self, message_id: str) -> MessageRecord | None:
        response = self._ddb.get_item(
            TableName=self._table, Key=_key(message_id), ConsistentRead=True
        )
        item = _item(response.get("Item"))
        return _record(item) if item else None

    def get_many(self, message_ids: Iterable[str]) -> dict[str, MessageRecord]:
        """Records by id (consistent reads, 100 a request); unknown ids are left out."""
        return {i: _record(item) for i, item in self.read_many(message_ids).items()}

    def read_many(self, message_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Raw items by id (consistent reads, 100 a request); unknown ids are left out."""
        wanted = list(dict.fromkeys(message_ids))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), _BATCH_GET_LIMIT):
            request: dict[str, Any] = {
                self._table: {
                    "Keys": [_key(i) for i in wanted[start : start + _BATCH_GET_LIMIT]],
                    "ConsistentRead": True,
                }
            }
            while request:
                response = self._ddb.batch_get_item(RequestItems=request)
                for raw in response.get("Responses", {}).get(self._table, []):
                    item = _item(raw)
                    found[str(item["pk"]).removeprefix("msg#")] = item
                request = dict(response.get("UnprocessedKeys") or {})
        return found

    def find_by_wamid(self, wamid: str) -> str | None:
        response = self._ddb.query(
            TableName=self._table,
            IndexName=WAMID_INDEX,
            KeyConditionExpression="wamid = :w",
            ExpressionAttributeValues={":w": {"S": wamid}},
            Limit=1,
        )
        items = response.get("Items", [])
        # The index projects keys only: the id is the table key without its prefix.
        return str(items[0]["pk"]["S"]).removeprefix("msg#") if items else None


def _record(raw: dict[str, Any]) -> MessageRecord:
    # The send request's fields live in `req`; fields written on their own (by a status
    # that arrived before the message was known) sit beside it.
    item = {**(raw.get("req") or {}), **raw}
    if "sending_at_ms" in item:  # the latest attempt's start stands for `sending`
        item.setdefault("t_sending", item["sending_at_ms"])
    history = sorted(
        (
            StatusEntry(status=s, at_ms=int(item[f"t_{s.value}"]))
            for s in HISTORY_ORDER
            if f"t_{s.value}" in item
        ),
        key=lambda e: (e.at_ms, RANK[e.status]),
    )
    return MessageRecord(
        id=str(item.get("id") or str(item["pk"]).removeprefix("msg#")),
        status=MessageStatus(item.get("st", MessageStatus.QUEUED.value)),
        waba_id=item.get("waba_id"),
        phone_number_id=item.get("phone_number_id"),
        wamid=item.get("wamid"),
        recipient=item.get("recipient"),
        category=item.get("category"),
        client_reference=item.get("client_reference"),
        metadata=item.get("metadata") or {},
        attempts=int(item.get("attempts", 0)),
        error=item.get("error"),
        last_error=item.get("last_error"),
        pricing=item.get("pricing"),
        history=history,
        enqueued_at_ms=int(item["enqueued_at_ms"]) if "enqueued_at_ms" in item else None,
    )
