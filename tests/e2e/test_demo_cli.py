"""`pixy-whatsapp local --demo 50`, as a developer runs it: a process that reports and exits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_local_demo_loses_nothing_and_sends_nothing_twice() -> None:
    # What the `pixy-whatsapp` console script runs, without depending on where it is.
    entry = "from pixy_whatsapp.cli.main import cli; cli()"
    command = [sys.executable, "-c", entry, "local", "--demo", "50", "--port", "0"]
    paths = [str(ROOT / "layers" / "core" / "python"), str(ROOT)]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}

    finished = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )

    lines = [line for line in finished.stdout.splitlines() if line.strip()]
    assert lines, finished.stderr[-3000:]
    summary = json.loads(lines[-1])
    assert summary["sent"] == 50
    assert summary["lost"] == 0, finished.stdout
    assert summary["duplicates"] == 0, finished.stdout
    assert summary["delivered"] + summary["read"] + summary["failed"] == 50
    assert summary["p50_ms"] is not None
    assert summary["mps"] > 0
    assert finished.returncode == 0, finished.stderr[-3000:]
