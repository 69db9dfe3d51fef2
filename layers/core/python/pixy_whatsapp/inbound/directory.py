"""Business phone numbers by display number, learned from the webhooks themselves.

Meta's ``phone_number_quality_update`` (throughput and messaging-limit changes) names the
number only by its display number, while limits are kept per phone number id. Every
``messages`` webhook carries both in ``metadata``, so the processor remembers the pair in
the control table (``directory#number#{digits}``) and looks it up when an update needs it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_NOT_DIGITS = re.compile(r"\D")


def directory_key(display_phone_number: str) -> str:
    return f"directory#number#{_NOT_DIGITS.sub('', display_phone_number)}"


class NumberDirectory:
    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._ddb = dynamodb
        self._table = table_name
        # What this environment already wrote or read: one write per number per cold start.
        self._known: dict[str, str] = {}

    def remember(
        self, display_phone_number: str | None, phone_number_id: str | None, waba_id: str | None
    ) -> None:
        if not display_phone_number or not phone_number_id:
            return
        key = directory_key(display_phone_number)
        if key == directory_key("") or self._known.get(key) == phone_number_id:
            return
        item = {"pk": {"S": key}, "phone_number_id": {"S": phone_number_id}}
        if waba_id:
            item["waba_id"] = {"S": waba_id}
        self._ddb.put_item(TableName=self._table, Item=item)
        self._known[key] = phone_number_id

    def lookup(self, display_phone_number: str | None) -> str | None:
        if not display_phone_number:
            return None
        key = directory_key(display_phone_number)
        if key in self._known:
            return self._known[key]
        response = self._ddb.get_item(
            TableName=self._table, Key={"pk": {"S": key}}, ProjectionExpression="phone_number_id"
        )
        found = response.get("Item", {}).get("phone_number_id", {}).get("S")
        if found:
            self._known[key] = found
        return found
