"""Send side: the body of ``POST /{phone-number-id}/messages``.

``OutboundMessage`` is the pydantic type of a Meta message object: a union of the
generated message classes discriminated by ``type``. Embed it in your own models
(``message: OutboundMessage``) and validation applies the rules below as well as the
spec's. ``dump_message`` gives back the JSON body to send: exactly the keys that were set.

Rules on top of the spec (Meta enforces them; the spec does not say so):

- a message targets ``to`` (phone number) or ``recipient`` (business-scoped user id);
- ``text.body`` and ``template.name`` are present and not blank;
- media (audio, document, image, sticker, video; also template and interactive header
  media) carry exactly one of ``id`` (uploaded media) and ``link`` (URL).

A payload without ``type`` takes the type of its single content key (``text``, ``image``,
...): Meta defaults the type, and the spec's own examples rely on it. The filled-in type
is part of the validated message, so it is sent explicitly.

Meta's nested vocabularies (interactive types, header types, button sub-types, parameter
types) are open strings: the spec's examples already use values its enums lack.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any, TypeAlias

from pydantic import AfterValidator, BeforeValidator, Field, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from pixy_whatsapp.models import _generated_send as spec
from pixy_whatsapp.models._generated_vocabulary import OUTBOUND_MESSAGE_TYPES
from pixy_whatsapp.models.exceptions import MessageValidationError
from pixy_whatsapp.models.problems import MessageProblem, problems_from_error, unique

MEDIA_TYPES = frozenset({"audio", "document", "image", "sticker", "video"})

MessageVariant: TypeAlias = (
    spec.TextMessage
    | spec.AudioMessage
    | spec.DocumentMessage
    | spec.ImageMessage
    | spec.LocationMessage
    | spec.VideoMessage
    | spec.StickerMessage
    | spec.ReactionMessage
    | spec.InteractiveMessage
    | spec.TemplateMessage
    | spec.ContactsMessage
)

SendMessageResponse = spec.MessageResponsePayload
GraphErrorBody = spec.GraphAPIError
GraphError = spec.GraphAPIErrorError
ReadReceipt = spec.MarkMessageRequestPayload


def fill_type(value: Any) -> Any:
    """Add ``type`` from the one content key present, when ``type`` is missing."""
    if not isinstance(value, Mapping) or "type" in value:
        return value
    present = [key for key in sorted(OUTBOUND_MESSAGE_TYPES) if key in value]
    return {**value, "type": present[0]} if len(present) == 1 else value


def dump_message(message: MessageVariant) -> dict[str, Any]:
    """The JSON body for Meta: the keys that were set, by their JSON names."""
    return message.model_dump(mode="json", by_alias=True, exclude_unset=True)


def rule_problems(payload: Mapping[str, Any]) -> list[MessageProblem]:
    """Problems the generated models cannot see (they span keys or need a value)."""
    problems: list[MessageProblem] = []
    if "messaging_product" in payload and payload["messaging_product"] != "whatsapp":
        problems.append(MessageProblem("$.messaging_product", "must be 'whatsapp'"))
    if not (_filled(payload.get("to")) or _filled(payload.get("recipient"))):
        problems.append(
            MessageProblem(
                "$.to",
                "a recipient is required: `to` (phone number) or `recipient` "
                "(business-scoped user id)",
            )
        )
    kind = payload.get("type")
    content = payload.get(kind) if isinstance(kind, str) else None
    if not isinstance(kind, str) or not isinstance(content, Mapping):
        return problems  # missing or mistyped content is reported by the models
    if kind == "text" and _blank(content.get("body")):
        problems.append(MessageProblem("$.text.body", "must not be empty"))
    if kind == "template" and _blank(content.get("name")):
        problems.append(MessageProblem("$.template.name", "must not be empty"))
    for path, media in _media_objects(kind, content):
        problem = _media_problem(path, media)
        if problem:
            problems.append(problem)
    return problems


def _filled(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _blank(value: Any) -> bool:
    return isinstance(value, str) and value.strip() == ""


def _media_objects(kind: str, content: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """Every media object in a message, with its JSON path."""
    if kind in MEDIA_TYPES:
        yield f"$.{kind}", content
    elif kind == "interactive":
        header = content.get("header")
        if isinstance(header, Mapping) and header.get("type") in MEDIA_TYPES:
            media = header["type"]
            yield f"$.interactive.header.{media}", header.get(media)
    elif kind == "template":
        components = content.get("components")
        for i, component in enumerate(components if isinstance(components, list) else []):
            parameters = component.get("parameters") if isinstance(component, Mapping) else None
            for j, parameter in enumerate(parameters if isinstance(parameters, list) else []):
                media = parameter.get("type") if isinstance(parameter, Mapping) else None
                if media in MEDIA_TYPES:
                    path = f"$.template.components[{i}].parameters[{j}].{media}"
                    yield path, parameter.get(media)


def _media_problem(path: str, media: Any) -> MessageProblem | None:
    if not isinstance(media, Mapping):
        return MessageProblem(path, "a media object with `id` or `link` is required")
    has_id, has_link = _filled(media.get("id")), _filled(media.get("link"))
    if not (has_id or has_link):
        return MessageProblem(path, "needs `id` (uploaded media) or `link` (URL)")
    if has_id and has_link:
        return MessageProblem(path, "has both `id` and `link`; send one")
    return None


def _enforce_rules(message: MessageVariant) -> MessageVariant:
    problems = rule_problems(dump_message(message))
    if problems:
        raise PydanticCustomError(
            "send_rules", "{problems}", {"problems": "; ".join(map(str, problems))}
        )
    return message


# The discriminator sits on the bare union: wrapped around validators it would not be a
# tagged union any more (every member tried, every member's errors reported).
_TaggedMessage = Annotated[MessageVariant, Field(discriminator="type")]

OutboundMessage = Annotated[
    _TaggedMessage, BeforeValidator(fill_type), AfterValidator(_enforce_rules)
]
"""A Meta message object, validated by the spec's models and the rules above."""

