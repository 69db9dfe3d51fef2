# Generated from Meta's WhatsApp Business Messaging OpenAPI spec v23.0 by tools/generate_models.py.
# Do not edit by hand: regenerate with `make models`.

"""Values the spec lists for fields the models keep open; others are new to it."""

INBOUND_MESSAGE_TYPES: frozenset[str] = frozenset(
    {
        "audio",
        "button",
        "contacts",
        "document",
        "image",
        "interactive",
        "location",
        "order",
        "reaction",
        "sticker",
        "system",
        "text",
        "unknown",
        "unsupported",
        "video",
    }
)
OUTBOUND_MESSAGE_TYPES: frozenset[str] = frozenset(
    {
        "audio",
        "contacts",
        "document",
        "image",
        "interactive",
        "location",
        "reaction",
        "sticker",
        "template",
        "text",
        "video",
    }
)
STATUS_VALUES: frozenset[str] = frozenset({"delivered", "failed", "read", "sent"})
CHANGE_FIELDS: frozenset[str] = frozenset(
    {"group_lifecycle_update", "group_participant_update", "group_settings_update", "messages"}
)
