"""EventBridge's schedule rules, locally: invoke each rule's target at its rate.

The rules come from :data:`infra.topology.SCHEDULES` (the same the CDK stack creates, and
:mod:`infra.local.stack.resources` creates on moto, where nothing fires them). Like
EventBridge, the first run comes one period after the start; ``run_now`` fires a rule on
demand (``POST /_local/schedules/{key}`` on the local HTTP API). The event is EventBridge's
``Scheduled Event``.

Example::

    scheduler = Scheduler(topology, pools, region=..., account_id=...)
    scheduler.start()
    scheduler.run_now("subscription-check")
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from infra.local.stack.lambda_runtime import FunctionPool
from infra.topology import FunctionKey, ScheduleSpec, Topology

_log = logging.getLogger("pixy.local.schedule")


def scheduled_event(rule_arn: str, *, region: str, account_id: str) -> dict[str, Any]:
    """The event EventBridge sends a target of a schedule rule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


class Scheduler:
    def __init__(
        self,
        topology: Topology,
        pools: Mapping[FunctionKey, FunctionPool],
        *,
        region: str,
        account_id: str,
        period_scale: float = 1.0,
    ) -> None:
        """``period_scale`` shortens the periods (0.01: a 15-minute rule every 9 s)."""
        self._topology = topology
        self._pools = pools
        self._region = region
        self._account_id = account_id
        self._scale = period_scale
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.runs: dict[str, int] = {spec.key: 0 for spec in topology.schedules}
        self.failures: dict[str, int] = {spec.key: 0 for spec in topology.schedules}

    def period_s(self, spec: ScheduleSpec) -> float:
        return max(1.0, spec.rate_minutes * 60 * self._scale)

    def start(self) -> None:
        self._stop.clear()
        for spec in self._topology.schedules:
            thread = threading.Thread(
                target=self._run, args=(spec,), name=f"schedule-{spec.key}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout_s: float = 30.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout_s)
        self._threads.clear()

    def run_now(self, key: str) -> Any:
        """Fire one rule now and return what its target answered; KeyError if unknown."""
        spec = next((s for s in self._topology.schedules if s.key == key), None)
        if spec is None:
            raise KeyError(key)
        return self._fire(spec)

    def _fire(self, spec: ScheduleSpec) -> Any:
        pool = self._pools[spec.target]
        rule_arn = (
            f"arn:aws:events:{self._region}:{self._account_id}:rule/"
            f"{self._topology.schedule_name(spec.key)}"
        )
        event = scheduled_event(rule_arn, region=self._region, account_id=self._account_id)
        try:
            result = pool.invoke(event)
        except Exception:
            self.failures[spec.key] += 1
            raise
        finally:
            self.runs[spec.key] += 1
        return result

    def _run(self, spec: ScheduleSpec) -> None:
        while not self._stop.wait(self.period_s(spec)):
            if not self._pools[spec.target].available:
                _log.info("schedule %s: %s has no handler yet", spec.key, spec.target)
                continue
            try:
                self._fire(spec)
            except Exception:
                # EventBridge retries twice and drops the event; the next period redoes it.
                _log.warning("schedule %s: its run failed", spec.key)
