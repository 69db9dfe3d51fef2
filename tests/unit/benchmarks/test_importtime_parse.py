"""The `-X importtime` reader behind benchmarks/cold_start.py."""

from __future__ import annotations

import subprocess
import sys

import pytest

from benchmarks import _importtime as it

# Shaped like CPython's output: children first, two spaces per level, start-up noise
# before the marker, a warning line in the middle, one timed stretch with an import
# inside it.
SAMPLE = """\
import time: self [us] | cumulative | imported package
import time:        95 |         95 |   _io
import time:       300 |        300 | site
@@importtime start
import time:        40 |         40 |     functions
import time:        60 |        100 |   functions.webhook
import time:       200 |        200 |       pydantic.fields
import time:       500 |        700 |     pydantic
import time:       100 |        100 |     json
some warning printed by a library
import time:       300 |       1100 |   pixy_whatsapp.settings
@@clock begin
import time:        30 |         30 |     botocore.endpoint_provider
import time:        20 |         50 |   botocore.regions
@@clock end functions.webhook.handler 4000000 botocore
import time:      5000 |       6250 | functions.webhook.handler
"""

OWN = ("pixy_whatsapp", "functions")


def test_lines_after_the_marker_with_their_depth() -> None:
    trace = it.parse(SAMPLE)

    assert [line.name for line in trace.lines] == [
        "functions",
        "functions.webhook",
        "pydantic.fields",
        "pydantic",
        "json",
        "pixy_whatsapp.settings",
        "botocore.endpoint_provider",
        "botocore.regions",
        "functions.webhook.handler",
    ]
    assert trace.lines[0] == it.ImportLine("functions", 40, 40, depth=2)
    assert trace.lines[-1].depth == 0


def test_self_times_add_up_to_the_outermost_cumulative() -> None:
    trace = it.parse(SAMPLE)

    assert trace.total_us == 6250
    assert trace.cumulative_of("functions.webhook.handler") == 6250


def test_whole_text_without_a_marker() -> None:
    trace = it.parse(SAMPLE, after=None)

    assert trace.lines[0].name == "_io"
    assert trace.total_us == 6250 + 95 + 300


def test_missing_marker_is_an_error() -> None:
    with pytest.raises(ValueError, match="not found"):
        it.parse("import time:        95 |         95 | site\n")


def test_a_stretch_counts_only_its_outermost_imports() -> None:
    (stretch,) = it.parse(SAMPLE).stretches

    assert stretch == it.TimedStretch(
        module="functions.webhook.handler", package="botocore", elapsed_us=4000, imports_us=50
    )
    assert stretch.outside_imports_us == 3950


def test_unclosed_stretch_is_an_error() -> None:
    with pytest.raises(ValueError, match="without"):
        it.parse("@@importtime start\n@@clock begin\n")


def test_split_by_package_and_category() -> None:
    split = it.split(it.parse(SAMPLE), OWN, move_stretches=False)

    assert split.by_package == {
        "functions": 5100,
        "pydantic": 700,
        "json": 100,
        "pixy_whatsapp": 300,
        "botocore": 50,
    }
    assert split.by_category == {"own": 5400, "third-party": 750, "stdlib": 100}
    assert split.share("own") == pytest.approx(5400 / 6250)
    assert split.moved_us == {}


def test_stretch_work_moves_to_its_library() -> None:
    split = it.split(it.parse(SAMPLE), OWN, move_stretches=True)

    assert split.by_package["functions"] == 5100 - 3950
    assert split.by_package["botocore"] == 50 + 3950
    assert split.moved_us == {"botocore": 3950}
    # Moving never changes the total.
    assert sum(split.by_category.values()) == split.total_us == 6250


def test_importers_chain() -> None:
    trace = it.parse(SAMPLE)

    assert trace.importers_of("pydantic.fields") == [
        "pydantic",
        "pixy_whatsapp.settings",
        "functions.webhook.handler",
    ]


def test_reads_what_this_interpreter_prints() -> None:
    # Guards the line format against the CPython actually in use.
    done = subprocess.run(
        [
            sys.executable,
            "-I",
            "-X",
            "importtime",
            "-c",
            "import sys; sys.stderr.write('@@importtime start\\n'); sys.stderr.flush(); "
            "import json.decoder",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    trace = it.parse(done.stderr)

    # A dotted import is printed last and outermost, with its parent package inside it.
    outermost = trace.lines[-1]
    assert (outermost.name, outermost.depth) == ("json.decoder", 0)
    assert ("json", 1) in [(line.name, line.depth) for line in trace.lines]
    # importtime rounds each figure to the microsecond on its own.
    assert abs(trace.total_us - outermost.cumulative_us) <= len(trace.lines)
