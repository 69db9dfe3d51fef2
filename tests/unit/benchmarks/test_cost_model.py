"""The cost model of `benchmarks/cost_per_million.py`: prices, billing units, accounting.

The expected figures are worked out by hand from aws-facts.md §5, so a wrong unit (per
request vs per million, MB vs GB, ms vs s) shows up as a different number here.
"""

from __future__ import annotations

from collections import Counter

import pytest

from benchmarks import cost_per_million as cost
from benchmarks._local_meter import FunctionUsage, IndexTracker, Usage, _update_clauses
from benchmarks._local_prices import (
    PRICES,
    Quantity,
    billed_ms,
    chunks,
    cost_lines,
    eventbridge_entry_bytes,
    gb_seconds,
    lambda_platform_lines,
    lambda_quantities,
    log_gb,
    total,
)


def usd_per_million(quantities: list[Quantity], messages: int = 1_000_000) -> float:
    return total(cost_lines(quantities, messages))


# -- prices and units ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "per_million_units"),
    [
        ("lambda_request", 0.20),
        ("sqs_fifo", 0.50),
        ("sqs_standard", 0.40),
        ("dynamodb_wru", 0.625),
        ("dynamodb_rru", 0.125),
        ("http_api", 1.00),
        ("eventbridge", 1.00),
        ("secrets_call", 5.00),  # $0.05 per 10,000
    ],
)
def test_request_prices_are_the_brief_list_prices(key: str, per_million_units: float) -> None:
    assert PRICES[key].usd * 1_000_000 == pytest.approx(per_million_units)


def test_duration_and_log_prices() -> None:
    assert PRICES["lambda_gb_s"].usd == pytest.approx(0.0000133334)
    assert PRICES["logs_gb"].usd == pytest.approx(0.50)


def test_billed_duration_rounds_each_invocation_up_to_a_millisecond() -> None:
    assert billed_ms(0.2) == 1
    assert billed_ms(12.0) == 12
    assert billed_ms(12.01) == 13


def test_gb_seconds_use_memory_in_mb_over_1024() -> None:
    assert gb_seconds(1000, 1024) == pytest.approx(1.0)
    assert gb_seconds(50, 512) == pytest.approx(0.025)


@pytest.mark.parametrize(
    ("size", "expected"), [(0, 1), (1, 1), (65_536, 1), (65_537, 2), (200_000, 4)]
)
def test_every_started_64_kb_is_billed(size: int, expected: int) -> None:
    assert chunks(size, 64 * 1024) == expected


def test_eventbridge_entry_size_counts_the_billed_fields_only() -> None:
    entry: dict[str, object] = {
        "Source": "pixy.whatsapp",  # 13
        "DetailType": "message.status",  # 14
        "Detail": '{"a":"é"}',  # 10 bytes in UTF-8
        "Resources": ["arn:x"],  # 5
        "EventBusName": "not-counted",
    }
    assert eventbridge_entry_bytes(entry) == 13 + 14 + 10 + 5
    assert eventbridge_entry_bytes({**entry, "Time": "2026-01-01T00:00:00Z"}) == 42 + 14


def test_log_gb_adds_26_bytes_per_event() -> None:
    assert log_gb(1_000_000_000, 0) == pytest.approx(1.0)
    assert log_gb(74, 1) == pytest.approx(100 / 1e9)


def test_platform_lines_are_start_end_report_with_the_billed_duration() -> None:
    start, end, report = lambda_platform_lines(12.01, 256)
    assert start.startswith("START RequestId: ")
    assert end.startswith("END RequestId: ")
    assert "Duration: 12.01 ms\tBilled Duration: 13 ms\tMemory Size: 256 MB" in report
    assert "XRAY TraceId: " in report
    untraced = lambda_platform_lines(12.01, 256, traced=False)[2]
    assert "XRAY" not in untraced
    assert len(report) > len(untraced)


# -- the brief's own cost model, reproduced ------------------------------------------------


def test_reproduces_the_briefs_lambda_lines() -> None:
    # aws-facts.md §5.2: sender 0.1M batches x 50 ms x 512 MB -> $0.020 + $0.033;
    # webhook 3M x 50 ms x 256 MB -> $0.600 + $0.500.
    sender = cost_lines(lambda_quantities("sender", 100_000, 100_000 * 50, 512), 1_000_000)
    assert [round(line.usd_per_million, 3) for line in sender] == [0.020, 0.033]
    webhook = lambda_quantities("webhook", 3_000_000, 3_000_000 * 50, 256)
    assert usd_per_million(webhook) == pytest.approx(1.100, abs=0.001)


