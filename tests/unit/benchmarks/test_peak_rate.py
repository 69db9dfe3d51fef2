"""peak_rate: its arguments, the slots the limiter books, and how a step is judged."""

from __future__ import annotations

import argparse

import pytest

from benchmarks.peak_rate import LimitStep, cap_number, parse_args, parse_caps, parse_counts


def test_caps_are_tried_highest_first_without_repeats() -> None:
    assert parse_caps("200,1000,600,1000") == [1000, 600, 200]


@pytest.mark.parametrize("text", ["", "0", "1001", "200,-5"])
def test_caps_outside_metas_range_are_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_caps(text)


def test_counts() -> None:
    assert parse_counts("1,4,8") == [1, 4, 8]
    assert parse_counts("") == []
    with pytest.raises(argparse.ArgumentTypeError):
        parse_counts("0")


def test_each_cap_has_its_own_number() -> None:
    assert len({cap_number(i) for i in range(10)}) == 10


def test_durations_must_outlast_the_warmup() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--duration", "2", "--warmup", "2"])
    args = parse_args([])
    assert args.caps[0] == 1000


def test_booked_slots_leave_one_batch_below_burst_plus_a_second() -> None:
    from pixy_whatsapp.limits import GcraPolicy

    from benchmarks._rates import max_in_window
    from benchmarks.peak_rate import BATCH, booked_slots

    # 100 a second, a burst of 20: two batches at once, then one every 100 ms.
    slots = booked_slots(GcraPolicy(interval_us=10_000, burst=20), cap=100)
    assert slots[:3] == [0.0, 0.0, 0.1]
    assert BATCH * max_in_window(slots, 1.0) == 20 + 100 - 10


def _step(**fields: object) -> LimitStep:
    base: dict[str, object] = {
        "label": "step",
        "cap": 400,
        "number": "1100",
        "environments": 8,
        "duration_s": 20.0,
        "warmup_s": 2.0,
        "limit": 400,
        "sustained": 379.94,
    }
    return LimitStep(**{**base, **fields})  # type: ignore[arg-type]


def test_verdicts() -> None:
    assert _step(rate=380.0).verdict == "**goal met**"
    kept_up = _step(rate=379.5)
    assert kept_up.held
    assert not kept_up.goal_met
    assert kept_up.verdict.startswith("**held**")
    assert _step(rate=379.5, rejections={"130429": 3}).verdict == "missed: 130429"
    assert _step(rate=300.0).verdict == "missed: rate"


def test_a_step_with_room_below_the_cap_is_judged_on_130429_alone() -> None:
    step = _step(limit=360, sustained=341.9, rate=341.0)
    assert step.verdict == "**no 130429** (kept up with the limiter)"
    assert _step(limit=360, sustained=341.9, rate=341.0, rejections={"130429": 1}).verdict == (
        "130429 (kept up with the limiter)"
    )
