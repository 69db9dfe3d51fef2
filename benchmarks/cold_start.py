"""Cold start: how long importing each Lambda handler takes, and whose code that time is.

    .venv/bin/python -m benchmarks.cold_start [--runs 5] [--bytecode both] [--write-results]

What it does, for each of functions/{api,webhook,inbound,sender,subscriptions}/handler.py:

1. builds the function's Lambda environment: the `PIXY_*` settings from
   `Settings.to_env()` over `infra.topology`'s resource names, the Powertools variables
   from `infra.functions.powertools_env`, and what Lambda itself sets (function name,
   `LAMBDA_TASK_ROOT`, region, credentials, X-Ray daemon address), so Settings load and
   the Tracer patches its libraries as they do on Lambda (tracing is active there);
2. imports the handler in a fresh `python -I -X importtime` child, `--runs` times,
   the handlers taking turns so that a busy moment of the machine spreads over all;
3. hides from the child every installed distribution the Lambda function would not
   have (anything outside `layers/deps/requirements.txt`, `runtime-provided.txt` and
   their dependencies): on Lambda, httpx finds no `click`/`rich`/`pygments` for its
   command-line client and X-Ray finds no `requests` to patch, so neither is paid for
   here (`--all-installed` measures the virtualenv as it is);
4. splits each run's import time by the package that owns each module's self time:
   ours (`pixy_whatsapp`, `functions`), third-party, stdlib. Work a library does when our
   top-level code calls it (botocore loading service models for each boto3 client, ssl
   loading the CA bundle for the Graph client, pydantic's plugin scan) is timed inside
   the child and counted to that library (see CLOCKED); the table also shows the share
   as importtime alone would count it;
5. does the same for `import pywa`, for reference, with pywa's own dependencies only.

Bytecode (`--bytecode`): `cached` imports from `.pyc` files (written once, by an unmeasured
first import, into a private cache directory); `source` compiles the layers' packages and
ours from source at every import, with the stdlib and the runtime's boto3 from bytecode:
both Lambda layers are shipped without `.pyc` files (`infra/layers.py`, NOT_SHIPPED and
`--no-compile`) and Lambda cannot write any next to them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from benchmarks import _importtime as it
from benchmarks._report import machine, package_version

ROOT = Path(__file__).resolve().parent.parent
LAYER_PATH = ROOT / "layers" / "core" / "python"
DEPS_DIR = ROOT / "layers" / "deps"
HANDLERS = ("api", "webhook", "inbound", "sender", "subscriptions")
OWN = ("pixy_whatsapp", "functions")
TARGET_OWN_SHARE = 0.20
STAGE = "bench"
REGION = "us-east-1"
ACCOUNT = "123456789012"
RUNTIME_TAG = "python3.13"

# Library work that runs inside our modules' top-level code, so that importtime counts it
# to them: module -> (the library whose work it is, the callables to time).
CLOCKED = {
    # Loading service models and endpoint rules for each client the handlers create.
    "boto3.session": ("botocore", ["Session.__init__", "Session.client"]),
    # The TLS context for the Graph client: ssl loading the certifi bundle.
    "httpx._config": ("httpx", ["create_ssl_context"]),
    # pydantic scans every installed distribution's entry points for plugins when the
    # process builds its first model.
    "pydantic.plugin._loader": ("pydantic", ["get_plugins"]),
}


PACKAGES = (
    "boto3",
    "botocore",
    "pydantic",
    "pydantic-core",
    "aws-lambda-powertools",
    "aws-xray-sdk",
    "httpx",
    "pywa",
)


# -- the child ------------------------------------------------------------------------------

# Runs in `python -I -X importtime -c CHILD '<json config>'`. Everything before the start
# marker (these few stdlib imports) is left out of the figures, as Lambda's own bootstrap
# has loaded them before it imports a handler.
CHILD = r"""
import json, os, re, sys, time
from importlib.machinery import PathFinder

