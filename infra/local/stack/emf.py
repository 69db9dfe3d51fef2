"""CloudWatch's side of EMF, locally: catch the EMF blobs the handlers print, aggregate them.

In Lambda every EMF line a function prints becomes metric data points; CloudWatch keeps
the raw values and computes sums and percentiles over them. Locally the handlers run
in-process, so :func:`capture_emf` replaces ``print`` inside Powertools' metric modules
(the only places EMF is written) with a hook that hands each blob to an
:class:`EmfAggregator`, which keeps every value per (namespace, metric, dimension set), as
CloudWatch does, and answers with counts, sums and p50/p95/p99.

Powertools keeps one metric set for the whole process (class attributes shared by every
``Metrics()``): one Lambda environment never runs two invocations at once, but the local
stack runs several in threads. :func:`capture_emf` also serialises the provider's methods
on one lock, so a flush never reads a set another thread is appending to. A flush may then
carry a concurrent invocation's values: sums and raw values stay exact, which is all the
aggregate needs (the project's metrics carry no per-invocation dimensions).

Example::

    aggregator = EmfAggregator()
    with capture_emf(aggregator):
        handler(event, context)          # prints EMF through Powertools
    aggregator.series("PixyWhatsApp", "MessagesAccepted")
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import json
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Where Powertools writes EMF with `print(...)`: the Metrics provider and single_metric.
_EMF_MODULES = (
    "aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch",
    "aws_lambda_powertools.metrics.base",
)
_LOCKED_METHODS = (
    "add_metric",
    "add_dimension",
    "add_dimensions",
    "add_metadata",
    "serialize_metric_set",
    "flush_metrics",
    "clear_metrics",
    "set_default_dimensions",
    "set_timestamp",
)
PERCENTILES = (50, 95, 99)


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile of ``values`` (linear interpolation between closest ranks)."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return float(ordered[low])
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


@dataclass
class _Series:
    unit: str
    values: list[tuple[float, float]] = field(default_factory=list)  # (epoch s, value)


@dataclass(frozen=True)
class SeriesSummary:
    """One metric with one dimension set, summarised like CloudWatch's statistics."""

    namespace: str
    metric: str
    dimensions: Mapping[str, str]
    unit: str
    count: int
    sum: float
    minimum: float | None
    maximum: float | None
    p50: float | None
    p95: float | None
    p99: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "metric": self.metric,
            "dimensions": dict(self.dimensions),
            "unit": self.unit,
            "count": self.count,
            "sum": self.sum,
            "min": self.minimum,
            "max": self.maximum,
            "p50": self.p50,
            "p95": self.p95,
            "p99": self.p99,
        }


class EmfAggregator:
    """Every EMF value seen, by (namespace, metric, dimensions); safe from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._series: dict[tuple[str, str, tuple[tuple[str, str], ...]], _Series] = {}
        self.blobs = 0
        self.rejected = 0

    def ingest_line(self, line: str) -> bool:
        """Take one printed line; False when it is not an EMF blob."""
        text = line.strip()
        if not text.startswith("{") or '"_aws"' not in text:
            return False
        try:
            blob = json.loads(text)
        except ValueError:
            return False
        return self.ingest(blob)

    def ingest(self, blob: Mapping[str, Any]) -> bool:
        """Take one EMF blob, as CloudWatch Logs would extract it."""
        meta = blob.get("_aws")
        if not isinstance(meta, Mapping):
            return False
        timestamp = float(meta.get("Timestamp") or time.time() * 1000) / 1000
        points: list[tuple[tuple[str, str, tuple[tuple[str, str], ...]], str, list[float]]] = []
        for directive in meta.get("CloudWatchMetrics") or ():
            namespace = str(directive.get("Namespace", ""))
            for dimension_set in directive.get("Dimensions") or [[]]:
                names = [str(name) for name in dimension_set]
                if any(name not in blob for name in names):
                    continue  # CloudWatch drops a directive whose dimension has no value
                dimensions = tuple((name, str(blob[name])) for name in names)
                for definition in directive.get("Metrics") or ():
                    name = str(definition.get("Name", ""))
                    values = _numbers(blob.get(name))
                    if not name or not values:
                        continue
                    unit = str(definition.get("Unit", "None"))
                    points.append(((namespace, name, dimensions), unit, values))
        with self._lock:
            if not points:
                self.rejected += 1
                return False
            self.blobs += 1
            for key, unit, values in points:
                series = self._series.setdefault(key, _Series(unit))
                series.values.extend((timestamp, value) for value in values)
        return True

    def series(
        self,
        namespace: str,
        metric: str,
        dimensions: Mapping[str, str] | None = None,
        *,
        since: float | None = None,
    ) -> SeriesSummary | None:
        """The series with exactly these dimensions besides ``service``, any service.

        Several services (tests that changed ``POWERTOOLS_SERVICE_NAME``) are merged.
        """
        wanted = dict(dimensions or {})
        unit: str | None = None
        values: list[float] = []
        with self._lock:
            for (ns, name, dims), series in self._series.items():
                if ns == namespace and name == metric and _dimensions_match(dict(dims), wanted):
                    unit = unit or series.unit
                    values.extend(v for t, v in series.values if since is None or t >= since)
        if unit is None:
            return None
        return _summary(namespace, metric, wanted, unit, values)

    def values(
        self, namespace: str, metric: str, dimensions: Mapping[str, str] | None = None
    ) -> list[float]:
        """Raw values of one series (any service)."""
        wanted = dict(dimensions or {})
        with self._lock:
            return [
                value
                for (ns, name, dims), series in self._series.items()
                if ns == namespace and name == metric and _dimensions_match(dict(dims), wanted)
                for _, value in series.values
            ]

    def summaries(self, *, since: float | None = None) -> list[SeriesSummary]:
        with self._lock:
            items = [
                (key, series.unit, [v for t, v in series.values if since is None or t >= since])
                for key, series in self._series.items()
            ]
        return [
            _summary(namespace, metric, dict(dimensions), unit, values)
            for (namespace, metric, dimensions), unit, values in sorted(items)
            if values
        ]

    def snapshot(self, *, since: float | None = None) -> dict[str, Any]:
        """Everything, as the local stack's ``GET /_local/metrics`` serves it."""
        return {
            "blobs": self.blobs,
            "series": [summary.as_dict() for summary in self.summaries(since=since)],
        }

    def reset(self) -> None:
        with self._lock:
            self._series.clear()
            self.blobs = 0
            self.rejected = 0


