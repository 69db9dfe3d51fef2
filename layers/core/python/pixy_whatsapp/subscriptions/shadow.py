"""Shadow delivery: Meta accepts a number's sends, but no status webhook ever comes back.

The cause is nearly always a WABA that is not (or no longer) subscribed to the app, or a
callback that points elsewhere; the `GET subscribed_apps` check catches the first, this
catches whatever the check cannot see.

How it is detected, cheaply:

- The **sender** calls `DeliveryWatch.note_accepted` after Meta accepts a send. For each
  phone number the control table keeps one *canary*: the id of one accepted message. A
  note becomes the canary only when the number has none (so the canary is the oldest
  unanswered one); notes are throttled in memory to one write per number per minute.
- The **inbound processor** needs no extra write: it already records every status on the
  message's own item in the messages table.
- The **scheduled check** (`ShadowDeliveryCheck.find_silent`) reads each watched number's
  canary and then the canary message's item. A status recorded there (or the item gone)
  resolves the canary, which is cleared so the next accepted send becomes the new one. A
  canary still without a status after the silence threshold makes the number *silent*.
  While a number is silent every note replaces its canary, so a fresh send is always
  being watched: the first status that comes back ends the silence.

Per number and run that is at most two reads and one write; the sender adds about one
write per number per minute. Silence is reported at the first run after `threshold` past
the first unanswered send, so within threshold plus two run periods of webhooks stopping.

Control-table items (string partition key `pk`, TTL `expires_at`):

    watch#number#{phone_number_id}
        phone_number_id S, waba_id S (when known)
        canary_id       S   the watched message (messages-table id)
        canary_at       N   epoch ms it was accepted
        silent_since    N   epoch ms the number was first found silent
        expires_at      N   a number with no sends for `retention` is forgotten
    watch#numbers
        numbers         SS  every number with an item above, so the check finds numbers
                            sent from that are missing from the registry
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from pixy_whatsapp.statuses import RANK, MessageStatus, now_ms
from pixy_whatsapp.subscriptions.exceptions import ShadowCheckUnavailable
from pixy_whatsapp.subscriptions.model import SilentNumber

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, KeysAndAttributesTypeDef

NUMBER_PREFIX = "watch#number#"
INDEX_KEY = "watch#numbers"
DEFAULT_NOTE_INTERVAL_MS = 60_000
DEFAULT_RETENTION_MS = 3 * 86_400_000
# Templates held by Meta's pacing are accepted but not sent for a while: no status is due.
HELD_STATUSES = frozenset({"held_for_quality_assessment"})

_BATCH_GET_MAX = 100
_BATCH_GET_ATTEMPTS = 6
_log = logging.getLogger(__name__)


def _number_key(phone_number_id: str) -> dict[str, AttributeValueTypeDef]:
    return {"pk": {"S": f"{NUMBER_PREFIX}{phone_number_id}"}}


def _index_key() -> dict[str, AttributeValueTypeDef]:
    return {"pk": {"S": INDEX_KEY}}


def _int(value: Mapping[str, Any] | None) -> int | None:
    if not value or "N" not in value:
        return None
    return int(Decimal(value["N"]))


def _str(value: Mapping[str, Any] | None) -> str | None:
    if not value:
        return None
    text = value.get("S")
    return text if isinstance(text, str) else None


def _live(item: Mapping[str, Any] | None, now_s: int) -> bool:
    # TTL deletion lags by up to two days: an expired item counts as gone.
    if not item:
        return False
    expires = _int(item.get("expires_at"))
    return expires is None or expires > now_s


class DeliveryWatch:
    """The sender's side: note accepted sends. Best effort: it never fails a send.

    >>> watch = DeliveryWatch(boto3.client("dynamodb"), settings.control_table)
    >>> watch.note_accepted(request.phone_number_id, request.id, waba_id=request.waba_id)
    """

    def __init__(
        self,
        dynamodb: DynamoDBClient,
        control_table: str,
        *,
        note_interval_ms: int = DEFAULT_NOTE_INTERVAL_MS,
        retention_ms: int = DEFAULT_RETENTION_MS,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._ddb = dynamodb
        self._table = control_table
        self._interval = note_interval_ms
        self._retention = retention_ms
        self._clock = clock
        self._last_noted: dict[str, int] = {}

    def note_accepted(
        self,
        phone_number_id: str,
        message_id: str,
        *,
        waba_id: str | None = None,
        at_ms: int | None = None,
        message_status: str | None = None,
    ) -> bool:
        """Offer an accepted send as the number's canary; True if it became the canary.

        `message_status` is Meta's `messages[0].message_status` from the send answer.
        """
        if message_status in HELD_STATUSES:
            return False
        at = at_ms if at_ms is not None else self._clock()
        last = self._last_noted.get(phone_number_id)
        if last is not None and 0 <= at - last < self._interval:
            return False
        self._last_noted[phone_number_id] = at
        values: dict[str, AttributeValueTypeDef] = {
            ":id": {"S": message_id},
            ":at": {"N": str(at)},
            ":number": {"S": phone_number_id},
            ":exp": {"N": str((at + self._retention) // 1000)},
            ":now_s": {"N": str(at // 1000)},
        }
        sets = "canary_id = :id, canary_at = :at, phone_number_id = :number, expires_at = :exp"
        if waba_id is not None:
            sets += ", waba_id = :waba"
            values[":waba"] = {"S": waba_id}
        try:
            response = self._ddb.update_item(
                TableName=self._table,
                Key=_number_key(phone_number_id),
                UpdateExpression=f"SET {sets}",
                # A silent number's canary is replaced so that a fresh send is watched.
                ConditionExpression=(
                    "attribute_not_exists(canary_id) OR attribute_exists(silent_since) "
                    "OR expires_at < :now_s"
                ),
                ExpressionAttributeValues=values,
                ReturnValues="ALL_OLD",
            )
            if not _live(response.get("Attributes"), at // 1000):
                self._ddb.update_item(
                    TableName=self._table,
                    Key=_index_key(),
                    UpdateExpression="ADD numbers :number",
                    ExpressionAttributeValues={":number": {"SS": [phone_number_id]}},
                )
        except self._ddb.exceptions.ConditionalCheckFailedException:
            return False
        except (BotoCoreError, ClientError):
            _log.warning(
                "could not note an accepted send for shadow-delivery detection",
                extra={"phone_number_id": phone_number_id},
                exc_info=True,
            )
            return False
        return True


@dataclass(frozen=True, slots=True)
class ShadowScan:
    silent: tuple[SilentNumber, ...]
    watched: int
    resolved: int


class ShadowDeliveryCheck:
    """The scheduled check's side: find numbers whose canary went unanswered too long."""

    def __init__(
        self,
        dynamodb: DynamoDBClient,
        control_table: str,
        messages_table: str,
        *,
        silence_ms: int,
    ) -> None:
        if silence_ms <= 0:
            raise ValueError("silence_ms must be positive")
        self._ddb = dynamodb
        self._control = control_table
        self._messages = messages_table
        self._silence = silence_ms

    def find_silent(self, phone_number_ids: Iterable[str], now_ms: int) -> ShadowScan:
        """Check the given numbers and every number the sender noted."""
        now_s = now_ms // 1000
        indexed = self._indexed_numbers()
        numbers = sorted(set(phone_number_ids) | indexed)
        items = {
            _str(item.get("phone_number_id")) or str(item["pk"]["S"])[len(NUMBER_PREFIX) :]: item
            for item in self._batch_get(self._control, [_number_key(n) for n in numbers])
        }
        gone = {n for n in indexed if not _live(items.get(n), now_s)}
        if gone:
            self._ddb.update_item(
                TableName=self._control,
                Key=_index_key(),
                UpdateExpression="DELETE numbers :gone",
                ExpressionAttributeValues={":gone": {"SS": sorted(gone)}},
            )
        canaries = {
            number: item
            for number, item in items.items()
            if _live(item, now_s) and _str(item.get("canary_id")) is not None
        }
        answered = self._answered({str(_str(item.get("canary_id"))) for item in canaries.values()})
        silent: list[SilentNumber] = []
        resolved = 0
        for number, item in sorted(canaries.items()):
            canary_id = str(_str(item.get("canary_id")))
            canary_at = _int(item.get("canary_at")) or 0
            silent_since = _int(item.get("silent_since"))
            if canary_id in answered:
                self._clear(number, canary_id)
                resolved += 1
                continue
            if silent_since is None and now_ms - canary_at >= self._silence:
                silent_since = now_ms
                self._mark_silent(number, canary_id, now_ms)
            if silent_since is not None:
                silent.append(
                    SilentNumber(
                        phone_number_id=number,
                        waba_id=_str(item.get("waba_id")),
                        message_id=canary_id,
                        awaiting_since_ms=canary_at,
                        silent_since_ms=silent_since,
                    )
                )
        return ShadowScan(silent=tuple(silent), watched=len(numbers), resolved=resolved)

    def _indexed_numbers(self) -> set[str]:
        response = self._ddb.get_item(
            TableName=self._control, Key=_index_key(), ConsistentRead=True
        )
        numbers = response.get("Item", {}).get("numbers", {}).get("SS", [])
        return set(numbers)

    def _answered(self, message_ids: set[str]) -> set[str]:
        """Canary messages that got a status webhook, or whose record is gone."""
        keys: list[dict[str, AttributeValueTypeDef]] = [
            {"pk": {"S": f"msg#{message_id}"}} for message_id in sorted(message_ids)
        ]
        found: dict[str, int] = {}
        for item in self._batch_get(self._messages, keys, projection="pk, rk"):
            message_id = str(item["pk"]["S"]).removeprefix("msg#")
            found[message_id] = _int(item.get("rk")) or 0
        accepted = RANK[MessageStatus.ACCEPTED]
        # No record left means nothing to wait for: its silence proves nothing.
        return {m for m in message_ids if m not in found or found[m] > accepted}

    def _clear(self, phone_number_id: str, canary_id: str) -> None:
        # Conditional: a canary the sender replaced meanwhile is not this one to clear.
        with contextlib.suppress(self._ddb.exceptions.ConditionalCheckFailedException):
            self._ddb.update_item(
                TableName=self._control,
                Key=_number_key(phone_number_id),
                UpdateExpression="REMOVE canary_id, canary_at, silent_since",
                ConditionExpression="canary_id = :id",
                ExpressionAttributeValues={":id": {"S": canary_id}},
            )

    def _mark_silent(self, phone_number_id: str, canary_id: str, at_ms: int) -> None:
        with contextlib.suppress(self._ddb.exceptions.ConditionalCheckFailedException):
            self._ddb.update_item(
                TableName=self._control,
                Key=_number_key(phone_number_id),
                UpdateExpression="SET silent_since = if_not_exists(silent_since, :at)",
                ConditionExpression="canary_id = :id",
                ExpressionAttributeValues={":id": {"S": canary_id}, ":at": {"N": str(at_ms)}},
            )

    def _batch_get(
        self,
        table: str,
        keys: list[dict[str, AttributeValueTypeDef]],
        *,
        projection: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        for start in range(0, len(keys), _BATCH_GET_MAX):
            request: KeysAndAttributesTypeDef = {
                "Keys": keys[start : start + _BATCH_GET_MAX],
                "ConsistentRead": True,
            }
            if projection is not None:
                request["ProjectionExpression"] = projection
            pending: Mapping[str, KeysAndAttributesTypeDef] = {table: request}
            for attempt in range(_BATCH_GET_ATTEMPTS):
                if attempt:
                    time.sleep(min(0.05 * 2**attempt, 1.0))
                response = self._ddb.batch_get_item(RequestItems=pending)
                yield from response.get("Responses", {}).get(table, [])
                # The unprocessed part of a request has the request's own shape.
                pending = cast(
                    "Mapping[str, KeysAndAttributesTypeDef]", response.get("UnprocessedKeys") or {}
                )
                if not pending:
                    break
            else:
                raise ShadowCheckUnavailable(f"{table}: keys left unprocessed after retries")