def test_reproduces_the_briefs_request_lines() -> None:
    lines = [
        Quantity("webhook HTTP API", "http_api", 3_000_000),  # $3.000
        Quantity("SendMessageBatch", "sqs_fifo", 100_000),  # $0.050
        Quantity("receive + delete", "sqs_fifo", 200_000),  # $0.100
        Quantity("status write", "dynamodb_wru", 1_000_000),  # $0.625
        Quantity("breaker read", "dynamodb_rru", 50_000),  # $0.006
        Quantity("logs", "logs_gb", 3.85),  # $1.925
    ]
    priced = cost_lines(lines, 1_000_000)
    assert [round(line.usd_per_million, 3) for line in priced] == [
        3.000,
        0.050,
        0.100,
        0.625,
        0.006,
        1.925,
    ]


def test_per_message_figures_scale_from_the_run_to_a_million() -> None:
    # 300 messages, 900 webhook requests: 3 per message, $3 per million.
    (line,) = cost_lines([Quantity("webhooks", "http_api", 900)], 300)
    assert line.per_message == pytest.approx(3.0)
    assert line.usd_per_million == pytest.approx(3.0)
    with pytest.raises(ValueError, match="positive"):
        cost_lines([], 0)


# -- DynamoDB index writes ---------------------------------------------------------------


def test_update_clauses_keep_function_arguments_together() -> None:
    clauses = _update_clauses(
        "SET #t = :at, #w = if_not_exists(#w, :w), n = n + :one REMOVE ambiguous, x"
    )
    assert clauses["SET"] == ["#t = :at", "#w = if_not_exists(#w, :w)", "n = n + :one"]
    assert clauses["REMOVE"] == ["ambiguous", "x"]


def _status_update(message: str, wamid: str) -> dict[str, object]:
    return {
        "TableName": "messages",
        "Key": {"pk": {"S": message}},
        "UpdateExpression": "SET #t = :at, #wamid = if_not_exists(#wamid, :wamid)",
        "ExpressionAttributeNames": {"#t": "t_read", "#wamid": "wamid"},
        "ExpressionAttributeValues": {":at": {"N": "1"}, ":wamid": {"S": wamid}},
    }


def test_keys_only_index_is_written_when_its_key_appears_changes_or_goes() -> None:
    index = IndexTracker({"messages": {"wamid"}})
    no_wamid = {"TableName": "messages", "Item": {"pk": {"S": "m1"}, "st": {"S": "sending"}}}
    with_wamid = {"TableName": "messages", "Item": {"pk": {"S": "m1"}, "wamid": {"S": "w1"}}}
    assert index.writes("PutItem", no_wamid) == 0
    assert index.writes("PutItem", with_wamid) == 1  # the key appears
    assert index.writes("UpdateItem", _status_update("m1", "w1")) == 0  # already there
    assert index.writes("UpdateItem", _status_update("m2", "w2")) == 1  # first on m2
    changed = {
        "TableName": "messages",
        "Key": {"pk": {"S": "m1"}},
        "UpdateExpression": "SET wamid = :w",
        "ExpressionAttributeValues": {":w": {"S": "w9"}},
    }
    assert index.writes("UpdateItem", changed) == 2  # delete the old entry, put the new
    removed = {
        "TableName": "messages",
        "Key": {"pk": {"S": "m1"}},
        "UpdateExpression": "REMOVE #w",
        "ExpressionAttributeNames": {"#w": "wamid"},
    }
    assert index.writes("UpdateItem", removed) == 1
    assert index.writes("DeleteItem", {"TableName": "messages", "Key": {"pk": {"S": "m2"}}}) == 1
    assert index.writes("PutItem", {"TableName": "control", "Item": {"pk": {"S": "x"}}}) == 0


def test_batch_writes_and_transactions_count_their_items() -> None:
    index = IndexTracker({"messages": {"wamid"}})
    batch = {
        "RequestItems": {
            "messages": [
                {"PutRequest": {"Item": {"pk": {"S": "a"}, "wamid": {"S": "1"}}}},
                {"PutRequest": {"Item": {"pk": {"S": "b"}, "wamid": {"S": "2"}}}},
            ]
        }
    }
    assert index.writes("BatchWriteItem", batch) == 2
    transaction = {
        "TransactItems": [
            {"Put": {"TableName": "messages", "Item": {"pk": {"S": "c"}, "wamid": {"S": "3"}}}}
        ]
    }
    assert index.writes("TransactWriteItems", transaction) == 2  # transactions cost double