def _dimensions_match(have: Mapping[str, str], wanted: Mapping[str, str]) -> bool:
    names = set(have) - {"service"}
    if names != set(wanted) - {"service"}:
        return False
    return all(have.get(name) == value for name, value in wanted.items())


def _numbers(value: object) -> list[float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, list):
        return [float(v) for v in value if isinstance(v, int | float) and not isinstance(v, bool)]
    return []


def _summary(
    namespace: str, metric: str, dimensions: dict[str, str], unit: str, values: list[float]
) -> SeriesSummary:
    return SeriesSummary(
        namespace=namespace,
        metric=metric,
        dimensions=dimensions,
        unit=unit,
        count=len(values),
        sum=float(sum(values)),
        minimum=min(values) if values else None,
        maximum=max(values) if values else None,
        p50=percentile(values, 50),
        p95=percentile(values, 95),
        p99=percentile(values, 99),
    )


# --- capturing ----------------------------------------------------------------------------

_install_lock = threading.Lock()
_sinks: list[EmfAggregator] = []
_saved: dict[str, Any] = {}


def _emf_print(*args: Any, **kwargs: Any) -> None:
    if len(args) == 1 and not kwargs and isinstance(args[0], str):
        sinks = list(_sinks)
        if sinks and '"_aws"' in args[0]:
            try:
                blob = json.loads(args[0])
            except ValueError:
                blob = None
            if isinstance(blob, dict):
                for sink in sinks:
                    sink.ingest(blob)
                return
    builtins.print(*args, **kwargs)


def _locked(method: Callable[..., Any], lock: threading.RLock) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return method(*args, **kwargs)

    call.__pixy_local_locked__ = True  # type: ignore[attr-defined]
    return call


def _install() -> None:
    import importlib

    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
        AmazonCloudWatchEMFProvider,
    )

    for name in _EMF_MODULES:
        module = importlib.import_module(name)
        _saved[f"print:{name}"] = module.__dict__.get("print", _MISSING)
        module.print = _emf_print  # type: ignore[attr-defined]
    lock = threading.RLock()
    for method_name in _LOCKED_METHODS:
        method = AmazonCloudWatchEMFProvider.__dict__.get(method_name)
        if method is None or getattr(method, "__pixy_local_locked__", False):
            continue
        _saved[f"method:{method_name}"] = method
        setattr(AmazonCloudWatchEMFProvider, method_name, _locked(method, lock))


def _uninstall() -> None:
    import importlib

    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
        AmazonCloudWatchEMFProvider,
    )

    for key, value in list(_saved.items()):
        kind, _, name = key.partition(":")
        if kind == "print":
            module = importlib.import_module(name)
            if value is _MISSING:
                module.__dict__.pop("print", None)
            else:
                module.print = value  # type: ignore[attr-defined]
        else:
            setattr(AmazonCloudWatchEMFProvider, name, value)
    _saved.clear()


_MISSING = object()


@contextlib.contextmanager
def capture_emf(aggregator: EmfAggregator) -> Iterator[EmfAggregator]:
    """Send every EMF blob Powertools prints in this process to ``aggregator``.

    Nested or concurrent captures each get every blob; the hooks come off with the last.
    """
    with _install_lock:
        if not _sinks:
            _install()
        _sinks.append(aggregator)
    try:
        yield aggregator
    finally:
        with _install_lock:
            _sinks.remove(aggregator)
            if not _sinks:
                _uninstall()
