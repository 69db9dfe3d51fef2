"""AWS list prices and the arithmetic that turns counted usage into dollars per 1M messages.

Prices are us-east-1 list prices with no free tier, as recorded in the project's design
brief `aws-facts.md`, section 5.1 ("Unit prices"); each entry names the line it comes from.
Nothing here talks to AWS or to the local stack, so the unit tests can check every formula.

Billing units, as the same section and AWS's pricing pages describe them:

- Lambda: requests, plus GB-seconds of *billed* duration, each invocation rounded up to
  1 ms, times the configured memory in GB (MB / 1024);
- SQS: one request per API call and per started 64 KB of its payload;
- EventBridge: one event per entry and per started 64 KB of the entry;
- API Gateway HTTP API: one request per started 512 KB;
- DynamoDB on demand: write and read request units;
- CloudWatch Logs: GB ingested;
- Secrets Manager: API calls.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PER_MILLION = 1_000_000
SOURCE = "aws-facts.md §5.1 (us-east-1 list prices, no free tier)"

SQS_CHUNK_BYTES = 64 * 1024
EVENTBRIDGE_CHUNK_BYTES = 64 * 1024
HTTP_API_CHUNK_BYTES = 512 * 1024
# Read as 10^9 bytes, the larger of the two readings of "GB" in a price list.
LOG_GB_BYTES = 1_000_000_000
# PutLogEvents counts a batch as its events' UTF-8 bytes plus 26 bytes for each event; the
# same overhead is assumed for what ingestion bills.
LOG_EVENT_OVERHEAD_BYTES = 26


@dataclass(frozen=True)
class Price:
    service: str
    unit: str
    usd: float  # per one unit
    quoted: str  # the price as the source writes it


PRICES: dict[str, Price] = {
    "lambda_request": Price("Lambda", "request", 0.20 / PER_MILLION, "$0.20 per 1M requests"),
    "lambda_gb_s": Price("Lambda", "GB-s", 0.0000133334, "$0.0000133334 per GB-s (arm64)"),
    "sqs_fifo": Price("SQS FIFO", "request", 0.50 / PER_MILLION, "$0.50 per 1M requests"),
    "sqs_standard": Price("SQS standard", "request", 0.40 / PER_MILLION, "$0.40 per 1M requests"),
    "dynamodb_wru": Price("DynamoDB", "WRU", 0.625 / PER_MILLION, "$0.625 per 1M WRU"),
    "dynamodb_rru": Price("DynamoDB", "RRU", 0.125 / PER_MILLION, "$0.125 per 1M RRU"),
    "http_api": Price(
        "API Gateway HTTP API", "request", 1.00 / PER_MILLION, "$1.00 per 1M (first 300M)"
    ),
    "eventbridge": Price("EventBridge", "event", 1.00 / PER_MILLION, "$1.00 per 1M custom events"),
    "logs_gb": Price("CloudWatch Logs", "GB", 0.50, "$0.50 per GB ingested"),
    "secrets_call": Price(
        "Secrets Manager", "API call", 0.05 / 10_000, "$0.05 per 10,000 API calls"
    ),
}


# -- billing units -------------------------------------------------------------------------


def chunks(payload_bytes: int, chunk_bytes: int) -> int:
    """Requests (or events) billed for one payload: every started chunk, at least one."""
    return max(1, math.ceil(payload_bytes / chunk_bytes))


def billed_ms(wall_ms: float) -> int:
    """Lambda's billed duration of one invocation: rounded up to the next 1 ms."""
    return max(1, math.ceil(wall_ms))


def gb_seconds(total_billed_ms: float, memory_mb: int) -> float:
    return total_billed_ms / 1000 * memory_mb / 1024


def eventbridge_entry_bytes(entry: dict[str, object]) -> int:
    """An entry's size as EventBridge bills it: Time (14 bytes if given), Source,
    DetailType, Detail and Resources, in UTF-8."""
    size = 14 if entry.get("Time") is not None else 0
    for name in ("Source", "DetailType", "Detail"):
        value = entry.get(name)
        if value is not None:
            size += len(str(value).encode())
    resources = entry.get("Resources") or []
    if isinstance(resources, list | tuple):
        size += sum(len(str(r).encode()) for r in resources)
    return size


def log_gb(event_bytes: int, events: int) -> float:
    return (event_bytes + LOG_EVENT_OVERHEAD_BYTES * events) / LOG_GB_BYTES


# -- turning usage into a table ------------------------------------------------------------


@dataclass(frozen=True)
class Quantity:
    """One billed line of a run: how much of one priced unit all its messages used."""

    line: str
    price: str  # a key of PRICES
    amount: float  # in the price's unit, for the whole run
    note: str = ""


@dataclass(frozen=True)
class CostLine:
    line: str
    price: Price
    per_message: float  # units per message
    usd_per_million: float
    note: str


def cost_lines(quantities: Iterable[Quantity], messages: int) -> list[CostLine]:
    """Each quantity as units per message and dollars per 1,000,000 messages."""
    if messages <= 0:
        raise ValueError("messages must be positive")
    lines = []
    for quantity in quantities:
        price = PRICES[quantity.price]
        per_message = quantity.amount / messages
        lines.append(
            CostLine(
                quantity.line,
                price,
                per_message,
                per_message * PER_MILLION * price.usd,
                quantity.note,
            )
        )
    return lines


def total(lines: Sequence[CostLine]) -> float:
    return sum(line.usd_per_million for line in lines)


def lambda_quantities(
    label: str, invocations: int, total_billed_ms: float, memory_mb: int, note: str = ""
) -> list[Quantity]:
    """A function's two Lambda lines: requests and GB-seconds."""
    return [
        Quantity(f"{label}: requests", "lambda_request", invocations, note),
        Quantity(
            f"{label}: duration ({memory_mb} MB)",
            "lambda_gb_s",
            gb_seconds(total_billed_ms, memory_mb),
            note,
        ),
    ]


def lambda_platform_lines(
    duration_ms: float, memory_mb: int, *, traced: bool = True, max_memory_mb: int = 128
) -> list[str]:
    """The START, END and REPORT lines Lambda writes for one invocation (text log format).

    The CDK stack turns active tracing on, which adds the X-Ray ids to REPORT. Request and
    trace ids have their fixed lengths; the memory used is a stand-in of the same width.
    """
    request_id = "00000000-0000-0000-0000-000000000000"
    report = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {billed_ms(duration_ms)} ms\tMemory Size: {memory_mb} MB\t"
        f"Max Memory Used: {max_memory_mb} MB\t\n"
    )
    if traced:
        report += (
            "XRAY TraceId: 1-00000000-000000000000000000000000\t"
            "SegmentId: 0000000000000000\tSampled: true\t\n"
        )
    return [
        f"START RequestId: {request_id} Version: $LATEST\n",
        f"END RequestId: {request_id}\n",
        report,
    ]
