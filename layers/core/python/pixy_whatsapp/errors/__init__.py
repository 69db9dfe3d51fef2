"""Graph API error classification, driven by one table of codes.

>>> from pixy_whatsapp.errors import Action, classify
>>> classify(130429).action is Action.THROTTLE_NUMBER
True

``RULES`` is the table; ``classify`` picks the row for an error and says what to do for
this attempt; ``explain`` and ``render_markdown`` describe the table for people.
"""

from pixy_whatsapp.errors.actions import Action, BreakerScope, ErrorClass
from pixy_whatsapp.errors.classify import Classification, classify, find_rule, unknown_rule
from pixy_whatsapp.errors.explain import explain
from pixy_whatsapp.errors.markdown import render_markdown
from pixy_whatsapp.errors.rules import MAX_DELAY_SECONDS, Backoff, CodeSpan, ErrorRule
from pixy_whatsapp.errors.table import RULES, SOURCES, UNKNOWN_RULES

__all__ = [
    "MAX_DELAY_SECONDS",
    "RULES",
    "SOURCES",
    "UNKNOWN_RULES",
    "Action",
    "Backoff",
    "BreakerScope",
    "Classification",
    "CodeSpan",
    "ErrorClass",
    "ErrorRule",
    "classify",
    "explain",
    "find_rule",
    "render_markdown",
    "unknown_rule",
]
