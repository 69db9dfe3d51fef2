"""Any order, any duplicates: a message's status webhooks end in the same record and events.

Meta neither orders nor deduplicates status webhooks. Whatever permutation (with repeats)
of a message's statuses arrives, the final record must be the one the statuses describe,
and each status must be published exactly once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pixy_whatsapp.events import EventDetail
from pixy_whatsapp.statuses import MessageStatus

from .payloads import T0, meta_error, raw, status, status_webhook
from .support import World, envelope

# Each life: the statuses Meta may report for one message, and when each happened.
LIVES: dict[str, dict[str, int]] = {
    "read": {"sent": T0 + 1, "delivered": T0 + 2, "read": T0 + 30},
    "failed": {"sent": T0 + 1, "failed": T0 + 5},
}
FINAL = {"read": MessageStatus.READ, "failed": MessageStatus.FAILED}
REPORTED = set(LIVES["read"]) | set(LIVES["failed"])


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[str, bool, list[str]]:
    """A life, whether the sender recorded the wamid, and the statuses in arrival order."""
    life = draw(st.sampled_from(sorted(LIVES)))
    statuses = sorted(LIVES[life])
    repeats = draw(st.lists(st.sampled_from(statuses), max_size=5))
    arrival = draw(st.permutations(statuses + repeats))
    return life, draw(st.booleans()), arrival


class Recorded:
    """The publisher's side of the bus, kept in memory: the many examples stay fast.

    The same processor publishes to EventBridge (through moto) in the other tests.
    """

    def __init__(self) -> None:
        self.details: list[EventDetail] = []

    def publish(self, details: Sequence[EventDetail]) -> None:
        self.details.extend(details)


def _body(wamid: str, message_id: str, value: str, at: int) -> bytes:
    errors = [meta_error(131026, "Message undeliverable")] if value == "failed" else None
    return raw(status_webhook(status(wamid, value, at, callback=message_id, errors=errors)))


def _final_state(world: World, message_id: str) -> dict[str, Any]:
    record = world.messages.get(message_id)
    assert record is not None
    return {
        "status": record.status,
        "times": {e.status.value: e.at_ms for e in record.history if e.status.value in REPORTED},
        "wamid": record.wamid,
        "error": (record.error.code, record.error.error_class) if record.error else None,
    }


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(case=deliveries())
def test_any_permutation_with_duplicates_ends_in_the_same_record(
    world: World, case: tuple[str, bool, list[str]]
) -> None:
    life, accepted, arrival = case
    wamid = f"wamid.{life}.{len(arrival)}.{id(arrival)}"
    # Left `sending` when the sender never learned the wamid: the callback data ties back.
    message_id = world.sent_message(wamid=wamid if accepted else None)
    recorded = Recorded()
    processor = world.build(publisher=recorded)

    for value in arrival:
        processor.process(envelope(_body(wamid, message_id, value, LIVES[life][value])))

    final = _final_state(world, message_id)
    assert final["status"] is FINAL[life]
    assert final["times"] == {value: at * 1000 for value, at in LIVES[life].items()}
    assert final["wamid"] == wamid
    assert final["error"] == ((131026, "recipient") if life == "failed" else None)

    published = Counter(
        (d.detail_type.value, getattr(d, "status", None), d.message_id)  # type: ignore[attr-defined]
        for d in recorded.details
    )
    expected: Counter[tuple[str, str | None, str]] = Counter(
        ("message.status", value, message_id) for value in LIVES[life]
    )
    if life == "failed":
        expected[("message.failed", None, message_id)] = 1
    assert published == expected