# Spec-only validation: validate_message reports rule problems itself, with their paths.
_MESSAGE_SHAPE: TypeAdapter[MessageVariant] = TypeAdapter(_TaggedMessage)
_READ_RECEIPT: TypeAdapter[ReadReceipt] = TypeAdapter(ReadReceipt)


def is_read_receipt(payload: Mapping[str, Any]) -> bool:
    """A read receipt (``status: read``, optional typing indicator) rather than a message."""
    return "status" in payload and "type" not in payload


def validate_message(payload: Mapping[str, Any]) -> list[MessageProblem]:
    """Every problem in a send body, with JSON paths; an empty list means valid.

    Accepts messages and read receipts, the two bodies Meta takes on this endpoint.
    """
    if not isinstance(payload, Mapping):
        return [MessageProblem("$", "a send body must be a JSON object")]
    if is_read_receipt(payload):
        try:
            _READ_RECEIPT.validate_python(payload)
        except ValidationError as exc:
            return problems_from_error(exc)
        if payload["status"] != "read":
            return [MessageProblem("$.status", "must be 'read' (the only status a business sets)")]
        return []
    body = fill_type(payload)
    if "type" not in body:
        return [
            MessageProblem(
                "$.type",
                "is required: no single content key (text, image, template, ...) to take it from",
            ),
            *rule_problems(body),
        ]
    problems: list[MessageProblem] = []
    try:
        _MESSAGE_SHAPE.validate_python(body)
    except ValidationError as exc:
        problems = problems_from_error(exc, skip=1)  # the union puts the tag first
    return unique([*problems, *rule_problems(body)])


def parse_message(payload: Mapping[str, Any]) -> MessageVariant:
    """The validated message; raises :class:`MessageValidationError` listing every problem."""
    if isinstance(payload, Mapping) and is_read_receipt(payload):
        raise MessageValidationError([MessageProblem("$", "a read receipt is not a message")])
    problems = validate_message(payload)
    if problems:
        raise MessageValidationError(problems)
    return _MESSAGE_SHAPE.validate_python(fill_type(payload))
