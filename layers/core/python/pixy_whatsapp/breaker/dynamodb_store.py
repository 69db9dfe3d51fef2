"""Breaker state in the control table: one item per breaker, replaced by version.

Item layout (string partition key `pk`, no sort key, no expiry: there is one item per
phone number or WABA, and an item that vanished would silently close its breaker):

    breaker#number#{phone_number_id} | breaker#waba#{waba_id}
        state           S   closed | open | half_open | held
        version         N   transitions so far; every write is conditional on it
        opens           N   openings since the last close (growing cool-down)
        changed_at      N   epoch ms of the last transition
        open_until      N   epoch ms the cool-down ends (open)
        probe_owner     S   who holds the half-open probe lease
        probe_until     N   epoch ms the probe lease ends
        secret_version  S   the credentials version a held breaker opened on
        reason          S   why it last changed (for operators)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from botocore.exceptions import BotoCoreError, ClientError

from pixy_whatsapp.breaker.exceptions import BreakerUnavailable
from pixy_whatsapp.breaker.model import BreakerRecord, BreakerState
from pixy_whatsapp.breaker.store import Replaced

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

_CONDITION_FAILED = "ConditionalCheckFailedException"


def _to_item(pk: str, record: BreakerRecord) -> dict[str, AttributeValueTypeDef]:
    item: dict[str, AttributeValueTypeDef] = {
        "pk": {"S": pk},
        "state": {"S": record.state.value},
        "version": {"N": str(record.version)},
        "opens": {"N": str(record.opens)},
        "changed_at": {"N": str(record.changed_at_ms)},
        "reason": {"S": record.reason},
    }
    if record.open_until_ms is not None:
        item["open_until"] = {"N": str(record.open_until_ms)}
    if record.probe_owner is not None:
        item["probe_owner"] = {"S": record.probe_owner}
    if record.probe_until_ms is not None:
        item["probe_until"] = {"N": str(record.probe_until_ms)}
    if record.secret_version is not None:
        item["secret_version"] = {"S": record.secret_version}
    return item


def _from_item(item: Mapping[str, Mapping[str, str]]) -> BreakerRecord:
    if not item:
        return BreakerRecord()

    def number(name: str) -> int | None:
        value = item.get(name, {}).get("N")
        return None if value is None else int(value)

    def text(name: str) -> str | None:
        return item.get(name, {}).get("S")

    return BreakerRecord(
        state=BreakerState(text("state") or BreakerState.CLOSED.value),
        version=number("version") or 0,
        opens=number("opens") or 0,
        changed_at_ms=number("changed_at") or 0,
        open_until_ms=number("open_until"),
        probe_owner=text("probe_owner"),
        probe_until_ms=number("probe_until"),
        secret_version=text("secret_version"),
        reason=text("reason") or "",
    )


class DynamoDBBreakerStore:
    """`BreakerStore` on the control table, through a boto3 DynamoDB low-level client."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._ddb = dynamodb
        self._table = table_name

    def load(self, pk: str) -> BreakerRecord:
        try:
            response = self._ddb.get_item(
                TableName=self._table, Key={"pk": {"S": pk}}, ConsistentRead=True
            )
        except (BotoCoreError, ClientError) as error:
            raise BreakerUnavailable(f"reading {pk} failed: {error}") from error
        return _from_item(cast("Mapping[str, Mapping[str, str]]", response.get("Item", {})))

    def replace(self, pk: str, expected_version: int, record: BreakerRecord) -> Replaced:
        condition = "version = :v"
        if expected_version == 0:
            condition = "attribute_not_exists(version) OR version = :v"
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item=_to_item(pk, record),
                ConditionExpression=condition,
                ExpressionAttributeValues={":v": {"N": str(expected_version)}},
                # The record that beat us comes back with the refusal: no read before the retry.
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != _CONDITION_FAILED:
                raise BreakerUnavailable(f"writing {pk} failed: {error}") from error
            old = cast("Mapping[str, Mapping[str, str]]", error.response.get("Item") or {})
            return Replaced(saved=False, current=_from_item(old))
        except BotoCoreError as error:
            raise BreakerUnavailable(f"writing {pk} failed: {error}") from error
        return Replaced(saved=True, current=record)
