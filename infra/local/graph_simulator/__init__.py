"""A stand-in for Meta's Graph API (WhatsApp Cloud API) on localhost.

It answers `POST /{version}/{phone_number_id}/messages` and `/{waba_id}/subscribed_apps`
like Meta, with latency, throughput and pair limits and injected faults, records every
send it accepted, and posts signed status webhooks back. Tests, the local stack and
`pixy-whatsapp simulate-meta` all use it.

Example:
    from infra.local.graph_simulator import PhoneNumber, SimulatorConfig, run_simulator

    config = SimulatorConfig(
        phone_numbers={"1001": PhoneNumber(waba_id="2001")},
        tokens={"token-a": ("2001",)},
    )
    with run_simulator(config) as sim:
        httpx.post(f"{sim.graph_url}/1001/messages", json=body,
                   headers={"Authorization": "Bearer token-a"})
        sim.accepted  # [AcceptedMessage(...)]
"""

from infra.local.graph_simulator.config import (
    GRAPH_VERSION,
    FaultKind,
    FaultPhase,
    FaultRule,
    FixedLatency,
    Latency,
    LognormalLatency,
    PairLimit,
    PhoneNumber,
    SimulatorConfig,
    TimeWindow,
    UniformLatency,
    WebhookSettings,
    parse_fault,
    parse_latency,
)
from infra.local.graph_simulator.records import AcceptedMessage, DeliveredStatus, ReadReceipt
from infra.local.graph_simulator.server import GraphSimulator, run_simulator, start_simulator
from infra.local.graph_simulator.validation import Problem, Validator
from infra.local.graph_simulator.webhook_payloads import SIGNATURE_HEADER

__all__ = [
    "GRAPH_VERSION",
    "SIGNATURE_HEADER",
    "AcceptedMessage",
    "DeliveredStatus",
    "FaultKind",
    "FaultPhase",
    "FaultRule",
    "FixedLatency",
    "GraphSimulator",
    "Latency",
    "LognormalLatency",
    "PairLimit",
    "PhoneNumber",
    "Problem",
    "ReadReceipt",
    "SimulatorConfig",
    "TimeWindow",
    "UniformLatency",
    "Validator",
    "WebhookSettings",
    "parse_fault",
    "parse_latency",
    "run_simulator",
    "start_simulator",
]
