"""moto server and the Graph simulator, in a child process (default) or a thread of ours.

A child process keeps their CPU off the sender's books and their threads off the
sender's GIL, which is what a Lambda environment sees: DynamoDB, SQS and Meta are
someone else's machines. The thread mode exists to show what sharing costs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_START_TIMEOUT_S = 30.0


@dataclass
class Server:
    """Where a server listens, and (in process mode) its pid for CPU accounting."""

    url: str
    mode: str  # "process" or "thread"
    pid: int | None = None

    def cpu_seconds(self) -> float | None:
        """User + system CPU of the server process so far (None in thread mode)."""
        return process_cpu_seconds(self.pid) if self.pid is not None else None


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of a whole process (all its threads, live and exited), from /proc."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    # Fields 14 and 15 of /proc/PID/stat; `fields` starts at field 3.
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent not idle since boot (every process), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / _CLOCK_TICKS


def wait_until_quiet(
    max_wait_s: float, *, busy_cores: float = 0.15, window_s: float = 3.0
) -> float:
    """Wait (up to `max_wait_s`) for a window in which other processes use under
    `busy_cores` cores; returns the busy cores of the last window."""
    deadline = time.monotonic() + max_wait_s
    while True:
        before = machine_busy_seconds()
        time.sleep(window_s)
        busy = (machine_busy_seconds() - before) / window_s
        if busy < busy_cores or time.monotonic() >= deadline:
            return busy


@contextlib.contextmanager
def _child(args: list[str], name: str) -> Iterator[Server]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), str(ROOT / "layers" / "core" / "python"), env.get("PYTHONPATH", "")]
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks._serve", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + _START_TIMEOUT_S
        line = ""
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if line.startswith("READY ") or not line:
                break
        if not line.startswith("READY "):
            raise RuntimeError(f"{name} did not start (exit code {process.poll()})")
        yield Server(url=line.split(" ", 1)[1].strip(), mode="process", pid=process.pid)
    finally:
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def moto_server(mode: str) -> Iterator[Server]:
    if mode == "process":
        with _child(["moto"], "moto server") as server:
            _wait_until_up(server.url)
            yield server
        return
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    threaded = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    threaded.start()
    try:
        host, port = threaded.get_host_and_port()
        url = f"http://{host}:{port}"
        _wait_until_up(url)
        yield Server(url=url, mode="thread")
    finally:
        threaded.stop()


@contextlib.contextmanager
def graph_simulator(mode: str, config_json: str) -> Iterator[Server]:
    if mode == "process":
        with _child(["graph", config_json], "Graph simulator") as server:
            yield server
        return
    from infra.local.graph_simulator import SimulatorConfig, run_simulator

    with run_simulator(SimulatorConfig.model_validate_json(config_json)) as simulator:
        yield Server(url=simulator.base_url, mode="thread")


def _wait_until_up(url: str) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while True:
        try:
            httpx.get(f"{url}/moto-api/", timeout=2.0)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
