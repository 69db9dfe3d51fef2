"""When SQS does not take every message: 207, per-message outcomes, records marked failed."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from .conftest import HANDLER_MODULE
from .support import ApiClient, Deployment, text


def test_a_batch_the_queue_refuses_is_failed_and_later_messages_to_its_recipients_held_back(
    api: ApiClient, deployment: Deployment
) -> None:
    # A queue that takes nothing over 1 KiB refuses a whole SendMessageBatch holding one.
    deployment.sqs.set_queue_attributes(
        QueueUrl=deployment.settings.outbound_queue_url,
        Attributes={"MaximumMessageSize": "1024"},
    )
    first_batch = [text(f"hello {i}", id=f"a{i}", to=f"+1555000{i:04d}") for i in range(10)]
    refused_batch = [text("x" * 1500, id="big", to="+15559990000")] + [
        text(f"hello {i}", id=f"b{i}", to=f"+1555100{i:04d}") for i in range(9)
    ]
    later = [
        text("after the big one", id="later-same-recipient", to="+15559990000"),
        text("unrelated", id="later-other-recipient", to="+15558880000"),
    ]

    answer = api.send(*first_batch, *refused_batch, *later)

    assert answer.status == 207
    outcomes = {a["id"]: a for a in answer.body["messages"]}
    assert [a["id"] for a in answer.body["messages"]] == [
        m["id"] for m in first_batch + refused_batch + later
    ]
    assert {outcomes[m["id"]]["status"] for m in first_batch} == {"queued"}
    for message in refused_batch:
        assert outcomes[message["id"]]["status"] == "failed"
        assert outcomes[message["id"]]["reason"] == "enqueue_failed"
        assert "shorter than 1024 bytes" in outcomes[message["id"]]["detail"]
    held = outcomes["later-same-recipient"]
    assert (held["status"], held["reason"]) == ("failed", "enqueue_failed")
    assert held["detail"] == "held back: message big to the same recipient was not queued"
    assert outcomes["later-other-recipient"]["status"] == "queued"

    queued_ids = sorted(q.body["id"] for q in deployment.drain_outbound())
    assert queued_ids == sorted([m["id"] for m in first_batch] + ["later-other-recipient"])
    record = api.get("/v1/messages/big").body
    assert record["status"] == "failed"
    assert record["error"]["reason"] == "enqueue_failed"
    assert record["error"]["source"] == "api"
    assert api.get("/v1/messages/later-same-recipient").body["status"] == "failed"
    assert api.get("/v1/messages/a0").body["status"] == "queued"


class SqsFaults:
    """Makes SQS report chosen messages of a SendMessageBatch as failed (partial failure).

    Installed on the boto3 session before the handler's client is created: the entries are
    taken out of the call on their way to SQS and reported back in `Failed`, as SQS does.
    """

    def __init__(self) -> None:
        self.fail_always: set[str] = set()
        self.fail_once: set[str] = set()
        self.attempts: dict[str, int] = {}
        self._dropped: list[dict[str, Any]] = []
        self._kept: list[dict[str, Any]] = []

    def take_out(self, params: dict[str, Any], **_: Any) -> None:
        kept, self._dropped = [], []
        for entry in params["Entries"]:
            message_id = json.loads(entry["MessageBody"])["id"]
            self.attempts[message_id] = self.attempts.get(message_id, 0) + 1
            if message_id in self.fail_always or message_id in self.fail_once:
                self.fail_once.discard(message_id)
                self._dropped.append(entry)
            else:
                kept.append(entry)
        params["Entries"] = self._kept = kept

    def answer_for_sqs(self, **_: Any) -> tuple[AWSResponse, Any] | None:
        # SQS refuses a batch without entries: when all were taken out, answer in its place.
        if self._dropped and not self._kept:
            return AWSResponse("https://sqs.invalid", 200, {}, None), {"Successful": []}
        return None

    def report(self, parsed: dict[str, Any], **_: Any) -> None:
        parsed.setdefault("Failed", []).extend(
            {"Id": e["Id"], "SenderFault": False, "Code": "InternalError", "Message": "injected"}
            for e in self._dropped
        )


@pytest.fixture
def faults(
    deployment: Deployment, boto_session: boto3.Session, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[SqsFaults, ApiClient]]:
    faults = SqsFaults()
    events = boto_session.events
    events.register("provide-client-params.sqs.SendMessageBatch", faults.take_out, "faults-in")
    events.register("before-call.sqs.SendMessageBatch", faults.answer_for_sqs, "faults-sqs")
    events.register("after-call.sqs.SendMessageBatch", faults.report, "faults-out")
    for name, value in deployment.settings.to_env().items():
        monkeypatch.setenv(name, value)
    module: ModuleType = (
        importlib.reload(sys.modules[HANDLER_MODULE])
        if HANDLER_MODULE in sys.modules
        else importlib.import_module(HANDLER_MODULE)
    )
    try:
        yield faults, ApiClient(module.handler)
    finally:
        events.unregister("provide-client-params.sqs.SendMessageBatch", unique_id="faults-in")
        events.unregister("before-call.sqs.SendMessageBatch", unique_id="faults-sqs")
        events.unregister("after-call.sqs.SendMessageBatch", unique_id="faults-out")
        module.services.close()


def test_a_message_sqs_fails_once_is_retried_at_once_and_keeps_its_place(
    faults: tuple[SqsFaults, ApiClient], deployment: Deployment
) -> None:
    sqs_faults, api = faults
    sqs_faults.fail_once.add("m1")

    answer = api.send(text("first", id="m1"), text("second", id="m2"))

    assert answer.status == 202
    assert [a["status"] for a in answer.body["messages"]] == ["queued", "queued"]
    assert sqs_faults.attempts == {"m1": 2, "m2": 1}
    assert {q.body["id"] for q in deployment.drain_outbound()} == {"m1", "m2"}


def test_a_partial_failure_answers_207_with_each_message_s_outcome(
    faults: tuple[SqsFaults, ApiClient], deployment: Deployment
) -> None:
    sqs_faults, api = faults
    sqs_faults.fail_always.add("m2")

    answer = api.send(
        text("to one", id="m1", to="+15550000001"),
        text("to two", id="m2", to="+15550000002"),
        text("to three", id="m3", to="+15550000003"),
    )

    assert answer.status == 207
    assert answer.body["messages"] == [
        {"id": "m1", "status": "queued"},
        {
            "id": "m2",
            "status": "failed",
            "reason": "enqueue_failed",
            "detail": "InternalError: injected",
        },
        {"id": "m3", "status": "queued"},
    ]
    assert sorted(q.body["id"] for q in deployment.drain_outbound()) == ["m1", "m3"]
    failed = api.get("/v1/messages/m2").body
    assert failed["status"] == "failed"
    assert failed["error"]["details"] == "InternalError: injected"
    # Failed is final: the same id again is a duplicate, a new id goes through.
    assert (
        api.send(text("to two", id="m2", to="+15550000002")).body["messages"][0]["status"]
        == "duplicate"
    )