# -- from counted usage to the cost table ---------------------------------------------------


def _function(name: str, memory_mb: int, invocations: int, ms: float) -> FunctionUsage:
    return FunctionUsage(
        function=name,
        memory_mb=memory_mb,
        invocations=invocations,
        errors=0,
        billed_ms=invocations * ms,
        wall_ms=invocations * ms,
        durations_ms=[ms] * invocations,
        records=0,
        app_log_bytes=0,
        app_log_events=0,
        emf_bytes=100 * invocations,
        emf_blobs=invocations,
        emf_blob_median=100,
        root_log_bytes=0,
        root_log_events=0,
        platform_bytes=274 * invocations,
        platform_events=3 * invocations,
    )


def test_usage_becomes_priced_lines_without_idle_receives() -> None:
    inbound_queue = "stage-inbound"
    usage = Usage(
        functions={"webhook": _function("webhook", 256, 30, 50)},
        http={"POST /webhook": {"calls": 30, "billed": 30, "bytes": 30 * 450}},
        aws={
            "handlers": dict[tuple[str, ...], float](
                {
                    ("sqs", "SendMessage", inbound_queue, "calls"): 30,
                    ("sqs", "SendMessage", inbound_queue, "billed"): 30,
                    ("dynamodb", "PutItem", "stage-idempotency", "calls"): 30,
                    ("dynamodb", "PutItem", "stage-idempotency", "wcu"): 30,
                    ("events", "PutEvents", "bus", "calls"): 10,
                    ("events", "PutEvents", "bus", "entries"): 40,
                    ("events", "PutEvents", "bus", "billed"): 40,
                }
            ),
            "event source mappings": dict[tuple[str, ...], float](
                {
                    # 3 receives with 10 messages each and 7 empty ones
                    ("sqs", "ReceiveMessage", inbound_queue, "calls"): 10,
                    ("sqs", "ReceiveMessage", inbound_queue, "billed"): 10,
                    ("sqs", "ReceiveMessage", inbound_queue, "empty"): 7,
                    ("sqs", "ReceiveMessage", inbound_queue, "received"): 30,
                }
            ),
        },
        unattributed_logs={},
    )
    phase = cost.Phase(
        way=cost.WAYS["B"],
        messages=10,
        usage=usage,
        seconds=1.0,
        handover_s=0.1,
        requests=1,
        statuses=Counter({"read": 10}),
        submit_errors=[],
        duplicates=0,
        timed_out=False,
    )
    cost.price_phase(
        phase,
        item_bytes={"idempotency": (65, 30)},
        table_keys={"stage-idempotency": "idempotency"},
        queue_labels={inbound_queue: "inbound (standard)"},
    )
    by_line = {line.line: line for line in phase.lines}
    assert by_line["HTTP API: webhook requests"].usd_per_million == pytest.approx(3.0)
    assert by_line["λ webhook: requests"].usd_per_million == pytest.approx(0.6)
    # 3 x 50 ms x 0.25 GB per message
    assert by_line["λ webhook: duration (256 MB)"].per_message == pytest.approx(0.0375)
    receive = by_line["SQS inbound (standard): ReceiveMessage (event source mapping)"]
    assert receive.per_message == pytest.approx(0.3)  # the 7 empty receives left out
    assert receive.usd_per_million == pytest.approx(0.12)
    assert by_line["DynamoDB idempotency: write units"].usd_per_million == pytest.approx(1.875)
    assert by_line["EventBridge: events published"].usd_per_million == pytest.approx(4.0)
    # (100 EMF + 274 platform + 4 x 26 overhead) bytes per invocation, 3 per message
    logs = by_line["CloudWatch Logs: webhook"]
    assert logs.per_message == pytest.approx(3 * (100 + 274 + 4 * 26) / 1e9)
    assert any("7 empty ReceiveMessage" in note for note in phase.unpriced)
    # §5.2's 50 ms for the webhook is what was measured here: the same total either way.
    assert total(phase.assumed_lines) == pytest.approx(total(phase.lines))
