"""The sender against moto and the Graph simulator: outcomes, order, redelivery, poison."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from pixy_whatsapp.outbound import Category
from pixy_whatsapp.sender import Fate, SenderPolicy
from pixy_whatsapp.statuses import MessageStatus

from infra.local.graph_simulator import FaultKind, FaultPhase, FaultRule

from .harness import NUMBER, WABA, SenderHarness, text_request

Build = Any  # the make_harness fixture's builder


def test_a_batch_is_accepted_and_recorded(make_harness: Build) -> None:
    h: SenderHarness = make_harness()
    requests = [text_request(f"1555000{i:04d}", f"hello {i}") for i in range(10)]
    h.enqueue(requests)

    report = h.run_batch()

    assert report is not None
    assert report.failed_ids == []
    assert len(h.simulator.accepted) == 10
    for request in requests:
        record = h.messages.get(request.id)
        assert record is not None
        assert record.status is MessageStatus.ACCEPTED
        assert record.wamid
        assert record.wamid.startswith("wamid.")
        assert record.attempts == 1
    callback = {m.biz_opaque_callback_data for m in h.simulator.accepted}
    assert callback == {r.id for r in requests}


def test_a_redelivered_batch_sends_nothing_twice(make_harness: Build) -> None:
    h: SenderHarness = make_harness()
    h.enqueue(text_request(f"1555100{i:04d}", "once") for i in range(6))
    records = h.receive()
    first = h.process(records)
    # SQS delivers the same records again (e.g. the delete was lost).
    again = h.process(records)

    assert first.failed_ids == []
    assert again.failed_ids == []
    assert len(h.simulator.accepted) == 6
    assert set(again.fates.values()) == {Fate.DONE}


def test_order_per_recipient_holds_under_injected_failures(make_harness: Build) -> None:
    h: SenderHarness = make_harness(
        simulator={"faults": (FaultRule(kind=FaultKind.SERVER_ERROR, rate=0.3),), "seed": 7}
    )
    recipients = [f"1555200{i:04d}" for i in range(5)]
    sequence = [(to, n) for n in range(4) for to in recipients]
    h.enqueue(text_request(to, f"{to}:{n}") for to, n in sequence)

    h.drain()

    assert h.simulator.fault_counts.get("server_error", 0) > 0
    for to in recipients:
        sent = [m.body["text"]["body"] for m in h.simulator.accepted if m.recipient == to]
        assert sent == [f"{to}:{n}" for n in range(4)], sent
    assert h.simulator.duplicates_by_callback_data() == {}


def test_poison_goes_to_the_dlq_with_its_reason_and_neighbours_succeed(
    make_harness: Build,
) -> None:
    h: SenderHarness = make_harness()
    good = [text_request(f"1555300{i:04d}", "fine") for i in range(3)]
    h.enqueue(good[:2])
    h.enqueue_raw("{not json", group=f"{WABA}#0", dedup="poison-1")
    bad_id = "bad-message-1"
    h.enqueue_raw(
        json.dumps({"id": bad_id, "waba_id": WABA, "phone_number_id": NUMBER, "to": "1"}),
        group=f"{WABA}#1",
        dedup="poison-2",
    )
    h.enqueue(good[2:])

    h.drain()

    assert len(h.simulator.accepted) == 3
    dead = h.dlq_messages()
    reasons = sorted(m["MessageAttributes"]["reason"]["StringValue"] for m in dead)
    assert len(dead) == 2
    assert reasons[0].startswith("body is not JSON")
    assert "message" in reasons[1]  # the missing field is named
    record = h.messages.get(bad_id)
    assert record is not None
    assert record.status is MessageStatus.FAILED
    assert record.error is not None
    assert record.error.reason == "invalid"


def test_expired_and_opted_out_messages_are_never_sent(make_harness: Build) -> None:
    h: SenderHarness = make_harness()
    past = datetime.now(UTC) - timedelta(seconds=1)
    expired = text_request("15554000001", "late", not_after=past)
    marketing = text_request("15554000002", "buy", category=Category.MARKETING)
    service = text_request("15554000002", "receipt", category=Category.SERVICE)
    h.contacts.set_opt_out(WABA, "15554000002", opted_out=True, at_ms=1, source="keyword")
    h.enqueue([expired, marketing, service])

    h.drain()

    sent = [m.body["text"]["body"] for m in h.simulator.accepted]
    assert sent == ["receipt"]
    for request, reason in ((expired, "expired"), (marketing, "opted_out")):
        record = h.messages.get(request.id)
        assert record is not None
        assert record.status is MessageStatus.FAILED
        assert record.error is not None
        assert record.error.reason == reason


def test_a_permanent_error_fails_with_metas_code_without_retry(make_harness: Build) -> None:
    h: SenderHarness = make_harness(
        simulator={"faults": (FaultRule(kind=FaultKind.UNDELIVERABLE, max_count=1),)}
    )
    first, second = text_request("15555000001", "a"), text_request("15555000001", "b")
    h.enqueue([first, second])

    report = h.run_batch()

    assert report is not None
    assert report.failed_ids == []
    record = h.messages.get(first.id)
    assert record is not None
    assert record.status is MessageStatus.FAILED
    assert record.error is not None
    assert record.error.code == 131026
    assert record.error.error_class == "recipient"
    # A settled failure does not hold the recipient's later messages back.
    later = h.messages.get(second.id)
    assert later is not None
    assert later.status is MessageStatus.ACCEPTED


def test_a_transient_error_is_retried_then_accepted(make_harness: Build) -> None:
    h: SenderHarness = make_harness(
        simulator={"faults": (FaultRule(kind=FaultKind.SERVER_ERROR, max_count=1),)}
    )
    first, second = text_request("15556000001", "a"), text_request("15556000001", "b")
    h.enqueue([first, second])

    report = h.run_batch()
    assert report is not None
    assert len(report.failed_ids) == 2
    record = h.messages.get(first.id)
    assert record is not None
    assert record.status is MessageStatus.QUEUED
    assert record.last_error is not None
    assert record.last_error.code == 131000

    h.drain()

    assert [m.body["text"]["body"] for m in h.simulator.accepted] == ["a", "b"]
    record = h.messages.get(first.id)
    assert record is not None
    assert record.status is MessageStatus.ACCEPTED
    assert record.attempts == 2


def test_an_ambiguous_timeout_is_not_resent_within_the_window(make_harness: Build) -> None:
    h: SenderHarness = make_harness(
        simulator={
            "faults": (
                FaultRule(
                    kind=FaultKind.TIMEOUT,
                    phase=FaultPhase.AFTER_ACCEPT,
                    max_count=1,
                    hold_seconds=2.0,
                ),
            )
        }
    )
    request = text_request("15557000001", "maybe")
    h.enqueue([request])

    first = h.run_batch()
    assert first is not None
    assert first.failed_ids
    record = h.messages.get(request.id)
    assert record is not None
    assert record.status is MessageStatus.SENDING
    for _ in range(3):  # redeliveries inside the correlation window send nothing
        h.fast_forward()
        report = h.process(h.receive())
        assert set(report.fates.values()) == {Fate.RETRY}
    assert len(h.simulator.accepted) == 1  # Meta did accept it, once

    # Meta's `sent` webhook carries our id back: the inbound path records it ...
    accepted = h.simulator.accepted[0]
    h.messages.apply_status(request.id, MessageStatus.SENT, 1_700_000_000_000, wamid=accepted.wamid)
    # ... and the next delivery finds the message settled.
    h.drain()
    assert len(h.simulator.accepted) == 1
    record = h.messages.get(request.id)
    assert record is not None
    assert record.status is MessageStatus.SENT
    assert record.wamid == accepted.wamid


def test_an_unresolved_ambiguous_send_is_retried_after_the_window(make_harness: Build) -> None:
    h: SenderHarness = make_harness(
        policy=SenderPolicy(ambiguous_window_s=0),
        simulator={
            "faults": (
                FaultRule(
                    kind=FaultKind.CONNECTION_RESET, phase=FaultPhase.BEFORE_ACCEPT, max_count=1
                ),
            )
        },
    )
    request = text_request("15557000002", "retry me")
    h.enqueue([request])

    h.drain()

    assert len(h.simulator.accepted) == 1
    record = h.messages.get(request.id)
    assert record is not None
    assert record.status is MessageStatus.ACCEPTED
    assert record.attempts == 2


@pytest.mark.parametrize(
    ("fault", "scope"), [(FaultKind.TOKEN_REVOKED, "waba"), (FaultKind.POLICY_BLOCK, "waba")]
)
def test_credentials_and_policy_errors_hold_the_wabas_breaker(
    make_harness: Build, fault: FaultKind, scope: str
) -> None:
    h: SenderHarness = make_harness(simulator={"faults": (FaultRule(kind=fault, max_count=1),)})
    first, second = text_request("15558000001", "a"), text_request("15558000002", "b")
    h.enqueue([first])

    h.run_batch()
    h.enqueue([second])
    records = h.receive() + h.receive()
    report = h.process(records) if records else None

    record = h.messages.get(first.id)
    assert record is not None
    assert record.status is MessageStatus.QUEUED
    assert h.breaker.state(scope, WABA).state.value == "held"
    # Nothing more goes to Meta for this WABA while the breaker is held.
    assert len(h.simulator.accepted) == 0
    assert report is None or set(report.fates.values()) <= {Fate.RETRY}


def test_the_number_breaker_opens_half_opens_and_closes(make_harness: Build) -> None:
    h: SenderHarness = make_harness(
        simulator={"faults": (FaultRule(kind=FaultKind.SERVER_ERROR, max_count=3),)}
    )
    h.enqueue(text_request(f"1555900{i:04d}", "x") for i in range(3))
    h.run_batch()
    assert h.breaker.state("number", NUMBER).state.value == "open"

    h.fast_forward()
    h.enqueue([text_request("15559100001", "blocked")])
    report = h.process(h.receive())
    assert set(report.fates.values()) == {Fate.RETRY}
    assert len(h.simulator.accepted) == 0  # nothing reached Meta while open

    time.sleep(0.35)  # the cool-down
    h.drain()

    assert h.breaker.state("number", NUMBER).state.value == "closed"
    assert len(h.simulator.accepted) == 4


def test_the_sender_publishes_accepted_and_failed_events(make_harness: Build) -> None:
    h: SenderHarness = make_harness(events=boto3.client("events"))
    past = datetime.now(UTC) - timedelta(seconds=1)
    ok = text_request("15559900001", "hi", client_reference="order-42", metadata={"k": "v"})
    late = text_request("15559900002", "late", not_after=past, client_reference="order-43")
    h.enqueue([ok, late])

    h.drain()

    events = {e["detail"]["message_id"]: e for e in h.published()}
    assert events[ok.id]["detail-type"] == "message.status"
    assert events[ok.id]["detail"]["status"] == "accepted"
    assert events[ok.id]["detail"]["client_reference"] == "order-42"
    assert events[ok.id]["detail"]["metadata"] == {"k": "v"}
    assert events[late.id]["detail-type"] == "message.failed"
    assert events[late.id]["detail"]["error"]["reason"] == "expired"
    assert events[late.id]["detail"]["client_reference"] == "order-43"
