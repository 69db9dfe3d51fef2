"""Hypothesis strategies shared by the fuzz tests: JSON of every shape, and text SQS takes."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

# Characters SQS accepts in a message body or a string attribute: #x9 | #xA | #xD |
# #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
SQS_ALPHABET = st.characters(
    codec="utf-8",
    exclude_categories=["Cs"],
    exclude_characters="".join(chr(c) for c in range(0x20) if c not in (0x9, 0xA, 0xD))
    + "\ufffe\uffff",
)
# Odd text: combining marks, right-to-left, zero-width, emoji, private use, non-characters
# SQS still takes, escapes that look like JSON.
ODD_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\u200b",
        "\u202e\u0645\u0631\u062d\u0628\u0627",
        "e\u0301\u0301\u0301",
        "\U0001f600\U0001f469\u200d\U0001f4bb",
        "\ue000\U0010fffd",
        "\\u0000",
        '"},{"',
        "\t\r\n",
        "%00",
        "null",
    ]
)
SQS_TEXT = st.one_of(st.text(SQS_ALPHABET, max_size=40), ODD_TEXT)
# Text that can only travel as JSON escapes (`\\u0001`, `\\ud800`): control characters,
# lone surrogates and the non-characters SQS refuses, among any others.
ESCAPED_ONLY = st.sampled_from(
    ["\x00", "\x01", "\x1b", "\x7f", "\ud800", "\udfff", "\ufffe", "\uffff"]
)
JSON_TEXT = st.text(st.characters() | ESCAPED_ONLY, max_size=20)

NUMBERS = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, -0.0, 1e308, -1e-308, 2**63, -(2**63) - 1, 10**4000]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, SQS_TEXT)


def json_values(max_leaves: int = 20) -> st.SearchStrategy[Any]:
    """Any JSON value (no NaN or infinity), a few levels deep."""
    return st.recursive(
        SCALARS,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(SQS_TEXT, inner, max_size=4)
        ),
        max_leaves=max_leaves,
    )


def nested(depth: int, kind: str = "[]") -> str:
    """`depth` arrays (or objects) inside each other, as JSON text."""
    if kind == "[]":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


HOSTILE_JSON = st.one_of(
    st.integers(min_value=1, max_value=5000).map(nested),
    st.integers(min_value=1, max_value=5000).map(lambda d: nested(d, "{}")),
    st.integers(min_value=4000, max_value=20_000).map(lambda n: "1" * n),
    st.integers(min_value=4000, max_value=20_000).map(lambda n: "-" + "9" * n + ".5e1"),
    st.sampled_from(["1e999999", "-1e999999", "NaN", "Infinity", "-Infinity", "1" + "0" * 400]),
)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
