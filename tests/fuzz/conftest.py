"""Fuzz run sizes, and the count of cases each target ran.

`PIXY_FUZZ_EXAMPLES=500` makes every fuzz target generate that many examples (per API
operation, per property) instead of its small default, which keeps `make test` fast.
With `PIXY_FUZZ_REPORT=<file>` each target appends one JSON line, `{"target": ...,
"cases": ...}`, when the session ends; by default nothing is written.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator

import pytest

from tests.fuzz.sizes import REPORT_VARIABLE


@pytest.fixture(scope="session")
def fuzz_tally() -> Iterator[Counter[str]]:
    """Cases run per target; written to `PIXY_FUZZ_REPORT` at the end, if it is set."""
    tally: Counter[str] = Counter()
    yield tally
    path = os.environ.get(REPORT_VARIABLE)
    if path and tally:
        with open(path, "a", encoding="utf-8") as report:
            for target, cases in sorted(tally.items()):
                report.write(json.dumps({"target": target, "cases": cases}) + "\n")
