"""The sender: SQS batches of send requests to Meta's Graph API, every outcome recorded."""

from pixy_whatsapp.sender.policy import SenderPolicy
from pixy_whatsapp.sender.processor import BatchReport, Fate, Sender
from pixy_whatsapp.sender.records import QueuedRecord, parse_record
from pixy_whatsapp.sender.runtime import SenderClients, build_sender
from pixy_whatsapp.sender.telemetry import SenderTelemetry

__all__ = [
    "BatchReport",
    "Fate",
    "QueuedRecord",
    "Sender",
    "SenderClients",
    "SenderPolicy",
    "SenderTelemetry",
    "build_sender",
    "parse_record",
]
