"""Checks on one message of a send request, each problem located at its field.

`SendRequest` already refuses what the sender cannot send, but it folds every
problem of the message object into one sentence. The API answers with one
problem per field instead (`messages[3].message.text.body: is required`), so it
runs the same checks here first, keeping each problem's location; building the
`SendRequest` afterwards stays the final word.

It also refuses what would pass the contract but break on the way: strings the
queue cannot carry, metadata numbers or nesting the messages table cannot store,
and bodies too large for ten of them to share one SendMessageBatch call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal, DecimalException
from typing import Any

from boto3.dynamodb.types import DYNAMODB_CONTEXT
from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from pixy_whatsapp.models import validate_message

Location = tuple[str | int, ...]
Problem = tuple[Location, str]

# The sender fills these in; a message that sets them would be overridden or rejected.
SENDER_KEYS = ("messaging_product", "to", "recipient", "biz_opaque_callback_data")

# Any string stands in for the recipient: the message object is checked on its own here,
# and `to` / `recipient` are checked as fields of the request.
_PLACEHOLDER_RECIPIENT = "0"

# SQS refuses bodies with these (surrogates are not even valid UTF-8); JSON escapes
# control characters, so nothing else below U+10FFFF can reach the queue unescaped.
_UNCARRIABLE = re.compile("[\ud800-\udfff\ufffe\uffff]")

# The contract's limit (`SendRequest`), measured the same way.
MAX_METADATA_BYTES = 4096

# DynamoDB allows 32 levels of nesting per item; metadata sits one level down already.
MAX_METADATA_DEPTH = 16

# SendMessageBatch takes at most 256 KiB in one call and `enqueue` sends ten at a time,
# so each body stays under a tenth of it (with room for the enqueue timestamp).
MAX_QUEUE_BODY_BYTES = 25_000

_PATH_PART = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


def located_error(title: str, problems: list[Problem], value: Any) -> ValidationError:
    """A pydantic error whose entries keep their locations when raised in a validator."""
    return ValidationError.from_exception_data(
        title,
        [
            InitErrorDetails(
                type=PydanticCustomError("invalid_value", message),
                loc=location,
                input=value,
            )
            for location, message in problems
        ],
    )


def _location(json_path: str) -> Location:
    """`$.template.components[0].name` as `("template", "components", 0, "name")`."""
    parts: list[str | int] = []
    for key, index in _PATH_PART.findall(json_path.removeprefix("$")):
        parts.append(int(index) if index else key)
    return tuple(parts)


def message_problems(message: Mapping[str, Any]) -> list[Problem]:
    """Problems of a Meta message object, located inside it."""
    problems: list[Problem] = [
        ((key,), "must not be set: the sender sets it") for key in SENDER_KEYS if key in message
    ]
    body = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": _PLACEHOLDER_RECIPIENT,
        **{k: v for k, v in message.items() if k not in SENDER_KEYS},
    }
    problems.extend((_location(p.path), p.message) for p in validate_message(body))
    return problems


def _walk(value: Any, location: Location = ()) -> Iterator[tuple[Location, Any]]:
    yield location, value
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield ((*location, key), key)
            yield from _walk(item, (*location, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*location, index))


def uncarriable_strings(value: Any) -> list[Problem]:
    """Strings (keys included) with characters the queue cannot carry."""
    problems: list[Problem] = []
    for location, item in _walk(value):
        if isinstance(item, str) and (match := _UNCARRIABLE.search(item)):
            code = f"U+{ord(match.group()):04X}"
            problems.append((location, f"contains {code}, which cannot be queued"))
    return problems


def _depth(value: Any) -> int:
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(item, Mapping):
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
    return deepest


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _storable_number(number: int | float) -> bool:
    try:
        DYNAMODB_CONTEXT.create_decimal(Decimal(repr(number)))
    except DecimalException:
        return False
    return True


def metadata_problems(metadata: Mapping[str, Any]) -> list[Problem]:
    """Too large, or what the messages table cannot store: deep nesting, huge numbers."""
    if _depth(metadata) > MAX_METADATA_DEPTH:
        return [((), f"is nested more than {MAX_METADATA_DEPTH} levels deep")]
    size = len(json.dumps(metadata, separators=(",", ":")))
    if size > MAX_METADATA_BYTES:
        return [((), f"is {size} bytes as JSON; the limit is {MAX_METADATA_BYTES}")]
    problems: list[Problem] = []
    for location, item in _walk(metadata):
        if isinstance(item, Mapping) and "" in item:
            problems.append((location, "has an empty key, which DynamoDB cannot store"))
        elif _is_number(item) and not _storable_number(item):
            problems.append(
                (location, "is a number DynamoDB cannot store (38 significant digits at most)")
            )
    return problems


def storable_metadata(value: Any) -> Any:
    """Metadata with its floats as Decimals: boto3 refuses to write floats to DynamoDB."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {key: storable_metadata(item) for key, item in value.items()}
    if isinstance(value, list):
        return [storable_metadata(item) for item in value]
    return value


def plain_json(value: Any) -> Any:
    """Values read back from DynamoDB as JSON types: its numbers come back as Decimals."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {key: plain_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain_json(item) for item in value]
    return value
