"""Opt-out and opt-in keywords: whole message, trimmed and case-folded."""

from __future__ import annotations

import pytest
from pixy_whatsapp.inbound import OptChange, OptKeywords
from pixy_whatsapp.settings import DEFAULT_OPT_IN_KEYWORDS, DEFAULT_OPT_OUT_KEYWORDS

DEFAULTS = OptKeywords(DEFAULT_OPT_OUT_KEYWORDS, DEFAULT_OPT_IN_KEYWORDS)


@pytest.mark.parametrize("text", ["stop", "STOP", "  Stop\n", "Baja", "SAIR", "unsubscribe"])
def test_a_whole_message_that_is_an_opt_out_word_opts_out(text: str) -> None:
    assert DEFAULTS.match(text) is OptChange.OPT_OUT


@pytest.mark.parametrize("text", ["start", "Resume", " REANUDAR ", "voltar"])
def test_a_whole_message_that_is_an_opt_in_word_opts_in(text: str) -> None:
    assert DEFAULTS.match(text) is OptChange.OPT_IN


@pytest.mark.parametrize("text", ["please stop", "stop!", "st op", "", "   ", None, "stopp"])
def test_anything_else_is_ordinary_conversation(text: str | None) -> None:
    assert DEFAULTS.match(text) is None


def test_case_folding_is_unicode_aware() -> None:
    keywords = OptKeywords(["straße"], [])
    assert keywords.match("STRASSE") is OptChange.OPT_OUT


def test_a_word_in_both_lists_opts_out() -> None:
    keywords = OptKeywords(["halt"], ["halt", "go"])
    assert keywords.match("halt") is OptChange.OPT_OUT
    assert keywords.match("go") is OptChange.OPT_IN