config = json.loads(sys.argv[1])
sys.path[0:0] = config["path"]
hidden_modules = frozenset(config["hidden_modules"])
hidden_distributions = frozenset(config["hidden_distributions"])
looked_for = set()


class NotShipped:
    # Wraps the path finder, so a distribution Lambda would not have looks absent to
    # `import`, to `importlib.util.find_spec` probes and to `importlib.metadata`.
    def __init__(self, finder):
        self.finder = finder

    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in hidden_modules:
            looked_for.add(top)
            return None
        return self.finder.find_spec(name, path, target)

    def invalidate_caches(self):
        self.finder.invalidate_caches()

    def find_distributions(self, *args, **kwargs):
        for distribution in self.finder.find_distributions(*args, **kwargs):
            # The name from the .dist-info folder: reading METADATA would cost more.
            name = getattr(distribution, "_normalized_name", None) or ""
            if re.sub(r"[-_.]+", "-", name).lower() not in hidden_distributions:
                yield distribution


class Clock:
    # Wraps the configured callables once their module has loaded, and writes markers
    # around each outermost call.
    depth = 0

    def __init__(self, clocked):
        self.clocked = clocked

    def find_spec(self, name, path=None, target=None):
        if name not in self.clocked:
            return None
        spec = PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        package, attributes = self.clocked[name]
        exec_module = spec.loader.exec_module

        def exec_and_wrap(module):
            exec_module(module)
            for dotted in attributes:
                *path_, attribute = dotted.split(".")
                holder = module
                for part in path_:
                    holder = getattr(holder, part)
                setattr(holder, attribute, self.timed(getattr(holder, attribute), package))

        spec.loader.exec_module = exec_and_wrap
        return spec

    def timed(self, function, package):
        clock = self

        def wrapper(*args, **kwargs):
            if clock.depth:
                return function(*args, **kwargs)
            frame = sys._getframe(1)
            while frame is not None and frame.f_code.co_name != "<module>":
                frame = frame.f_back
            module = frame.f_globals.get("__name__", "?") if frame is not None else "?"
            clock.depth += 1
            os.write(2, b"@@clock begin\n")
            started = time.perf_counter_ns()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter_ns() - started
                os.write(2, f"@@clock end {module} {elapsed} {package}\n".encode())
                clock.depth -= 1

        return wrapper


sys.meta_path[:] = [
    NotShipped(finder) if finder is PathFinder else finder for finder in sys.meta_path
]
sys.meta_path.insert(0, Clock(config["clocked"]))

