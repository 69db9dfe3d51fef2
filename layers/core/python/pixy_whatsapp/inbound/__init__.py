"""The inbound processor: webhook bodies from the inbound queue to state and events.

>>> processor = build_inbound_processor(settings, InboundClients(dynamodb, sqs, s3, events))
>>> processor.process(record["body"], source_message_id=record["messageId"])
<RecordOutcome.HANDLED: 'handled'>

Statuses update the messages table monotonically, inbound messages keep each contact's
customer-service window, opt-out keywords and Meta's opt-out signals update the contact,
throughput changes update the number's rate limit, and everything becomes an event on the
bus, once. See ``processor`` for the order of work and what a retry redoes.
"""

from pixy_whatsapp.inbound.directory import NumberDirectory
from pixy_whatsapp.inbound.exceptions import GuardBusy, InboundError
from pixy_whatsapp.inbound.guards import GuardState, GuardStore
from pixy_whatsapp.inbound.keywords import OptChange, OptKeywords
from pixy_whatsapp.inbound.messages import MessageHandler
from pixy_whatsapp.inbound.processor import (
    REASON_ATTRIBUTE,
    SOURCE_MESSAGE_ATTRIBUTE,
    InboundProcessor,
    RecordOutcome,
)
from pixy_whatsapp.inbound.runtime import (
    GUARD_TTL_FLOOR_SECONDS,
    InboundClients,
    build_inbound_processor,
)
from pixy_whatsapp.inbound.statuses import StatusHandler
from pixy_whatsapp.inbound.telemetry import InboundTelemetry
from pixy_whatsapp.inbound.updates import UpdateHandler, throughput_mps

__all__ = [
    "GUARD_TTL_FLOOR_SECONDS",
    "REASON_ATTRIBUTE",
    "SOURCE_MESSAGE_ATTRIBUTE",
    "GuardBusy",
    "GuardState",
    "GuardStore",
    "InboundClients",
    "InboundError",
    "InboundProcessor",
    "InboundTelemetry",
    "MessageHandler",
    "NumberDirectory",
    "OptChange",
    "OptKeywords",
    "RecordOutcome",
    "StatusHandler",
    "UpdateHandler",
    "build_inbound_processor",
    "throughput_mps",
]
