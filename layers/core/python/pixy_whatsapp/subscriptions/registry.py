"""The WABA registry: one item per registered WABA in the wabas table.

Item layout (string partition key `pk`; no expiry, a WABA stays until unregistered):

    waba#{waba_id}
        waba_id             S
        state               S   pending | subscribed | failed | unverified
        phone_number_ids    L   the WABA's business numbers (watched for shadow delivery)
        registered_at       N   epoch ms of the first registration
        updated_at          N   epoch ms of the last change
        reason              S   why the state is not `subscribed` (absent when it is)
        meta_code           N   Meta's error code behind `reason`, when Meta gave one
        app_id              S   our app's id as Meta lists it
        apps_seen           L   every app id the last GET listed
        override_uri        S   the callback override subscribed with (absent: the app's)
        last_check_at       N   epoch ms of the last check
        last_check_result   S   ok | repaired | failed
        repairs             N   times a lost subscription was restored
        silent_numbers      L   numbers found silent by the last shadow-delivery check

Updates made by a check are conditional on the item existing, so a check racing an
unregistration never brings a forgotten WABA back.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from pixy_whatsapp.subscriptions.model import CheckResult, SubscriptionState, WabaRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

PREFIX = "waba#"

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

# Attributes a state change rewrites; any of them not given is removed, so an old reason
# never outlives the state it explained.
_STATE_DETAILS = ("reason", "meta_code")


def _key(waba_id: str) -> dict[str, AttributeValueTypeDef]:
    return {"pk": {"S": f"{PREFIX}{waba_id}"}}


def _serialize(values: Mapping[str, Any]) -> dict[str, AttributeValueTypeDef]:
    return {name: _serializer.serialize(value) for name, value in values.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _record(raw: Mapping[str, Any]) -> WabaRecord:
    item = {name: _plain(_deserializer.deserialize(value)) for name, value in raw.items()}
    return WabaRecord(
        waba_id=item["waba_id"],
        state=SubscriptionState(item["state"]),
        phone_number_ids=tuple(item.get("phone_number_ids") or ()),
        registered_at_ms=item["registered_at"],
        updated_at_ms=item["updated_at"],
        reason=item.get("reason"),
        meta_code=item.get("meta_code"),
        app_id=item.get("app_id"),
        apps_seen=tuple(item.get("apps_seen") or ()),
        override_callback_uri=item.get("override_uri"),
        last_check_at_ms=item.get("last_check_at"),
        last_check_result=(
            CheckResult(item["last_check_result"]) if "last_check_result" in item else None
        ),
        repairs=item.get("repairs", 0),
        silent_phone_number_ids=tuple(item.get("silent_numbers") or ()),
    )


class _Update:
    """Collects SET / REMOVE / ADD clauses into one UpdateItem expression."""

    def __init__(self) -> None:
        self.sets: list[str] = []
        self.removes: list[str] = []
        self.adds: list[str] = []
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def set(self, name: str, value: Any, *, keep_existing: bool = False) -> None:
        self.names[f"#{name}"] = name
        self.values[f":{name}"] = value
        if keep_existing:
            self.sets.append(f"#{name} = if_not_exists(#{name}, :{name})")
        else:
            self.sets.append(f"#{name} = :{name}")

    def set_or_remove(self, name: str, value: Any) -> None:
        if value is None:
            self.names[f"#{name}"] = name
            self.removes.append(f"#{name}")
        else:
            self.set(name, value)

    def add(self, name: str, amount: int) -> None:
        self.names[f"#{name}"] = name
        self.values[f":{name}"] = amount
        self.adds.append(f"#{name} :{name}")

    def expression(self) -> str:
        parts = []
        if self.sets:
            parts.append("SET " + ", ".join(self.sets))
        if self.removes:
            parts.append("REMOVE " + ", ".join(self.removes))
        if self.adds:
            parts.append("ADD " + ", ".join(self.adds))
        return " ".join(parts)


class WabaRegistry:
    """DynamoDB implementation of the registry.

    >>> registry = WabaRegistry(boto3.client("dynamodb"), settings.wabas_table)
    >>> registry.get("102290129340398")
    """

    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._ddb = dynamodb
        self._table = table_name

    def get(self, waba_id: str) -> WabaRecord | None:
        response = self._ddb.get_item(TableName=self._table, Key=_key(waba_id), ConsistentRead=True)
        item = response.get("Item")
        return _record(item) if item else None

    def all(self) -> Iterator[WabaRecord]:
        """Every registered WABA (a paginated scan: the table holds nothing else)."""
        paginator = self._ddb.get_paginator("scan")
        pages = paginator.paginate(
            TableName=self._table,
            FilterExpression="begins_with(pk, :prefix)",
            ExpressionAttributeValues={":prefix": {"S": PREFIX}},
            ConsistentRead=True,
        )
        for page in pages:
            for item in page.get("Items", []):
                yield _record(item)

    def begin_registration(
        self,
        waba_id: str,
        *,
        phone_number_ids: Sequence[str],
        override_callback_uri: str | None,
        at_ms: int,
    ) -> WabaRecord:
        """Record the WABA as `pending` before anything else happens, so that a crash
        part-way leaves a visible trace that the scheduled check then resolves."""
        update = _Update()
        update.set("waba_id", waba_id)
        update.set("state", SubscriptionState.PENDING.value)
        update.set("phone_number_ids", list(phone_number_ids))
        update.set("registered_at", at_ms, keep_existing=True)
        update.set("updated_at", at_ms)
        update.set_or_remove("override_uri", override_callback_uri)
        for name in (*_STATE_DETAILS, "silent_numbers"):
            update.set_or_remove(name, None)
        record = self._update(waba_id, update, must_exist=False)
        assert record is not None  # unconditional writes always answer the new item
        return record

    def save_state(
        self,
        waba_id: str,
        state: SubscriptionState,
        *,
        at_ms: int,
        reason: str | None = None,
        meta_code: int | None = None,
        app_id: str | None = None,
        apps_seen: Sequence[str] | None = None,
        check_result: CheckResult | None = None,
    ) -> WabaRecord | None:
        """Record a new state; None if the WABA was unregistered meanwhile."""
        update = _Update()
        update.set("state", state.value)
        update.set("updated_at", at_ms)
        update.set_or_remove("reason", reason)
        update.set_or_remove("meta_code", meta_code)
        if app_id is not None:
            update.set("app_id", app_id)
        if apps_seen is not None:
            update.set("apps_seen", list(apps_seen))
        if check_result is not None:
            update.set("last_check_at", at_ms)
            update.set("last_check_result", check_result.value)
            if check_result is CheckResult.REPAIRED:
                update.add("repairs", 1)
        return self._update(waba_id, update, must_exist=True)

    def save_silent_numbers(self, waba_id: str, phone_number_ids: Sequence[str]) -> bool:
        update = _Update()
        update.set("silent_numbers", sorted(phone_number_ids))
        return self._update(waba_id, update, must_exist=True) is not None

    def delete(self, waba_id: str) -> None:
        self._ddb.delete_item(TableName=self._table, Key=_key(waba_id))

    def _update(self, waba_id: str, update: _Update, *, must_exist: bool) -> WabaRecord | None:
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "Key": _key(waba_id),
            "UpdateExpression": update.expression(),
            "ExpressionAttributeNames": update.names,
            "ReturnValues": "ALL_NEW",
        }
        if update.values:
            kwargs["ExpressionAttributeValues"] = _serialize(update.values)
        if must_exist:
            kwargs["ConditionExpression"] = "attribute_exists(pk)"
        try:
            response = self._ddb.update_item(**kwargs)
        except self._ddb.exceptions.ConditionalCheckFailedException:
            return None
        return _record(response["Attributes"])
