"""The contacts table: what we know of each recipient of a WABA.

Keyed `contact#{waba_id}#{recipient}` (phone number or business-scoped user id)
because Meta's marketing opt-out is from the business, not from one number. The
sender reads it for opt-outs; the inbound processor writes opt-outs and the time
of the last inbound message (the 24-hour customer-service window).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

_BATCH_GET_LIMIT = 100
_deserializer = TypeDeserializer()


def contact_key(waba_id: str, recipient: str) -> str:
    return f"contact#{waba_id}#{recipient}"


@dataclass(frozen=True, slots=True)
class Contact:
    waba_id: str
    recipient: str
    opted_out_marketing: bool = False
    opted_out_at_ms: int | None = None
    opt_out_source: str | None = None
    last_inbound_at_ms: int | None = None

    def window_open(self, now_ms: int) -> bool:
        """Whether the 24-hour customer-service window is open."""
        return self.last_inbound_at_ms is not None and now_ms - self.last_inbound_at_ms < 86_400_000


class ContactStore:
    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._ddb = dynamodb
        self._table = table_name

    def get_many(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Contact]:
        """Contacts by (waba_id, recipient); unknown ones come back with defaults."""
        wanted = list(dict.fromkeys(keys))
        found: dict[tuple[str, str], Contact] = {k: Contact(*k) for k in wanted}
        for start in range(0, len(wanted), _BATCH_GET_LIMIT):
            chunk = wanted[start : start + _BATCH_GET_LIMIT]
            request: dict[str, Any] = {
                self._table: {"Keys": [{"pk": {"S": contact_key(*k)}} for k in chunk]}
            }
            while request:
                response = self._ddb.batch_get_item(RequestItems=request)
                for raw in response.get("Responses", {}).get(self._table, []):
                    contact = _contact(raw)
                    found[(contact.waba_id, contact.recipient)] = contact
                request = dict(response.get("UnprocessedKeys") or {})
        return found

    def set_opt_out(
        self, waba_id: str, recipient: str, *, opted_out: bool, at_ms: int, source: str
    ) -> None:
        """Record an opt-out or opt-in; an older event never overrides a newer one."""
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key={"pk": {"S": contact_key(waba_id, recipient)}},
                UpdateExpression="SET waba_id = :w, recipient = :r, opted_out_marketing = :o, "
                "opted_out_at_ms = :at, opt_out_source = :src",
                ConditionExpression="attribute_not_exists(opted_out_at_ms) "
                "OR opted_out_at_ms <= :at",
                ExpressionAttributeValues={
                    ":w": {"S": waba_id},
                    ":r": {"S": recipient},
                    ":o": {"BOOL": opted_out},
                    ":at": {"N": str(at_ms)},
                    ":src": {"S": source},
                },
            )
        except self._ddb.exceptions.ConditionalCheckFailedException:
            return

    def record_inbound(self, waba_id: str, recipient: str, at_ms: int) -> None:
        """Keep the latest inbound time (the customer-service window opens at it)."""
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key={"pk": {"S": contact_key(waba_id, recipient)}},
                UpdateExpression="SET waba_id = :w, recipient = :r, last_inbound_at_ms = :at",
                ConditionExpression="attribute_not_exists(last_inbound_at_ms) "
                "OR last_inbound_at_ms < :at",
                ExpressionAttributeValues={
                    ":w": {"S": waba_id},
                    ":r": {"S": recipient},
                    ":at": {"N": str(at_ms)},
                },
            )
        except self._ddb.exceptions.ConditionalCheckFailedException:
            return


def _contact(raw: dict[str, AttributeValueTypeDef]) -> Contact:
    item = {k: _deserializer.deserialize(v) for k, v in raw.items()}
    _, waba_id, recipient = str(item["pk"]).split("#", 2)

    def _int(name: str) -> int | None:
        value = item.get(name)
        return int(value) if value is not None else None

    return Contact(
        waba_id=waba_id,
        recipient=recipient,
        opted_out_marketing=bool(item.get("opted_out_marketing", False)),
        opted_out_at_ms=_int("opted_out_at_ms"),
        opt_out_source=item.get("opt_out_source"),
        last_inbound_at_ms=_int("last_inbound_at_ms"),
    )
