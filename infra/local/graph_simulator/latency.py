"""Drawing delays from the configured latency distributions."""

from __future__ import annotations

import math
import random

from infra.local.graph_simulator.config import (
    FixedLatency,
    Latency,
    LognormalLatency,
    UniformLatency,
)


def draw_seconds(latency: Latency, rng: random.Random) -> float:
    if isinstance(latency, FixedLatency):
        return latency.seconds
    if isinstance(latency, UniformLatency):
        return rng.uniform(latency.low, latency.high)
    if isinstance(latency, LognormalLatency):
        # The median of a lognormal is exp(mu), so mu = log(median).
        return min(rng.lognormvariate(math.log(latency.median), latency.sigma), latency.cap)
    raise TypeError(f"unknown latency {latency!r}")
