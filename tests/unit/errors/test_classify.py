"""classify: the action, delay and breaker for representative codes, bands and unknowns."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pixy_whatsapp.errors import (
    MAX_DELAY_SECONDS,
    Action,
    BreakerScope,
    ErrorClass,
    classify,
)


@pytest.mark.parametrize(
    ("code", "action", "error_class", "breaker"),
    [
        (1, Action.RETRY_BACKOFF, ErrorClass.TRANSIENT, BreakerScope.NUMBER),
        (2, Action.RETRY_BACKOFF, ErrorClass.TRANSIENT, BreakerScope.NUMBER),
        (131000, Action.RETRY_BACKOFF, ErrorClass.TRANSIENT, BreakerScope.NUMBER),
        (131016, Action.RETRY_BACKOFF, ErrorClass.TRANSIENT, BreakerScope.NUMBER),
        (133004, Action.RETRY_BACKOFF, ErrorClass.TRANSIENT, BreakerScope.NUMBER),
        (131056, Action.RETRY_AFTER, ErrorClass.PAIR_LIMITED, BreakerScope.NONE),
        (131057, Action.RETRY_AFTER, ErrorClass.TRANSIENT, BreakerScope.NONE),
        (130429, Action.THROTTLE_NUMBER, ErrorClass.THROTTLED, BreakerScope.NONE),
        (4, Action.THROTTLE_WABA, ErrorClass.THROTTLED, BreakerScope.NONE),
        (613, Action.THROTTLE_WABA, ErrorClass.THROTTLED, BreakerScope.NONE),
        (80007, Action.THROTTLE_WABA, ErrorClass.THROTTLED, BreakerScope.NONE),
        (0, Action.PAUSE_CREDENTIALS, ErrorClass.CREDENTIALS, BreakerScope.WABA),
        (3, Action.PAUSE_CREDENTIALS, ErrorClass.CREDENTIALS, BreakerScope.WABA),
        (10, Action.PAUSE_CREDENTIALS, ErrorClass.CREDENTIALS, BreakerScope.WABA),
        (190, Action.PAUSE_CREDENTIALS, ErrorClass.CREDENTIALS, BreakerScope.WABA),
        (200, Action.PAUSE_CREDENTIALS, ErrorClass.CREDENTIALS, BreakerScope.WABA),
        (368, Action.PAUSE_ACCOUNT, ErrorClass.ACCOUNT, BreakerScope.WABA),
        (131031, Action.PAUSE_ACCOUNT, ErrorClass.ACCOUNT, BreakerScope.WABA),
        (131042, Action.PAUSE_ACCOUNT, ErrorClass.ACCOUNT, BreakerScope.WABA),
        (131064, Action.PAUSE_ACCOUNT, ErrorClass.ACCOUNT, BreakerScope.WABA),
        (131048, Action.PAUSE_ACCOUNT, ErrorClass.ACCOUNT, BreakerScope.NUMBER),
        (133010, Action.PAUSE_ACCOUNT, ErrorClass.ACCOUNT, BreakerScope.NUMBER),
        (100, Action.FAIL_PERMANENT, ErrorClass.PERMANENT, BreakerScope.NONE),
        (131008, Action.FAIL_PERMANENT, ErrorClass.PERMANENT, BreakerScope.NONE),
        (131009, Action.FAIL_PERMANENT, ErrorClass.PERMANENT, BreakerScope.NONE),
        (135000, Action.FAIL_PERMANENT, ErrorClass.PERMANENT, BreakerScope.NONE),
        (131026, Action.FAIL_PERMANENT, ErrorClass.RECIPIENT, BreakerScope.NONE),
        (131047, Action.FAIL_PERMANENT, ErrorClass.RECIPIENT, BreakerScope.NONE),
        (131049, Action.FAIL_PERMANENT, ErrorClass.RECIPIENT, BreakerScope.NONE),
        (131050, Action.FAIL_PERMANENT, ErrorClass.RECIPIENT, BreakerScope.NONE),
        (132000, Action.FAIL_PERMANENT, ErrorClass.TEMPLATE, BreakerScope.NONE),
        (132018, Action.FAIL_PERMANENT, ErrorClass.TEMPLATE, BreakerScope.NONE),
        (132069, Action.FAIL_PERMANENT, ErrorClass.TEMPLATE, BreakerScope.NONE),
        (131059, Action.RESTART_PAGINATION, ErrorClass.PAGINATION, BreakerScope.NONE),
    ],
)
def test_representative_codes(
    code: int, action: Action, error_class: ErrorClass, breaker: BreakerScope
) -> None:
    result = classify(code)
    assert result.known
    assert result.action is action
    assert result.error_class is error_class
    assert result.breaker is breaker
    assert result.retryable is action.retries
    assert (result.delay_seconds is not None) is action.retries
    assert str(code) in result.reason


@pytest.mark.parametrize("code", [201, 250, 299])
def test_permission_band(code: int) -> None:
    result = classify(code, http_status=403)
    assert result.rule.key == "200-299"
    assert result.action is Action.PAUSE_CREDENTIALS


@pytest.mark.parametrize("code", [132002, 132042, 132067])
def test_template_band(code: int) -> None:
    result = classify(code, http_status=503)
    assert result.rule.key == "132000-132069"
    assert result.action is Action.FAIL_PERMANENT


def test_http_status_never_overrides_a_known_code() -> None:
    assert classify(131026, http_status=503).action is Action.FAIL_PERMANENT
    assert classify(2, http_status=400).action is Action.RETRY_BACKOFF


def test_subcode_is_carried_but_does_not_decide() -> None:
    plain = classify(190)
    with_subcode = classify(190, subcode=463)
    assert with_subcode.subcode == 463
    assert with_subcode.rule is plain.rule


def test_pair_limit_waits_four_to_the_attempt() -> None:
    delays = [classify(131056, attempt=attempt).delay_seconds for attempt in range(5)]
    assert delays == [1, 4, 16, 64, 256]
    assert classify(131056, attempt=5).delay_seconds == MAX_DELAY_SECONDS


def test_maintenance_waits_a_minute() -> None:
    assert [classify(131057, attempt=n).delay_seconds for n in range(3)] == [60, 60, 60]


def test_exhausted_retries_stop_but_keep_the_kind_of_failure() -> None:
    result = classify(131056, attempt=6)
    assert not result.retryable
    assert result.delay_seconds is None
    assert result.action is Action.RETRY_AFTER
    assert "gave up after 6" in result.reason


def test_negative_attempt_counts_as_first() -> None:
    assert classify(131056, attempt=-3).delay_seconds == 1


@pytest.mark.parametrize(
    ("code", "http_status", "rule", "action"),
    [
        (None, None, "unknown-transient", Action.RETRY_BACKOFF),
        (None, 502, "unknown-transient", Action.RETRY_BACKOFF),
        (987654, 500, "unknown-transient", Action.RETRY_BACKOFF),
        (987654, 408, "unknown-transient", Action.RETRY_BACKOFF),
        (987654, 429, "unknown-throttled", Action.THROTTLE_NUMBER),
        (None, 429, "unknown-throttled", Action.THROTTLE_NUMBER),
        (987654, 400, "unknown-permanent", Action.FAIL_PERMANENT),
        (987654, 404, "unknown-permanent", Action.FAIL_PERMANENT),
        (None, 403, "unknown-permanent", Action.FAIL_PERMANENT),
        (987654, None, "unknown-permanent", Action.FAIL_PERMANENT),
    ],
)
def test_unknown_codes_by_http_status(
    code: int | None, http_status: int | None, rule: str, action: Action
) -> None:
    result = classify(code, http_status=http_status)
    assert not result.known
    assert result.rule.key == rule
    assert result.action is action
    assert result.error_class is ErrorClass.UNKNOWN


def test_unknown_permanent_keeps_the_code_in_the_reason() -> None:
    result = classify(987654, http_status=400)
    assert result.code == 987654
    assert "987654" in result.reason
    assert not result.retryable


def test_as_dict_is_flat_and_json_ready() -> None:
    fields = classify(131056, http_status=400, attempt=1).as_dict()
    assert json.loads(json.dumps(fields)) == fields
    assert fields["rule"] == "131056"
    assert fields["error_class"] == "pair_limited"
    assert fields["delay_seconds"] == 4


def test_unknown_transient_retries_only_a_few_times() -> None:
    retries = [classify(None, http_status=503, attempt=n).retryable for n in range(10)]
    assert retries == [True] * 3 + [False] * 7


@given(
    code=st.one_of(st.none(), st.integers()),
    subcode=st.one_of(st.none(), st.integers()),
    http_status=st.one_of(st.none(), st.integers()),
    attempt=st.integers(),
)
def test_classify_never_raises_and_delays_stay_bounded(
    code: int | None, subcode: int | None, http_status: int | None, attempt: int
) -> None:
    result = classify(code, subcode=subcode, http_status=http_status, attempt=attempt)
    if result.retryable:
        assert result.delay_seconds is not None
        assert 1 <= result.delay_seconds <= MAX_DELAY_SECONDS
    else:
        assert result.delay_seconds is None
    assert result.reason


@given(code=st.integers(), http_status=st.one_of(st.none(), st.integers(100, 599)))
def test_no_rule_retries_forever(code: int, http_status: int | None) -> None:
    result = classify(code, http_status=http_status, attempt=10_000)
    assert not result.retryable
