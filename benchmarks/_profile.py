"""cProfile in every thread of this process (the sender's work runs in worker threads too).

Each thread's profiler times with that thread's own CPU clock (`time.thread_time`), so
the figures are CPU, not wall time: a thread blocked on a socket or a lock adds nothing.

`cProfile.Profile.enable()` only profiles the calling thread. `threading.setprofile`
installs a hook that every thread started afterwards calls once: it creates that
thread's own profiler and enables it, which replaces the hook. The event loop's
default executor and the limiter's pool start their threads lazily, after `start()`.

Stop the worker threads (close the runner, the limiter's pool) before `stop()`, so no
profiler is still collecting when the stats are merged.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import threading
import time
from collections import defaultdict
from typing import Any


class AllThreadsProfile:
    def __init__(self) -> None:
        self._profiles: list[cProfile.Profile] = []
        self._lock = threading.Lock()
        self._main: cProfile.Profile | None = None

    def _bootstrap(self, frame: Any, event: str, arg: Any) -> None:
        profile = cProfile.Profile(time.thread_time)
        with self._lock:
            self._profiles.append(profile)
        profile.enable()

    def start(self) -> None:
        threading.setprofile(self._bootstrap)
        self._main = cProfile.Profile(time.thread_time)
        self._profiles.append(self._main)
        self._main.enable()

    def stop(self) -> pstats.Stats:
        threading.setprofile(None)
        if self._main is not None:
            self._main.disable()
        stats = pstats.Stats(self._profiles[0], stream=io.StringIO())
        for profile in self._profiles[1:]:
            stats.add(profile)
        return stats


def by_package(stats: pstats.Stats) -> list[tuple[str, float, int]]:
    """Own time (tottime) summed by package: where the CPU actually went."""
    totals: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    for (filename, _line, _name), (_cc, nc, tt, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        totals[_package(filename)] += tt
        calls[_package(filename)] += nc
    return sorted(((k, v, calls[k]) for k, v in totals.items()), key=lambda r: -r[1])


def _package(filename: str) -> str:
    if filename == "~":
        return "builtins (C functions: socket, json, locks, ...)"
    for marker in ("site-packages/", "lib/python3.11/", "layers/core/python/", "/work/main/"):
        if marker in filename:
            rest = filename.split(marker, 1)[1]
            head = rest.split("/", 1)[0].removesuffix(".py")
            if marker == "lib/python3.11/":
                return f"stdlib {head}"
            if marker == "layers/core/python/":
                parts = rest.split("/")
                return "/".join(parts[:2]).removesuffix(".py")
            return head
    return filename


def top_functions(stats: pstats.Stats, sort: str, limit: int) -> str:
    stream = io.StringIO()
    stats.stream = stream  # type: ignore[attr-defined]
    stats.sort_stats(sort).print_stats(limit)
    return stream.getvalue()


def cumulative_of(stats: pstats.Stats, needles: dict[str, tuple[str, str]]) -> dict[str, float]:
    """Cumulative time of chosen functions: label -> (filename fragment, function name).

    Summed over threads; a function that calls itself counts once per outermost call.
    """
    found: dict[str, float] = {}
    for label, (fragment, function) in needles.items():
        total = 0.0
        for (filename, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
            if name == function and fragment in filename:
                total += ct
        found[label] = total
    return found
