"""Throughput per number (130429) and the pair limit per recipient (131056)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx

from infra.local.graph_simulator import GraphSimulator, PairLimit, PhoneNumber, SimulatorConfig
from tests.integration.graph_simulator.scenario import (
    NUMBER_A,
    NUMBER_B,
    TOKEN_A,
    TOKEN_B,
    WABA_A,
    WABA_B,
    base_config,
    graph_client,
    text_message,
)

StartSim = Callable[[SimulatorConfig], GraphSimulator]
NO_PAIR_LIMIT = PairLimit(enabled=False)


def _recipient(index: int) -> str:
    return f"+1650555{index:04d}"


def _send_together(sim: GraphSimulator, recipients: list[str]) -> list[int]:
    """Send to every recipient at once, so they all land within the same second."""

    async def send_all() -> list[int]:
        headers = {"Authorization": f"Bearer {TOKEN_A}"}
        async with httpx.AsyncClient(
            base_url=sim.graph_url, headers=headers, trust_env=False, timeout=5
        ) as client:
            responses = await asyncio.gather(
                *(
                    client.post(f"/{NUMBER_A}/messages", json=text_message(to=to))
                    for to in recipients
                )
            )
        return [response.status_code for response in responses]

    return asyncio.run(send_all())


def test_throughput_is_capped_per_number_over_a_sliding_second(start_sim: StartSim) -> None:
    sim = start_sim(base_config(default_mps=20, pair_limit=NO_PAIR_LIMIT))
    at_cap = _send_together(sim, [_recipient(i) for i in range(20)])
    with graph_client(sim) as client:
        over_cap = client.post(f"/{NUMBER_A}/messages", json=text_message(to=_recipient(99)))
        with graph_client(sim, token=TOKEN_B) as other_client:
            other_number = other_client.post(f"/{NUMBER_B}/messages", json=text_message())
    time.sleep(1.05)
    over_twice = _send_together(sim, [_recipient(i) for i in range(100, 130)])

    assert at_cap == [200] * 20
    assert over_cap.status_code == 400
    error = over_cap.json()["error"]
    assert error["code"] == 130429
    assert error["message"] == "(#130429) Rate limit hit"
    assert other_number.status_code == 200
    # A second later the window has slid past the first burst: 20 more, and no more.
    assert sorted(over_twice) == [200] * 20 + [400] * 10
    assert sim.rejections == {130429: 11}
    assert len(sim.accepted) == 41


def test_a_number_can_have_its_own_throughput(start_sim: StartSim) -> None:
    numbers = {
        NUMBER_A: PhoneNumber(waba_id=WABA_A, mps=3),
        NUMBER_B: PhoneNumber(waba_id=WABA_B),
    }
    sim = start_sim(base_config(phone_numbers=numbers, pair_limit=NO_PAIR_LIMIT))
    with graph_client(sim) as client:
        codes = [
            client.post(f"/{NUMBER_A}/messages", json=text_message(to=_recipient(i))).status_code
            for i in range(5)
        ]

    assert codes == [200, 200, 200, 400, 400]


def test_throttling_can_answer_429(start_sim: StartSim) -> None:
    sim = start_sim(base_config(default_mps=1, throttle_http_status=429))
    with graph_client(sim) as client:
        client.post(f"/{NUMBER_A}/messages", json=text_message())
        response = client.post(f"/{NUMBER_A}/messages", json=text_message(to=_recipient(1)))

    assert response.status_code == 429
    assert response.json()["error"]["code"] == 130429


def test_the_pair_limit_allows_a_burst_then_one_per_interval(start_sim: StartSim) -> None:
    # The first four sends must land within one interval; a second leaves room for a slow host.
    sim = start_sim(base_config(pair_limit=PairLimit(interval_seconds=1.0, burst=3)))
    with graph_client(sim) as client:
        burst = [
            client.post(f"/{NUMBER_A}/messages", json=text_message()).status_code for _ in range(3)
        ]
        over = client.post(f"/{NUMBER_A}/messages", json=text_message())
        other_recipient = client.post(f"/{NUMBER_A}/messages", json=text_message(to=_recipient(1)))
        time.sleep(1.05)
        after_interval = client.post(f"/{NUMBER_A}/messages", json=text_message())
        again_too_soon = client.post(f"/{NUMBER_A}/messages", json=text_message())

    assert burst == [200, 200, 200]
    assert over.status_code == 400
    assert over.json()["error"]["code"] == 131056
    assert other_recipient.status_code == 200
    assert after_interval.status_code == 200
    assert again_too_soon.json()["error"]["code"] == 131056
    assert sim.rejections == {131056: 2}


def test_the_pair_limit_can_be_disabled(start_sim: StartSim) -> None:
    sim = start_sim(base_config(pair_limit=NO_PAIR_LIMIT))
    with graph_client(sim) as client:
        codes = {
            client.post(f"/{NUMBER_A}/messages", json=text_message()).status_code for _ in range(60)
        }

    assert codes == {200}


def test_a_refused_send_costs_no_allowance(start_sim: StartSim) -> None:
    sim = start_sim(base_config(default_mps=2, pair_limit=PairLimit(interval_seconds=10, burst=1)))
    with graph_client(sim) as client:
        first = client.post(f"/{NUMBER_A}/messages", json=text_message())
        pair_refused = client.post(f"/{NUMBER_A}/messages", json=text_message())
        other = client.post(f"/{NUMBER_A}/messages", json=text_message(to=_recipient(1)))

    # The pair-limited send did not use the number's second slot in this second.
    assert [first.status_code, other.status_code] == [200, 200]
    assert pair_refused.json()["error"]["code"] == 131056
