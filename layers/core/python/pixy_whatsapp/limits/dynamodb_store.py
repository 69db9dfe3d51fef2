"""Limiter state in the control table: one item per key, one conditional write per reservation.

Item layouts (string partition key `pk`, no sort key):

    limit#number#{phone_number_id}            tat: N, expires_at: N
    limit#pair#{phone_number_id}#{recipient}  tat: N, expires_at: N
    limit#waba#{waba_id}                      tat: N, expires_at: N
    config#number#{phone_number_id}           mps: N, mps_updated_at: N

`tat` is epoch milliseconds with up to three decimals (microsecond precision, so
12.5 ms steps add up exactly). An item whose TAT has passed means the same as no item,
so it may expire an hour later (`expires_at`, the table's TTL attribute); the hour
covers clock skew between writers and DynamoDB's lazy deletion is harmless either way.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from pixy_whatsapp.limits.exceptions import LimitStoreUnavailable
from pixy_whatsapp.limits.keys import number_config_pk
from pixy_whatsapp.limits.policies import check_mps
from pixy_whatsapp.limits.store import TatSwap

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

EXPIRY_GRACE_S = 3_600
_CONDITION_FAILED = "ConditionalCheckFailedException"


def format_tat(tat_us: int) -> str:
    """Epoch microseconds as the stored epoch-milliseconds number."""
    whole, fraction = divmod(tat_us, 1_000)
    return str(whole) if fraction == 0 else f"{whole}.{fraction:03d}".rstrip("0")


def parse_tat(value: str) -> int:
    return int(Decimal(value) * 1_000)


def _condition_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == _CONDITION_FAILED


class DynamoDBLimitStore:
    """`LimitStore` on the control table, through a boto3 DynamoDB low-level client."""

    def __init__(
        self, dynamodb: DynamoDBClient, table_name: str, *, expiry_grace_s: int = EXPIRY_GRACE_S
    ) -> None:
        self._ddb = dynamodb
        self._table = table_name
        self._grace_s = expiry_grace_s

    def _expires_at(self, tat_us: int) -> str:
        return str(math.ceil(tat_us / 1_000_000) + self._grace_s)

    def swap_tat(self, pk: str, expected_us: int | None, new_us: int) -> TatSwap:
        # A limit item holds nothing but its TAT, so a conditional put says it all and
        # is the cheapest conditional write there is.
        put: dict[str, Any] = {
            "TableName": self._table,
            "Item": {
                "pk": {"S": pk},
                "tat": {"N": format_tat(new_us)},
                "expires_at": {"N": self._expires_at(new_us)},
            },
            "ConditionExpression": "attribute_not_exists(tat)",
            # The item that beat us comes back with the refusal: no read before the retry.
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if expected_us is not None:
            put["ConditionExpression"] = "tat = :expected"
            put["ExpressionAttributeValues"] = {":expected": {"N": format_tat(expected_us)}}
        try:
            self._ddb.put_item(**put)
        except ClientError as error:
            if not _condition_failed(error):
                raise LimitStoreUnavailable(f"reserving on {pk} failed: {error}") from error
            old = cast("dict[str, dict[str, str]]", error.response.get("Item") or {})
            current = old.get("tat", {}).get("N")
            return TatSwap(
                applied=False, current_us=None if current is None else parse_tat(current)
            )
        except BotoCoreError as error:
            raise LimitStoreUnavailable(f"reserving on {pk} failed: {error}") from error
        return TatSwap(applied=True, current_us=new_us)

    def raise_tat(self, pk: str, floor_us: int) -> None:
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": pk},
                    "tat": {"N": format_tat(floor_us)},
                    "expires_at": {"N": self._expires_at(floor_us)},
                },
                ConditionExpression="attribute_not_exists(tat) OR tat < :floor",
                ExpressionAttributeValues={":floor": {"N": format_tat(floor_us)}},
            )
        except ClientError as error:
            if not _condition_failed(error):  # already at or past the floor: nothing to do
                raise LimitStoreUnavailable(f"penalizing {pk} failed: {error}") from error
        except BotoCoreError as error:
            raise LimitStoreUnavailable(f"penalizing {pk} failed: {error}") from error

    def read_tat(self, pk: str) -> int | None:
        try:
            response = self._ddb.get_item(
                TableName=self._table,
                Key={"pk": {"S": pk}},
                ProjectionExpression="tat",
                ConsistentRead=True,
            )
        except (BotoCoreError, ClientError) as error:
            raise LimitStoreUnavailable(f"reading {pk} failed: {error}") from error
        value = response.get("Item", {}).get("tat", {}).get("N")
        return None if value is None else parse_tat(value)

    def read_number_mps(self, phone_number_id: str) -> float | None:
        pk = number_config_pk(phone_number_id)
        try:
            response = self._ddb.get_item(
                TableName=self._table, Key={"pk": {"S": pk}}, ProjectionExpression="mps"
            )
        except (BotoCoreError, ClientError) as error:
            raise LimitStoreUnavailable(f"reading {pk} failed: {error}") from error
        value = response.get("Item", {}).get("mps", {}).get("N")
        return None if value is None else float(value)

    def write_number_mps(self, phone_number_id: str, mps: float, at_ms: int) -> None:
        pk = number_config_pk(phone_number_id)
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key={"pk": {"S": pk}},
                UpdateExpression="SET mps = :mps, mps_updated_at = :at",
                # Webhooks arrive out of order: an older throughput report never wins.
                ConditionExpression="attribute_not_exists(mps_updated_at) OR mps_updated_at <= :at",
                ExpressionAttributeValues={
                    ":mps": {"N": repr(check_mps(mps))},
                    ":at": {"N": str(at_ms)},
                },
            )
        except ClientError as error:
            if not _condition_failed(error):
                raise LimitStoreUnavailable(f"writing {pk} failed: {error}") from error
        except BotoCoreError as error:
            raise LimitStoreUnavailable(f"writing {pk} failed: {error}") from error
