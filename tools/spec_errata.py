"""Corrections applied to Meta's OpenAPI spec before models are generated from it.

Each erratum names what it changes and why. Every one checks that the spec still has the
shape it corrects and fails loudly otherwise, so a new spec version that fixes (or moves)
something is reviewed instead of silently patched twice.

The facts come from Meta's reference pages and from the spec's own request and webhook
examples, which disagree with its schemas in the places corrected here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tools.openapi_reduce import REF_PREFIX, Schema, Schemas, SpecShapeError, ref_to


@dataclass(frozen=True)
class Erratum:
    name: str
    reason: str
    apply: Callable[[Schemas], None]


def _schema(schemas: Schemas, name: str) -> Schema:
    if name not in schemas:
        raise SpecShapeError(f"erratum target {name!r} is not in the spec any more")
    return schemas[name]


def _properties(schema: Schema, where: str) -> dict[str, Any]:
    props = schema.get("properties")
    if not isinstance(props, dict):
        raise SpecShapeError(f"{where} has no properties")
    return props


def _part_with(schemas: Schemas, name: str, prop: str) -> Schema:
    """The inline part of ``name`` (itself or one of its allOf parts) defining ``prop``."""
    schema = _schema(schemas, name)
    parts: list[Schema] = [schema, *schema.get("allOf", [])]
    for part in parts:
        if prop in part.get("properties", {}):
            return part
    raise SpecShapeError(f"{name} does not define {prop!r}")


def _add_properties(schema: Schema, where: str, **new: Schema) -> None:
    props = schema.setdefault("properties", {})
    clash = sorted(set(new) & set(props))
    if clash:
        raise SpecShapeError(f"{where} already defines {clash}; drop this erratum")
    props.update(new)


def _unrequire(schema: Schema, where: str, *names: str) -> None:
    required = schema.get("required", [])
    missing = [name for name in names if name not in required]
    if missing:
        raise SpecShapeError(f"{where} no longer requires {missing}; drop this erratum")
    schema["required"] = [name for name in required if name not in names]


_STRING: Schema = {"type": "string"}


# --------------------------------------------------------------------------- send side


def _send_to_recipient(schemas: Schemas) -> None:
    base = _schema(schemas, "BaseMessageProperties")
    _add_properties(base, "BaseMessageProperties", recipient=dict(_STRING))
    _unrequire(base, "BaseMessageProperties", "to")


def _send_callback_data(schemas: Schemas) -> None:
    base = _schema(schemas, "BaseMessageProperties")
    _add_properties(
        base,
        "BaseMessageProperties",
        biz_opaque_callback_data={"type": "string", "maxLength": 512},
    )


def _send_recipient_type_default(schemas: Schemas) -> None:
    _unrequire(_schema(schemas, "BaseMessageProperties"), "BaseMessageProperties", "recipient_type")


def _send_text_body_required(schemas: Schemas) -> None:
    text = _properties(_part_with(schemas, "TextMessage", "text"), "TextMessage")["text"]
    if "required" in text:
        raise SpecShapeError("TextMessage.text already has required keys; drop this erratum")
    text["required"] = ["body"]
    # The spec's stand-alone text schema carries Meta's body limit; the message does not.
    limit = _properties(_schema(schemas, "TextMessage_1"), "TextMessage_1")["body"]["maxLength"]
    text["properties"]["body"] = {"type": "string", "maxLength": limit}


def _send_location_numbers(schemas: Schemas) -> None:
    location = _properties(_part_with(schemas, "LocationMessage", "location"), "LocationMessage")
    coords = _properties(location["location"], "LocationMessage.location")
    for axis in ("latitude", "longitude"):
        if coords[axis].get("type") != "string":
            raise SpecShapeError(f"LocationMessage.location.{axis} changed; review this erratum")
        coords[axis] = {"type": ["number", "string"]}


def _send_language_policy_optional(schemas: Schemas) -> None:
    _unrequire(_schema(schemas, "LanguageObject"), "LanguageObject", "policy")


def _send_button_index(schemas: Schemas) -> None:
    for name in ("TemplateComponent", "ButtonComponent"):
        part = _part_with(schemas, name, "index")
        if "pattern" not in part["properties"]["index"]:
            raise SpecShapeError(f"{name}.index lost its pattern; review this erratum")
        part["properties"]["index"] = {"type": ["string", "integer"]}


def _send_button_text_scalar(schemas: Schemas) -> None:
    part = _part_with(schemas, "ButtonTextParameter", "text")
    if part["properties"]["text"].get("type") != "string":
        raise SpecShapeError("ButtonTextParameter.text changed; review this erratum")
    part["properties"]["text"] = {"type": ["string", "boolean"]}


def _graph_error_data(schemas: Schemas) -> None:
    error = _properties(_schema(schemas, "GraphAPIError"), "GraphAPIError")["error"]
    _add_properties(
        error,
        "GraphAPIError.error",
        error_data={
            "type": "object",
            "properties": {"messaging_product": dict(_STRING), "details": dict(_STRING)},
        },
    )


SEND_ERRATA: tuple[Erratum, ...] = (
    Erratum(
        "send-to-bsuid",
        "Since 2026 a send may target a business-scoped user id in `recipient` instead of "
        "a phone number in `to`; one of the two is required (checked in models/send.py).",
        _send_to_recipient,
    ),
    Erratum(
        "send-callback-data",
        "`biz_opaque_callback_data` (up to 512 characters) is echoed in status webhooks; "
        "the spec's message schemas forbid it.",
        _send_callback_data,
    ),
    Erratum(
        "send-recipient-type-default",
        "`recipient_type` defaults to `individual`; most of the spec's own examples omit it.",
        _send_recipient_type_default,
    ),
    Erratum(
        "send-text-body",
        "Meta rejects a text message without `text.body`; the spec does not require it.",
        _send_text_body_required,
    ),
    Erratum(
        "send-location-numbers",
        "Coordinates are numbers in Meta's reference and in the spec's own examples.",
        _send_location_numbers,
    ),
    Erratum(
        "send-language-policy",
        "`language.policy` is optional (the only value is the default); examples omit it.",
        _send_language_policy_optional,
    ),
    Erratum(
        "send-button-index",
        "The `index` pattern is a character class that rejects the indexes 0 and 1 used by "
        "the spec's examples, which also send it as an integer.",
        _send_button_index,
    ),
    Erratum(
        "send-button-text",
        "The spec's quick-reply template example sends booleans as button text.",
        _send_button_text_scalar,
    ),
    Erratum(
        "graph-error-data",
        "Graph error bodies carry `error_data.details`, the field that explains a code.",
        _graph_error_data,
    ),
)


# --------------------------------------------------------------------------- webhook side

# The spec was assembled from per-topic files. Colliding schema names were renamed with
# numeric suffixes, but the webhook's references were left pointing at the unsuffixed
# names, which are the send-side schemas (they require `to` and forbid `from`).
_INBOUND_RENAMES = {
    "BaseMessageProperties": "BaseMessageProperties_1",
    "TextMessage": "TextMessage_2",
    "ReactionMessage": "ReactionMessage_1",
    "AudioMessage": "AudioMessage_1",
    "DocumentMessage": "DocumentMessage_1",
    "ImageMessage": "ImageMessage_1",
    "StickerMessage": "StickerMessage_1",
    "VideoMessage": "VideoMessage_1",
    "LocationMessage": "LocationMessage_1",
    "ContactObject": "ContactObject_1",
    "ErrorObject": "ErrorObject_2",
}
_INBOUND_SCHEMAS = (
    "IncomingMessage",
    "SystemMessage",
    "ButtonMessage",
    "ContactSharingMessage",
    "InteractiveMessageReply",
    "OrderMessage",
    "UnsupportedMessage",
    *sorted(set(_INBOUND_RENAMES.values()) - {"ContactObject_1", "ErrorObject_2"}),
)


def _repoint(node: Any) -> int:
    """Rewrite send-side references under ``node``; return how many were rewritten."""
    count = 0
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                name = value.removeprefix(REF_PREFIX)
                if name in _INBOUND_RENAMES:
                    node[key] = REF_PREFIX + _INBOUND_RENAMES[name]
                    count += 1
            elif key == "mapping":
                for tag, target in value.items():
                    name = target.removeprefix(REF_PREFIX)
                    if name in _INBOUND_RENAMES:
                        value[tag] = REF_PREFIX + _INBOUND_RENAMES[name]
                        count += 1
            else:
                count += _repoint(value)
    elif isinstance(node, list):
        count += sum(_repoint(item) for item in node)
    return count


def _webhook_inbound_references(schemas: Schemas) -> None:
    for target in _INBOUND_RENAMES.values():
        _schema(schemas, target)
    rewrites = sum(_repoint(_schema(schemas, name)) for name in _INBOUND_SCHEMAS)
    if rewrites == 0:
        raise SpecShapeError("webhook schemas no longer point at send schemas; drop this erratum")


def _webhook_system_messages(schemas: Schemas) -> None:
    incoming = _schema(schemas, "IncomingMessage")
    mapping = incoming["discriminator"]["mapping"]
    if "system" in mapping:
        raise SpecShapeError("IncomingMessage already maps `system`; drop this erratum")
    mapping["system"] = REF_PREFIX + "SystemMessage"
    incoming["oneOf"].append(ref_to("SystemMessage"))
    value = _schema(schemas, "IncomingMessageValueSystem")
    _properties(value, "IncomingMessageValueSystem")["messages"]["items"] = ref_to(
        "IncomingMessage"
    )


def _webhook_bsuid(schemas: Schemas) -> None:
    _add_properties(
        _schema(schemas, "BaseMessageProperties_1"),
        "BaseMessageProperties_1",
        from_user_id=dict(_STRING),
    )
    contact = _schema(schemas, "ContactProfile")
    _add_properties(contact, "ContactProfile", user_id=dict(_STRING), parent_user_id=dict(_STRING))
    profile = _properties(contact, "ContactProfile")["profile"]
    _add_properties(profile, "ContactProfile.profile", username=dict(_STRING))
    _add_properties(_schema(schemas, "Statuses"), "Statuses", recipient_user_id=dict(_STRING))


def _webhook_status_fields(schemas: Schemas) -> None:
    _add_properties(
        _schema(schemas, "Statuses"),
        "Statuses",
        biz_opaque_callback_data=dict(_STRING),
        recipient_type=dict(_STRING),
        recipient_participant_id=dict(_STRING),
    )
    _add_properties(_schema(schemas, "Pricing"), "Pricing", type=dict(_STRING))


def _webhook_value_errors(schemas: Schemas) -> None:
    change = _schema(schemas, "Change")
    value = _properties(change, "Change")["value"]
    value["oneOf"].append(
        {
            "type": "object",
            "properties": {
                "messaging_product": dict(_STRING),
                "metadata": ref_to("Metadata"),
                "errors": {"type": "array", "items": ref_to("ErrorObject_2")},
            },
        }
    )


def _webhook_interactive_replies(schemas: Schemas) -> None:
    part = _part_with(schemas, "InteractiveMessageReply", "interactive")
    interactive = part["properties"]["interactive"]
    _add_properties(
        interactive,
        "InteractiveMessageReply.interactive",
        nfm_reply={
            "type": "object",
            "properties": {
                "name": dict(_STRING),
                "body": dict(_STRING),
                "response_json": dict(_STRING),
            },
        },
    )


def _webhook_group_timestamp(schemas: Schemas) -> None:
    props = _properties(_schema(schemas, "Groups"), "Groups")
    if props["timestamp"].get("type") != "integer":
        raise SpecShapeError("Groups.timestamp changed; review this erratum")
    props["timestamp"] = dict(_STRING)


def _webhook_entry_time(schemas: Schemas) -> None:
    _add_properties(_schema(schemas, "Entry"), "Entry", time={"type": "integer"})


WEBHOOK_ERRATA: tuple[Erratum, ...] = (
    Erratum(
        "webhook-inbound-references",
        "Inbound message schemas point at the same-named send schemas (a merge leftover); "
        "re-point them at the inbound ones the spec also defines.",
        _webhook_inbound_references,
    ),
    Erratum(
        "webhook-system-messages",
        "System messages (number or user id changes) arrive in the same `messages` array.",
        _webhook_system_messages,
    ),
    Erratum(
        "webhook-bsuid",
        "Business-scoped user ids (2026): `from_user_id`, `contacts[].user_id`, "
        "`parent_user_id`, `profile.username` and `statuses[].recipient_user_id`.",
        _webhook_bsuid,
    ),
    Erratum(
        "webhook-status-fields",
        "Statuses echo `biz_opaque_callback_data` and carry group recipients; pricing has a "
        "`type` (regular, free_customer_service, free_entry_point).",
        _webhook_status_fields,
    ),
    Erratum(
        "webhook-value-errors",
        "System-, app- or account-level problems arrive as `value.errors`.",
        _webhook_value_errors,
    ),
    Erratum(
        "webhook-interactive-replies",
        "Flow replies arrive as `interactive.nfm_reply`.",
        _webhook_interactive_replies,
    ),
    Erratum(
        "webhook-group-timestamp",
        "Timestamps are strings of Unix seconds, as the spec's own group examples send.",
        _webhook_group_timestamp,
    ),
    Erratum(
        "webhook-entry-time",
        "Account and template update webhooks stamp each entry with `time`.",
        _webhook_entry_time,
    ),
)


def apply_errata(schemas: Schemas, errata: tuple[Erratum, ...]) -> None:
    for erratum in errata:
        try:
            erratum.apply(schemas)
        except (KeyError, TypeError) as exc:
            raise SpecShapeError(f"erratum {erratum.name}: unexpected spec shape ({exc})") from exc
        except SpecShapeError as exc:
            raise SpecShapeError(f"erratum {erratum.name}: {exc}") from exc
