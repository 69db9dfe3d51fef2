"""Which status webhooks an accepted message gets, and when each is posted.

The statuses' `timestamp`s always follow the message's life (sent, then delivered, then
read); only their posting order may be shuffled and some posted twice, as Meta warns.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from infra.local.graph_simulator.config import WebhookSettings
from infra.local.graph_simulator.graph_errors import GraphError
from infra.local.graph_simulator.latency import draw_seconds
from infra.local.graph_simulator.records import AcceptedMessage
from infra.local.graph_simulator.webhook_payloads import pricing_for, status_object

# How far a held-back status lands after the one it swapped with, so that the swap shows
# even when both were due at the same moment.
_REORDER_GAP_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class PlannedStatus:
    delay: float
    """Seconds after acceptance at which the status is posted."""
    status: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StatusPlan:
    statuses: tuple[PlannedStatus, ...]
    duplicates: int
    reordered: int


def plan_statuses(
    message: AcceptedMessage,
    settings: WebhookSettings,
    rng: random.Random,
    failure: GraphError | None = None,
) -> StatusPlan:
    moments = _failed_life(settings, rng) if failure is not None else _normal_life(settings, rng)
    priced = _priced_index(moments, settings.pricing_on) if failure is None else None
    pricing = pricing_for(message, settings.template_categories, settings.default_template_category)
    errors = [failure.webhook_error()] if failure is not None else None

    statuses = [
        status_object(
            message,
            name,
            int(message.accepted_at + offset),
            pricing=pricing if index == priced else None,
            errors=errors if name == "failed" else None,
        )
        for index, (offset, name) in enumerate(moments)
    ]
    post_at = [offset for offset, _ in moments]

    reordered = 0
    for index in range(len(post_at) - 1):
        if settings.reorder_rate and rng.random() < settings.reorder_rate:
            post_at[index], post_at[index + 1] = (
                post_at[index + 1] + _REORDER_GAP_SECONDS,
                post_at[index],
            )
            reordered += 1

    planned = [PlannedStatus(at, status) for at, status in zip(post_at, statuses, strict=True)]
    duplicates = [
        PlannedStatus(item.delay + draw_seconds(settings.duplicate_delay, rng), item.status)
        for item in planned
        if settings.duplicate_rate and rng.random() < settings.duplicate_rate
    ]
    return StatusPlan(tuple(planned + duplicates), len(duplicates), reordered)


def _normal_life(settings: WebhookSettings, rng: random.Random) -> list[tuple[float, str]]:
    moments: list[tuple[float, str]] = []
    elapsed = draw_seconds(settings.sent_delay, rng)
    if rng.random() < settings.sent_probability:
        moments.append((elapsed, "sent"))
    if rng.random() >= settings.delivered_probability:
        return moments
    elapsed += draw_seconds(settings.delivered_delay, rng)
    delivered_at = elapsed
    read = rng.random() < settings.read_probability
    implied = read and rng.random() < settings.implied_delivered_rate
    if not implied:
        moments.append((delivered_at, "delivered"))
    if read:
        moments.append((delivered_at + draw_seconds(settings.read_delay, rng), "read"))
    return moments


def _failed_life(settings: WebhookSettings, rng: random.Random) -> list[tuple[float, str]]:
    return [(draw_seconds(settings.failed_delay, rng), "failed")]


def _priced_index(moments: list[tuple[float, str]], pricing_on: str) -> int | None:
    # Pricing rides on exactly one status of a message.
    names = [name for _, name in moments]
    if pricing_on in names:
        return names.index(pricing_on)
    return 0 if names else None
