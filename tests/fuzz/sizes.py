"""How large a fuzz run is: small by default, `PIXY_FUZZ_EXAMPLES=<n>` for a large one."""

from __future__ import annotations

import os

EXAMPLES_VARIABLE = "PIXY_FUZZ_EXAMPLES"
REPORT_VARIABLE = "PIXY_FUZZ_REPORT"


def fuzz_examples(default: int) -> int:
    """How many examples a target generates: `PIXY_FUZZ_EXAMPLES`, else `default`."""
    value = os.environ.get(EXAMPLES_VARIABLE, "").strip()
    return int(value) if value else default
