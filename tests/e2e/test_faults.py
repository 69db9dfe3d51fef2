"""A few hundred messages through the whole local stack with Meta misbehaving.

5xx answers, timeouts before and after Meta took the message, per-number throttling,
undeliverable messages, and one WABA whose token is revoked and later replaced: every
message still ends terminal, none is lost, none is sent twice except the ambiguous sends
the sender counts, and every record's status is the furthest one it saw.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from infra.local.graph_simulator import PhoneNumber
from infra.local.stack.demo import DemoResult, run_demo
from infra.local.stack.runner import LOCAL_SETTINGS, LocalConfig, LocalStack, demo_wabas
from infra.topology import FunctionKey

from .conftest import start_stack

MESSAGES = 240
WABAS = demo_wabas()
REVOKED = WABAS[2]
ROTATED_TOKEN = "local-token-waba-3-rotated"
THROTTLED_NUMBER = WABAS[0].numbers[1]
FAULTS = (
    "server_error:0.05",
    "timeout:0.02",
    "timeout:0.02:after_accept",
    "undeliverable:0.03:after_accept",
)


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    yield from start_stack(
        LocalConfig(
            http_port=0,
            latency="uniform:0.005,0.03",
            faults=FAULTS,
            seed=7,
            concurrency={
                FunctionKey.SENDER: 4,
                FunctionKey.INBOUND: 2,
                FunctionKey.API: 2,
                FunctionKey.WEBHOOK: 4,
                FunctionKey.SUBSCRIPTIONS: 1,
            },
            settings={
                **LOCAL_SETTINGS,
                # A held request is given up after 1 s, and a send that may have reached
                # Meta waits 8 s for a webhook before it is sent again.
                "graph_timeout_seconds": 1.0,
                "ambiguous_window_seconds": 8,
                "secret_max_age_seconds": 1,
            },
            simulator_overrides={
                "phone_numbers": {
                    THROTTLED_NUMBER.phone_number_id: PhoneNumber(
                        waba_id=WABAS[0].waba_id,
                        display_phone_number=THROTTLED_NUMBER.display_phone_number,
                        mps=3,
                    )
                }
            },
        )
    )


class Operator:
    """Replaces the revoked token once Meta refused it, then stands in for time passing."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.rotated_at: float | None = None
        self.last_nudge = 0.0

    def __call__(self, result: DemoResult) -> None:
        now = time.monotonic()
        if self.rotated_at is None:
            if self.stack.simulator.rejections.get(190):
                self.stack.rotate_token(REVOKED.waba_id, ROTATED_TOKEN)
                self.rotated_at = now
            return
        # A held breaker defers its WABA's messages for 15 minutes and a back-off for up to
        # minutes; make what the sender handed back visible now, every 2 s.
        if now - self.rotated_at > 1.5 and now - self.last_nudge > 2:
            self.last_nudge = now
            self.stack.pollers[FunctionKey.SENDER].expedite()


def _emf_sum(result: DemoResult, metric: str) -> float:
    return sum(
        series["sum"]
        for series in result.emf["series"]
        if series["metric"] == metric and set(series["dimensions"]) <= {"service"}
    )


def test_every_message_ends_terminal_none_lost_none_sent_twice(stack: LocalStack) -> None:
    stack.simulator.revoke_token(REVOKED.token)
    operator = Operator(stack)

    # Settles in 35-50 s on 2 idle cores; the bound leaves room for a busy machine.
    result = run_demo(stack, MESSAGES, timeout_s=110, tick=operator)

    summary = result.summary()
    report = "\n".join(result.report_lines())
    assert result.settled, report
    assert result.lost == [], report
    assert summary["sent"] == MESSAGES
    assert summary["delivered"] + summary["read"] + summary["failed"] == MESSAGES, report
    # Sent twice only where the sender knowingly re-sent an ambiguous send.
    assert result.extra_sends <= _emf_sum(result, "AmbiguousResends"), report
    assert result.non_monotonic() == [], report
    assert result.dlq == {}, report
    # Failures are Meta's undeliverable verdicts (131026), recorded with their class.
    failed = [i for i in result.ids if result.final_status(i) == "failed"]
    assert failed, report
    for message_id in failed:
        error = result.records[message_id]["error"] or {}
        assert error.get("code") == 131026, error

    # The drill happened: the token was refused then replaced, Meta failed and throttled.
    rejections = stack.simulator.rejections
    assert operator.rotated_at is not None
    assert rejections.get(190, 0) >= 1, rejections
    assert rejections.get(131000, 0) >= 1, rejections
    assert rejections.get(130429, 0) >= 1, rejections
    assert stack.simulator.fault_counts.get("timeout", 0) >= 1
    assert _emf_sum(result, "Retries") >= 1
    assert _emf_sum(result, "AmbiguousSends") >= 1
    # The revoked WABA's messages went out once its new token was in place.
    assert any(
        message.waba_id == REVOKED.waba_id and message.accepted_at > 0
        for message in stack.simulator.accepted
    )