os.write(2, b"@@importtime start\n")
cpu = time.process_time_ns()
# The import statement's path, not importlib.import_module: only the former is timed.
__import__(config["module"])
cpu = time.process_time_ns() - cpu
files = {
    name: module.__file__
    for name, module in list(sys.modules.items())
    if isinstance(getattr(module, "__file__", None), str)
}
result = {"cpu_ns": cpu, "looked_for": sorted(looked_for), "files": files}
print(json.dumps(result))
"""


@dataclass(frozen=True)
class Hidden:
    """What the child must not see: top-level module names and distribution names."""

    modules: frozenset[str] = frozenset()
    distributions: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Target:
    key: str
    module: str
    own: tuple[str, ...]
    env: Mapping[str, str]
    hidden: Hidden


@dataclass(frozen=True)
class Run:
    trace: it.ImportTrace
    cpu_us: int
    tried_hidden: tuple[str, ...]
    files: Mapping[str, str]


def run_child(target: Target, *, pycache: Path, write_bytecode: bool) -> Run:
    config = {
        "path": [str(LAYER_PATH), str(ROOT)],
        "hidden_modules": sorted(target.hidden.modules),
        "hidden_distributions": sorted(target.hidden.distributions),
        "clocked": CLOCKED,
        "module": target.module,
    }
    argv = [sys.executable, "-I", "-X", "importtime", "-X", f"pycache_prefix={pycache}"]
    if not write_bytecode:
        argv.append("-B")
    done = subprocess.run(
        [*argv, "-c", CHILD, json.dumps(config)],
        cwd=ROOT,
        env=dict(target.env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"importing {target.module} failed:\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return Run(
        trace=it.parse(done.stderr),
        cpu_us=result["cpu_ns"] // 1000,
        tried_hidden=tuple(result["looked_for"]),
        files=result["files"],
    )


# -- what Lambda would have --------------------------------------------------------------


def _requirement_lines(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def distribution_closure(requirements: Iterable[str]) -> set[str]:
    """The installed distributions these requirements pull in (extras followed)."""
    from packaging.requirements import Requirement

    found: set[str] = set()
    pending = [Requirement(line) for line in requirements]
    seen: set[tuple[str, frozenset[str]]] = set()
    while pending:
        requirement = pending.pop()
        name = _canonical(requirement.name)
        key = (name, frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        found.add(name)
        for line in distribution.requires or []:
            child = Requirement(line)
            environments = [{"extra": extra} for extra in requirement.extras] or [{"extra": ""}]
            if child.marker is None or any(child.marker.evaluate(e) for e in environments):
                pending.append(child)
    return found


def hidden_outside(allowed: set[str], own: Iterable[str]) -> Hidden:
    """Installed distributions outside `allowed`, and the top-level names only they provide."""
    keep = set(own) | set(sys.stdlib_module_names)
    modules = set()
    for name, distributions in metadata.packages_distributions().items():
        if name in keep or name.startswith("_"):
            continue
        if not any(_canonical(d) in allowed for d in distributions):
            modules.add(name)
    installed = {_canonical(d.metadata["Name"] or "") for d in metadata.distributions()}
    return Hidden(frozenset(modules), frozenset(installed - allowed))


def powertools_environment(stage: str = STAGE) -> dict[str, str]:
    """The Powertools variables the stack gives every function (`infra.functions`).

    Read in a child: `infra.functions` imports aws_cdk, which starts a Node.js process,
    and nothing of it should be alive while handlers are measured.
    """
    probe = (
        "import json\n"
        "from infra.config import StageConfig\n"
        "from infra.functions import powertools_env\n"
        "from infra.topology import Topology\n"
        f"print(json.dumps(powertools_env(Topology({stage!r}), StageConfig(stage={stage!r}))))\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(LAYER_PATH), str(ROOT)]),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    values: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return values


def project_environment() -> dict[str, str]:
    """`PIXY_*` (resource names from `infra.topology`) and Powertools variables."""
    from pixy_whatsapp.settings import Settings

    from infra.topology import QueueKey, Topology

    topology = Topology(STAGE)
    sqs = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/"
    settings = Settings(
        **topology.settings_values(
            queue_urls={key: sqs + topology.queue_name(key) for key in QueueKey},
            dlq_urls={key: sqs + topology.dlq_name(key) for key in QueueKey},
            bucket=topology.bucket_name(ACCOUNT, REGION),
        )
    )
    return settings.to_env() | powertools_environment()


def lambda_environment(key: str, project: Mapping[str, str]) -> dict[str, str]:
    """What a function's process sees on Lambda (fake credentials: nothing is called)."""
    from infra.topology import FunctionKey, Topology

    topology = Topology(STAGE)
    name = topology.function_name(FunctionKey(key))
    spec = topology.function(FunctionKey(key))
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{RUNTIME_TAG}",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": topology.log_group_name(FunctionKey(key)),
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]0123456789abcdef",
        "LAMBDA_TASK_ROOT": "/var/task",
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "_HANDLER": spec.handler,
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
        "_AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129",
        "_AWS_XRAY_DAEMON_PORT": "2000",
        **project,
    }


