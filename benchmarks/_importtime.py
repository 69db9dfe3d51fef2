"""Reading `python -X importtime` output: who paid for what during one import.

CPython prints one line per module, when that module's import finishes, to stderr:

    import time: self [us] | cumulative | imported package
    import time:        95 |         95 |   _io
    import time:      1203 |       4410 |     pydantic.fields

Two spaces of indentation per level of nesting; a module's line comes after the lines
of the modules it imported, and `cumulative` is `self` plus their cumulatives. `self`
is everything else that ran while the module was being imported: its own top-level
code, and whatever that code called that was not an import (building pydantic models,
creating boto3 clients, ...).

The measuring child writes two kinds of marker lines into the same stream:

- `START_MARKER` just before the import being measured, so that interpreter start-up
  (`site`, encodings, `.pth` files) is left out;
- `@@clock begin` / `@@clock end <module> <ns> <package>` around a stretch of library
  work timed inside the child (boto3 client construction, pydantic's plugin scan): the
  lines between them are imports made during it, `<module>` is the module whose
  top-level code ran it (and whose self time holds the rest), `<package>` the library
  whose work it was.

`owner()` names the package a module's self time is counted to: its top-level name.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

START_MARKER = "@@importtime start"
CLOCK_BEGIN = "@@clock begin"
CLOCK_END = "@@clock end"

_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)\s*$")

STDLIB = "stdlib"
THIRD_PARTY = "third-party"
OWN = "own"


@dataclass(frozen=True, slots=True)
class ImportLine:
    name: str
    self_us: int
    cumulative_us: int
    depth: int


@dataclass(frozen=True, slots=True)
class TimedStretch:
    """Work timed inside the child: its wall time and the imports made during it."""

    module: str
    """The module whose top-level code was running (its self time includes the rest)."""
    package: str
    """The library whose work it was."""
    elapsed_us: int
    imports_us: int

    @property
    def outside_imports_us(self) -> int:
        # Clocks differ a little (perf_counter vs importtime's): never below zero.
        return max(0, self.elapsed_us - self.imports_us)


@dataclass
class ImportTrace:
    lines: list[ImportLine] = field(default_factory=list)
    stretches: list[TimedStretch] = field(default_factory=list)

    @property
    def total_us(self) -> int:
        """Every module's self time: the outermost imports' cumulative time, give or take
        the microsecond importtime rounds each figure to."""
        return sum(line.self_us for line in self.lines)

    def self_by_package(self) -> Counter[str]:
        totals: Counter[str] = Counter()
        for line in self.lines:
            totals[owner(line.name)] += line.self_us
        return totals

    def cumulative_of(self, name: str) -> int | None:
        for line in self.lines:
            if line.name == name:
                return line.cumulative_us
        return None

    def importers_of(self, name: str) -> list[str]:
        """The chain of modules that were importing `name`, innermost first."""
        for index, line in enumerate(self.lines):
            if line.name != name:
                continue
            chain: list[str] = []
            depth = line.depth
            for later in self.lines[index + 1 :]:
                if later.depth < depth:
                    chain.append(later.name)
                    depth = later.depth
                    if depth == 0:
                        break
            return chain
        return []


def owner(module: str) -> str:
    """The top-level package a module belongs to."""
    return module.partition(".")[0]


def category(package: str, own: Iterable[str]) -> str:
    if package in own:
        return OWN
    if package in sys.stdlib_module_names:
        return STDLIB
    return THIRD_PARTY


def parse(text: str, *, after: str | None = START_MARKER) -> ImportTrace:
    """The import lines (and timed stretches) of `text`, from the line after `after`.

    With `after=None` every line counts. Lines that are neither import lines nor
    markers (warnings, tracebacks) are skipped.
    """
    trace = ImportTrace()
    started = after is None
    open_stretch: int | None = None  # index into trace.lines where the stretch began
    for raw in text.splitlines():
        if not started:
            started = raw.strip() == after
            continue
        if raw.startswith(CLOCK_BEGIN):
            open_stretch = len(trace.lines)
            continue
        if raw.startswith(CLOCK_END):
            if open_stretch is None:
                raise ValueError(f"{CLOCK_END} without {CLOCK_BEGIN}")
            _, _, rest = raw.partition(CLOCK_END)
            module, elapsed_ns, package = rest.split()
            inside = trace.lines[open_stretch:]
            trace.stretches.append(
                TimedStretch(
                    module=module,
                    package=package,
                    elapsed_us=int(elapsed_ns) // 1000,
                    imports_us=_outermost_cumulative(inside),
                )
            )
            open_stretch = None
            continue
        match = _LINE.match(raw)
        if match is None:
            continue
        self_us, cumulative_us, indent, name = match.groups()
        trace.lines.append(
            ImportLine(
                name=name,
                self_us=int(self_us),
                cumulative_us=int(cumulative_us),
                depth=len(indent) // 2,
            )
        )
    if not started:
        raise ValueError(f"marker {after!r} not found")
    if open_stretch is not None:
        raise ValueError(f"{CLOCK_BEGIN} without {CLOCK_END}")
    return trace


def _outermost_cumulative(lines: list[ImportLine]) -> int:
    # Imports made from one stretch of code all sit one level below the module running
    # it; deeper lines are already inside their cumulatives.
    if not lines:
        return 0
    top = min(line.depth for line in lines)
    return sum(line.cumulative_us for line in lines if line.depth == top)


@dataclass(frozen=True, slots=True)
class Split:
    """One import's time by who paid it, in microseconds."""

    total_us: int
    by_category: Mapping[str, int]
    by_package: Mapping[str, int]
    moved_us: Mapping[str, int]
    """Time taken out of the running modules' self time, by the library it was moved to."""

    def share(self, kind: str) -> float:
        return self.by_category.get(kind, 0) / self.total_us if self.total_us else 0.0


def split(trace: ImportTrace, own: Iterable[str], *, move_stretches: bool) -> Split:
    """Self time summed by package and category (own, third-party, stdlib).

    With `move_stretches`, the time of each timed stretch spent outside imports is taken
    from the module that ran it and counted to the library whose work it was (botocore
    loading service models for a client, say, rather than the handler that asked).
    """
    own = frozenset(own)
    by_package = trace.self_by_package()
    moved: Counter[str] = Counter()
    if move_stretches:
        for stretch in trace.stretches:
            source = owner(stretch.module)
            amount = min(stretch.outside_imports_us, by_package[source])
            by_package[source] -= amount
            by_package[stretch.package] += amount
            moved[stretch.package] += amount
    by_category: Counter[str] = Counter()
    for package, us in by_package.items():
        by_category[category(package, own)] += us
    return Split(
        total_us=trace.total_us,
        by_category=dict(by_category),
        by_package=dict(by_package),
        moved_us=dict(moved),
    )
