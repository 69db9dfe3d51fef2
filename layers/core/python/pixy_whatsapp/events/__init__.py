"""Domain events on the EventBridge bus: their details (the contract) and the publisher.

>>> publisher = EventBridgePublisher(events_client, bus_name=settings.event_bus,
...                                  source=settings.event_source)
>>> publisher.publish([MessageReceived(event_id=..., wamid=..., type="text", ...)])

Detail types: ``message.received``, ``message.status``, ``message.failed``,
``template.updated``, ``account.updated``, ``number.updated``; each detail's JSON Schema
is in ``docs/contract/events/`` (``python -m pixy_whatsapp.events.export_schemas``).
"""

from pixy_whatsapp.events.details import (
    DETAIL_MODELS,
    DETAIL_VERSION,
    AccountUpdated,
    DetailType,
    EventDetail,
    MessageFailed,
    MessageReceived,
    MessageStatusChanged,
    MetaError,
    NumberUpdated,
    ReplyTarget,
    TemplateUpdated,
    event_id,
)
from pixy_whatsapp.events.exceptions import EventBusError, EventPublishError, EventTooLarge
from pixy_whatsapp.events.publisher import (
    DEFAULT_SOURCE,
    EventBridgePublisher,
    EventPublisher,
    entry_size,
)

__all__ = [
    "DEFAULT_SOURCE",
    "DETAIL_MODELS",
    "DETAIL_VERSION",
    "AccountUpdated",
    "DetailType",
    "EventBridgePublisher",
    "EventBusError",
    "EventDetail",
    "EventPublishError",
    "EventPublisher",
    "EventTooLarge",
    "MessageFailed",
    "MessageReceived",
    "MessageStatusChanged",
    "MetaError",
    "NumberUpdated",
    "ReplyTarget",
    "TemplateUpdated",
    "entry_size",
    "event_id",
]
