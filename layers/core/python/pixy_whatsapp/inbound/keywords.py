"""Opt-out and opt-in keywords in what a user writes.

A message is a keyword only when its whole text, trimmed and case-folded, is one: "STOP"
and " stop " opt out, "please stop" does not, so ordinary conversation is never mistaken
for an opt-out.

>>> OptKeywords(["stop"], ["start"]).match("  Stop ")
<OptChange.OPT_OUT: 'opt_out'>
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class OptChange(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"


def normalize(text: str) -> str:
    return text.strip().casefold()


class OptKeywords:
    def __init__(self, opt_out: Iterable[str], opt_in: Iterable[str]) -> None:
        self._opt_out = frozenset(normalize(word) for word in opt_out if word.strip())
        # A word configured in both lists opts out: honouring a stop wrongly costs a missed
        # promotion, ignoring one costs a complaint.
        self._opt_in = frozenset(normalize(word) for word in opt_in if word.strip()) - (
            self._opt_out
        )

    def match(self, text: str | None) -> OptChange | None:
        if not text:
            return None
        word = normalize(text)
        if word in self._opt_out:
            return OptChange.OPT_OUT
        if word in self._opt_in:
            return OptChange.OPT_IN
        return None
