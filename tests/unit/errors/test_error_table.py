"""The error table covers every documented code, and its rows are coherent."""

from __future__ import annotations

import pytest
from pixy_whatsapp.errors import (
    RULES,
    SOURCES,
    UNKNOWN_RULES,
    Action,
    BreakerScope,
    ErrorClass,
    ErrorRule,
    find_rule,
)
from pixy_whatsapp.errors.table import SECTIONS

# Transcribed by hand from Meta's error code pages (plus 613 and 80008 from the Graph API
# references and 131059 from the Groups API), apart from the table, so a dropped row shows.
DOCUMENTED_CODES = (
    # authorization and integrity
    0, 3, 10, 190, 200, 368, 130497, 131031,
    # throttling
    4, 613, 80007, 80008, 130429, 131048, 131056, 131064, 133016,
    # send, delivery, templates, registration
    1, 2, 33, 100, 130403, 130472, 131000, 131005, 131008, 131009, 131016, 131021,
    131026, 131030, 131037, 131042, 131045, 131047, 131049, 131050, 131051, 131052,
    131053, 131057, 131059, 131063, 132000, 132001, 132005, 132007, 132012, 132015,
    132016, 132018, 132068, 132069, 133000, 133001, 133002, 133003, 133004, 133005,
    133006, 133007, 133008, 133009, 133010, 135000,
)  # fmt: skip
DOCUMENTED_BANDS = ("200-299", "132000-132069")


@pytest.mark.parametrize("code", DOCUMENTED_CODES)
def test_every_documented_code_has_its_own_row(code: int) -> None:
    rule = find_rule(code)
    assert rule is not None
    assert rule.key == str(code)


@pytest.mark.parametrize("band", DOCUMENTED_BANDS)
def test_documented_bands_are_rows(band: str) -> None:
    assert band in {rule.key for rule in RULES}


def test_no_row_beyond_the_documented_codes() -> None:
    documented = {str(code) for code in DOCUMENTED_CODES} | set(DOCUMENTED_BANDS)
    assert {rule.key for rule in RULES} == documented


def test_each_single_code_has_one_row() -> None:
    keys = [rule.key for rule in RULES]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("rule", [*RULES, *UNKNOWN_RULES], ids=lambda rule: rule.key)
def test_rows_are_complete(rule: ErrorRule) -> None:
    assert rule.title
    assert rule.meaning.endswith(".")
    assert rule.section in SECTIONS
    assert all(key in SOURCES for key in rule.sources)
    assert rule.codes is None or rule.sources, "a documented code names its source"


@pytest.mark.parametrize("rule", [*RULES, *UNKNOWN_RULES], ids=lambda rule: rule.key)
def test_breaker_scope_follows_the_action(rule: ErrorRule) -> None:
    if rule.action is Action.PAUSE_CREDENTIALS:
        # one token per WABA: a credential fault stops the whole WABA
        assert rule.breaker is BreakerScope.WABA
    elif rule.action is Action.PAUSE_ACCOUNT:
        assert rule.breaker in {BreakerScope.WABA, BreakerScope.NUMBER}
    elif rule.action is Action.RETRY_BACKOFF:
        assert rule.breaker is BreakerScope.NUMBER
    else:
        # throttles slow down without tripping a breaker; final answers open nothing
        assert rule.breaker is BreakerScope.NONE


def test_unknown_rules_are_labelled_unknown_and_capped() -> None:
    for rule in UNKNOWN_RULES:
        assert rule.codes is None
        assert rule.error_class is ErrorClass.UNKNOWN
        assert rule.max_attempts <= 5


def test_band_precedence_picks_the_specific_row() -> None:
    paused = find_rule(132015)
    band = find_rule(132042)
    assert paused is not None
    assert band is not None
    assert paused.key == "132015"
    assert band.key == "132000-132069"
    assert find_rule(132070) is None
    assert find_rule(199) is None
    assert find_rule(300) is None
