"""What every benchmark's section in RESULTS.md starts from: the machine, package
versions, and the file itself (each command replaces only its own section)."""

from __future__ import annotations

import contextlib
import os
import platform
from importlib import metadata
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def package_version(package: str, missing: str = "?") -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return missing


def machine() -> dict[str, str]:
    """CPU model, cores, memory, OS, Python, and the versions every benchmark depends on."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    os_name = platform.platform()
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().splitlines()[0].split()[1])
        memory = f"{kb / 1024 / 1024:.0f} GiB"

    return {
        "cpu": model,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "os": os_name,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "packages": ", ".join(
            f"{p} {package_version(p)}" for p in ("moto", "boto3", "botocore", "httpx", "hypercorn")
        ),
    }


HEADER = """# Benchmark results

Every benchmark in `benchmarks/` is one command. Each section below names the command
that produced it, the machine and the date, and the figures as they were recorded;
re-running a command with `--write-results` replaces its own section and leaves the
others alone.
"""


def write_results(section_key: str, title: str, body: str) -> None:
    begin = f"<!-- BEGIN {section_key} -->"
    end = f"<!-- END {section_key} -->"
    block = f"{begin}\n## {title}\n\n{body}{end}\n"
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail.lstrip("\n")
        if not text.endswith("\n"):
            text += "\n"
    else:
        text = text.rstrip("\n") + "\n\n" + block
    RESULTS.write_text(text)