def build_targets(all_installed: bool) -> list[Target]:
    project = project_environment()
    layer = _requirement_lines(DEPS_DIR / "requirements.txt") + _requirement_lines(
        DEPS_DIR / "runtime-provided.txt"
    )
    handler_hidden = Hidden() if all_installed else hidden_outside(distribution_closure(layer), OWN)
    targets = [
        Target(
            key=key,
            module=f"functions.{key}.handler",
            own=OWN,
            env=lambda_environment(key, project),
            hidden=handler_hidden,
        )
        for key in HANDLERS
    ]
    if _importable("pywa"):
        pywa_hidden = (
            Hidden() if all_installed else hidden_outside(distribution_closure(["pywa"]), ("pywa",))
        )
        targets.append(
            Target(
                key="pywa",
                module="pywa",
                own=("pywa",),
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"},
                hidden=pywa_hidden,
            )
        )
    return targets


def _importable(module: str) -> bool:
    """Whether `module` imports in a fresh interpreter (installed, and not broken)."""
    done = subprocess.run(
        [sys.executable, "-I", "-c", f"import {module}"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    return done.returncode == 0


def runtime_provided_roots() -> set[str]:
    """Top-level names of the stdlib-adjacent packages the Lambda runtime ships itself."""
    provided = distribution_closure(_requirement_lines(DEPS_DIR / "runtime-provided.txt"))
    return {
        name
        for name, distributions in metadata.packages_distributions().items()
        if any(_canonical(d) in provided for d in distributions)
    }


def precompile_runtime_modules(files: Mapping[str, str], pycache: Path) -> int:
    """Bytecode for the stdlib and runtime-provided modules a handler loaded, into `pycache`."""
    roots = runtime_provided_roots()
    sources = sorted(
        {
            path
            for name, path in files.items()
            if path.endswith(".py")
            and (it.owner(name) in sys.stdlib_module_names or it.owner(name) in roots)
        }
    )
    code = (
        "import json, py_compile, sys\n"
        "for path in json.loads(sys.argv[1]):\n"
        "    py_compile.compile(path, doraise=False, quiet=2)\n"
    )
    subprocess.run(
        [sys.executable, "-I", "-X", f"pycache_prefix={pycache}", "-c", code, json.dumps(sources)],
        check=True,
        timeout=600,
    )
    return len(sources)


# -- measuring ----------------------------------------------------------------------------


@dataclass
class Measured:
    target: Target
    runs: list[Run]

    def splits(self, *, move_stretches: bool = True) -> list[it.Split]:
        """Each run's split; by default with library work counted to the library."""
        return [
            it.split(run.trace, self.target.own, move_stretches=move_stretches) for run in self.runs
        ]

    @property
    def median(self) -> Run:
        """The run with the median total, for the per-library and per-module tables."""
        ordered = sorted(self.runs, key=lambda run: run.trace.total_us)
        return ordered[(len(ordered) - 1) // 2]

    def own_share(self, *, move_stretches: bool = True) -> float:
        """Median over runs of our share (each run's own share, then the median)."""
        splits = self.splits(move_stretches=move_stretches)
        return statistics.median(split.share(it.OWN) for split in splits)

    def median_us(self, category: str) -> float:
        return statistics.median(s.by_category.get(category, 0) for s in self.splits())

    def median_moved_us(self, package: str) -> float:
        return statistics.median(s.moved_us.get(package, 0) for s in self.splits())

    @property
    def totals_ms(self) -> list[float]:
        return [run.trace.total_us / 1000 for run in self.runs]


def measure(targets: Sequence[Target], runs: int, bytecode: str, scratch: Path) -> list[Measured]:
    pycache = scratch / f"pycache-{bytecode}"
    pycache.mkdir()
    # First import: not measured; writes the bytecode cache (or finds what to precompile).
    warm = {
        target.key: run_child(target, pycache=pycache, write_bytecode=True) for target in targets
    }
    if bytecode == "source":
        shutil.rmtree(pycache)
        pycache.mkdir()
        files: dict[str, str] = {}
        for run in warm.values():
            files.update(run.files)
        precompile_runtime_modules(files, pycache)
    collected: dict[str, list[Run]] = {target.key: [] for target in targets}
    for _ in range(runs):
        for target in targets:
            collected[target.key].append(
                run_child(target, pycache=pycache, write_bytecode=bytecode == "cached")
            )
    return [Measured(target=target, runs=collected[target.key]) for target in targets]


# -- the report ---------------------------------------------------------------------------

AWS_SDK = ("boto3", "botocore", "s3transfer", "urllib3", "jmespath", "dateutil", "six")
PYDANTIC = ("pydantic", "pydantic_core", "annotated_types", "typing_inspection")
POWERTOOLS = ("aws_lambda_powertools",)
XRAY = ("aws_xray_sdk", "wrapt")
HTTP = ("httpx", "httpcore", "h2", "hpack", "hyperframe", "h11", "anyio", "idna", "certifi")
GROUPS = (
    ("boto3/botocore (+ urllib3, s3transfer, ...)", AWS_SDK),
    ("pydantic", PYDANTIC),
    ("aws_lambda_powertools", POWERTOOLS),
    ("aws_xray_sdk (+ wrapt)", XRAY),
    ("httpx (+ httpcore, h2, anyio, ...)", HTTP),
)


def _ms(us: float) -> str:
    return f"{us / 1000:.1f}"


def group_split(split: it.Split, own: Iterable[str]) -> list[tuple[str, int]]:
    packages = dict(split.by_package)
    rows: list[tuple[str, int]] = []
    for label, names in GROUPS:
        rows.append((label, sum(packages.pop(name, 0) for name in names)))
    others = sum(us for name, us in packages.items() if it.category(name, own) == it.THIRD_PARTY)
    rows.append(("other third-party", others))
    return rows


def top_own_modules(run: Run, own: Iterable[str], limit: int = 6) -> list[tuple[str, int]]:
    """Our modules by self time, less the library work they ran (see CLOCKED)."""
    own = set(own)
    moved: Counter[str] = Counter()
    for stretch in run.trace.stretches:
        moved[stretch.module] += stretch.outside_imports_us
    selfs = [
        (line.name, max(0, line.self_us - moved[line.name]))
        for line in run.trace.lines
        if it.owner(line.name) in own
    ]
    selfs.sort(key=lambda pair: -pair[1])
    return selfs[:limit]


def render_table(results: Sequence[Measured], heading: str) -> list[str]:
    lines = [
        heading,
        "",
        "| import | total ms, median (min-max) | CPU ms | ours ms | ours share | "
        "third-party ms | stdlib ms | library work run by our top-level code, ms: boto3 "
        "clients / httpx TLS context / pydantic plugin scan | ours share counting that work "
        "as ours | verdict |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for m in results:
        totals = m.totals_ms
        share = m.own_share()
        if m.target.key == "pywa":
            verdict = "reference"
        else:
            verdict = "meets" if share <= TARGET_OWN_SHARE else "MISSES"
            verdict += f" ≤ {TARGET_OWN_SHARE:.0%}"
        work = " / ".join(_ms(m.median_moved_us(p)) for p in ("botocore", "httpx", "pydantic"))
        lines.append(
            f"| {m.target.module} | **{statistics.median(totals):.1f}** "
            f"({min(totals):.1f}-{max(totals):.1f}) | "
            f"{statistics.median(run.cpu_us for run in m.runs) / 1000:.1f} | "
            f"{_ms(m.median_us(it.OWN))} | **{share:.0%}** | "
            f"{_ms(m.median_us(it.THIRD_PARTY))} | {_ms(m.median_us(it.STDLIB))} | {work} | "
            f"{m.own_share(move_stretches=False):.0%} | {verdict} |"
        )
    return lines


def render_breakdown(results: Sequence[Measured]) -> list[str]:
    headers = [m.target.key for m in results]
    lines = [
        "Third-party self time by library, median run of the first table (ms; the library "
        "work run by our top-level code counted to the library):",
        "",
        "| library | " + " | ".join(headers) + " |",
        "| --- | " + " | ".join("---" for _ in headers) + " |",
    ]
    grouped = [
        dict(group_split(it.split(m.median.trace, m.target.own, move_stretches=True), m.target.own))
        for m in results
    ]
    for label in grouped[0]:
        lines.append(f"| {label} | " + " | ".join(_ms(g[label]) for g in grouped) + " |")
    lines += [
        "",
        "Our heaviest modules, median run (self ms less the library work above: the "
        "module's own top-level code, building the pydantic models it defines included):",
        "",
        "| import | modules |",
        "| --- | --- |",
    ]
    for m in results:
        tops = ", ".join(
            f"`{name}` {us / 1000:.1f}" for name, us in top_own_modules(m.median, m.target.own)
        )
        lines.append(f"| {m.target.key} | {tops} |")
    return lines


def machine_lines(
    when: datetime,
    load: tuple[tuple[float, ...], tuple[float, ...]],
    packages: Sequence[str],
    others_cores: float,
) -> list[str]:
    """The section's header: date, machine, package versions, the machine's load."""
    m = machine()
    versions = [f"{p} {package_version(p, 'not installed')}" for p in packages]

    return [
        f"- Date: {when:%Y-%m-%d %H:%M} UTC",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, {m['os']}; {m['python']} "
        f"(Lambda runs {RUNTIME_TAG} on arm64)",
        f"- Packages: {', '.join(versions)}",
        f"- Load average (1 / 5 min) before: {load[0][0]:.2f} / {load[0][1]:.2f}, after: "
        f"{load[1][0]:.2f} / {load[1][1]:.2f}; other processes used {others_cores:.2f} of the "
        f"{os.cpu_count()} cores during the run (busy time from /proc/stat minus ours)",
    ]


class BusyMeter:
    """How many cores other processes kept busy while we ran (ours: this one and children)."""

    def __enter__(self) -> BusyMeter:
        from benchmarks._servers import machine_busy_seconds

        self._busy = machine_busy_seconds()
        self._ours = _own_cpu_seconds()
        self._wall = time.monotonic()
        self.others_cores = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        from benchmarks._servers import machine_busy_seconds

        busy = machine_busy_seconds() - self._busy
        ours = _own_cpu_seconds() - self._ours
        self.others_cores = max(0.0, busy - ours) / max(time.monotonic() - self._wall, 1e-9)


def _own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def command_line(args: argparse.Namespace) -> str:
    parts = [".venv/bin/python -m benchmarks.cold_start", f"--runs {args.runs}"]
    if args.bytecode != "both":
        parts.append(f"--bytecode {args.bytecode}")
    if args.all_installed:
        parts.append("--all-installed")
    if args.write_results:
        parts.append("--write-results")
    return " ".join(parts)


def render(
    args: argparse.Namespace,
    results: Mapping[str, list[Measured]],
    targets: Sequence[Target],
    when: datetime,
    load: tuple[tuple[float, ...], tuple[float, ...]],
    others_cores: float,
) -> str:
    lines = [
        f"Command: `{command_line(args)}`",
        "",
        *machine_lines(when, load, PACKAGES, others_cores),
    ]
    handler_hidden = next((t.hidden for t in targets if t.key != "pywa"), Hidden())
    tried = sorted(
        {
            name
            for measured in results.values()
            for m in measured
            if m.target.key != "pywa"
            for name in m.median.tried_hidden
        }
    )
    if args.all_installed:
        lines.append("- Every installed distribution importable (`--all-installed`)")
    else:
        lines.append(
            f"- Hidden from the handlers: {len(handler_hidden.distributions)} installed "
            f"distributions ({len(handler_hidden.modules)} top-level modules) that the Lambda "
            "layers do not ship; the handlers looked for "
            + (", ".join(f"`{n}`" for n in tried) if tried else "none of them")
        )
    if not any(t.key == "pywa" for t in targets):
        lines.append("- pywa: not importable (run `make bench-deps`), skipped")
    lines.append(
        f"- {args.runs} measured imports per handler, each in a fresh child, after one "
        "unmeasured import; the handlers take turns"
    )
    titles = {
        "cached": "Imports from bytecode (`.pyc` cached), the target's measure:",
        "source": "Layers' packages and ours compiled from source at every import, stdlib and "
        "boto3 from bytecode (what Lambda does with layers shipped without `.pyc`):",
    }
    for mode, measured in results.items():
        lines += ["", *render_table(measured, titles[mode])]
    first = next(iter(results.values()))
    lines += ["", *render_breakdown(first)]
    lines += ["", "Reading these figures:", "", *NOTES]
    return "\n".join(lines) + "\n"


NOTES = [
    "- total = the sum of every module's self time during the handler's import "
    "(importtime's clock, wall time): median and range over the runs. The other ms "
    "columns are medians over the runs, the share is the median of each run's share, CPU "
    "the median of the child's process CPU for the import. Wall times move with the "
    "machine's load: read the shares first.",
    "- ours = self time of `pixy_whatsapp.*` and `functions.*` modules: their top-level "
    "code, which builds the pydantic models they define and, in the handlers, the "
    "Settings, the Powertools resolver, the processors and the clients.",
    "- Some of that top-level code is a library's work: botocore loading service models "
    "and endpoint rules for each boto3 client, ssl loading the CA bundle for the Graph "
    "client's TLS context, pydantic scanning installed distributions for plugins before "
    "its first model. Each is timed in the child and counted to its library; the column "
    "before the verdict shows our share if it were counted as ours instead.",
    "- The handlers see only what the Lambda layers ship: installed distributions outside "
    "`layers/deps` and the runtime's boto3 are hidden from them, so httpx skips its "
    "command-line client (click, rich, pygments) and X-Ray finds no `requests` to patch, "
    "as on Lambda (`--all-installed` measures the virtualenv as it is).",
    "- A module loaded through `importlib.import_module` (the API's admin routes, the "
    "names our packages load on first use) gets no importtime line: its self time shows "
    "in the module that loaded it, still ours.",
    "- Compiling from source (second table) makes the third-party share grow most: our "
    "ms grow, our share falls.",
    "- This is the handler import only, on x86-64 CPython 3.11; Lambda's init also starts "
    "its runtime, and runs arm64 CPython 3.13.",
    "- pywa is imported with its own dependencies only and builds no clients: a library's "
    "import, for scale, not a Lambda's cold start.",
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.cold_start",
        description="Import time of each Lambda handler, split by whose code it is.",
    )
    parser.add_argument("--runs", type=int, default=5, help="measured imports per handler")
    parser.add_argument(
        "--bytecode",
        choices=["cached", "source", "both"],
        default="both",
        help="import from .pyc files, compile the layers from source, or both",
    )
    parser.add_argument(
        "--all-installed",
        action="store_true",
        help="let the handlers import every installed distribution, not only the layers'",
    )
    parser.add_argument(
        "--write-results", action="store_true", help="record the figures in RESULTS.md"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    targets = build_targets(args.all_installed)
    modes = ["cached", "source"] if args.bytecode == "both" else [args.bytecode]
    started_at = datetime.now(UTC)
    load_before = os.getloadavg()
    results: dict[str, list[Measured]] = {}
    with (
        BusyMeter() as busy,
        tempfile.TemporaryDirectory(prefix="pixy-cold-start-") as scratch,
    ):
        for mode in modes:
            results[mode] = measure(targets, args.runs, mode, Path(scratch))
    load = (load_before, os.getloadavg())
    body = render(args, results, targets, started_at, load, busy.others_cores)
    print(body)
    if args.write_results:
        from benchmarks._report import RESULTS, write_results

        key = "cold_start" + ("" if not args.all_installed else " all-installed")
        write_results(key, "Cold start: handler import time, ours vs third-party", body)
        print(f"recorded in {RESULTS.relative_to(ROOT)}")
    handlers = [
        m for m in results.get("cached", next(iter(results.values()))) if m.target.key != "pywa"
    ]
    return 0 if all(m.own_share() <= TARGET_OWN_SHARE for m in handlers) else 1


if __name__ == "__main__":
    sys.exit(main())
