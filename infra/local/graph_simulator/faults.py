"""Deciding, request by request, whether a configured fault happens."""

from __future__ import annotations

import random
from collections.abc import Sequence

from infra.local.graph_simulator.config import FaultPhase, FaultRule


class FaultPlan:
    """The fault rules in force, with the clock and counts their windows and caps need.

    Windows count from `armed_at`, the moment the rules were applied, so a test that sets
    "server errors from 1 s to 3 s" at run time gets them 1 s after it asked.
    """

    def __init__(self, rules: Sequence[FaultRule], rng: random.Random, armed_at: float) -> None:
        self.rules = tuple(rules)
        self._rng = rng
        self._armed_at = armed_at
        self._fired = [0] * len(self.rules)

    def draw(self, phase: FaultPhase, phone_number_id: str, now: float) -> FaultRule | None:
        elapsed = now - self._armed_at
        for index, rule in enumerate(self.rules):
            if rule.phase is not phase:
                continue
            if rule.phone_number_ids and phone_number_id not in rule.phone_number_ids:
                continue
            if rule.max_count is not None and self._fired[index] >= rule.max_count:
                continue
            if rule.windows and not any(w.start <= elapsed < w.end for w in rule.windows):
                continue
            if rule.rate < 1.0 and self._rng.random() >= rule.rate:
                continue
            self._fired[index] += 1
            return rule
        return None
