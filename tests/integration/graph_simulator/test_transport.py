"""How the simulator runs: HTTPS with HTTP/2, as an asyncio task, from the command line."""

from __future__ import annotations

import asyncio
import json
import signal
import ssl
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import trustme

from infra.local.graph_simulator import GraphSimulator, SimulatorConfig, Validator, start_simulator
from tests.integration.graph_simulator.scenario import (
    NUMBER_A,
    TOKEN_A,
    base_config,
    graph_client,
    text_message,
)
from tests.integration.graph_simulator.webhook_receiver import WebhookReceiver

StartSim = Callable[[SimulatorConfig], GraphSimulator]


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path, ssl.SSLContext]:
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    certificate.cert_chain_pems[0].write_to_path(cert_file)
    certificate.private_key_pem.write_to_path(key_file)
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    return cert_file, key_file, client_context


def test_https_offers_http2_and_resets_the_connection(
    start_sim: StartSim, tls_files: tuple[Path, Path, ssl.SSLContext]
) -> None:
    cert_file, key_file, client_context = tls_files
    config = base_config(
        tls_certfile=str(cert_file),
        tls_keyfile=str(key_file),
        faults=[{"kind": "connection_reset", "phase": "after_accept", "max_count": 1}],
    )
    sim = start_sim(config)
    assert sim.base_url.startswith("https://127.0.0.1:")
    headers = {"Authorization": f"Bearer {TOKEN_A}"}
    with httpx.Client(
        http2=True, verify=client_context, headers=headers, trust_env=False
    ) as client:
        with pytest.raises(httpx.TransportError):
            client.post(f"{sim.graph_url}/{NUMBER_A}/messages", json=text_message())
        response = client.post(f"{sim.graph_url}/{NUMBER_A}/messages", json=text_message())

    assert response.http_version == "HTTP/2"
    assert response.status_code == 200
    assert [message.fault for message in sim.accepted] == ["connection_reset", None]


def test_runs_as_a_task_on_the_callers_event_loop(
    validator: Validator, receiver: WebhookReceiver
) -> None:
    config = base_config(webhooks={"url": receiver.url, "delivered_probability": 0.0})

    async def scenario() -> tuple[int, int, bool]:
        async with start_simulator(config, validate=validator) as sim:
            headers = {"Authorization": f"Bearer {TOKEN_A}"}
            async with httpx.AsyncClient(headers=headers, trust_env=False) as client:
                response = await client.post(
                    f"{sim.graph_url}/{NUMBER_A}/messages", json=text_message()
                )
            settled = await sim.webhooks_settled(within=5)
            return response.status_code, len(sim.accepted), settled

    assert asyncio.run(scenario()) == (200, 1, True)
    assert len(receiver.statuses()) == 1


def test_records_can_be_cleared_between_scenarios(start_sim: StartSim) -> None:
    sim = start_sim(base_config())
    with graph_client(sim) as client:
        client.post(f"/{NUMBER_A}/messages", json=text_message(callback="x"))
        client.post(f"{sim.base_url}/_sim/reset")

    assert sim.accepted == []
    assert sim.state()["accepted_total"] == 0


def test_the_cli_serves_until_interrupted(tmp_path: Path) -> None:
    settings = tmp_path / "simulator.json"
    settings.write_text(json.dumps({"latency": {"kind": "fixed", "seconds": 0.01}}))
    command = [
        sys.executable,
        "-c",
        "from pixy_whatsapp.cli.main import cli; cli()",
        "simulate-meta",
        "--config",
        str(settings),
        "--port",
        "0",
        "--number",
        "1001=2001:5",
        "--token",
        "cli-token=2001",
        "--fault",
        "policy_block:0.5@100-200",
        "--no-pair-limit",
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            banner = process.stdout.readline()
            graph_url = banner.split(" on ")[1].split()[0]
            base_url = graph_url.rsplit("/", 1)[0]
            with httpx.Client(trust_env=False, timeout=5) as client:
                sent = client.post(
                    f"{graph_url}/1001/messages",
                    json=text_message(),
                    headers={"Authorization": "Bearer cli-token"},
                )
                config = client.get(f"{base_url}/_sim/config").json()
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=10) == 0
        finally:
            if process.poll() is None:
                process.kill()

    assert sent.status_code == 200
    assert config["phone_numbers"]["1001"]["mps"] == 5
    assert config["accept_any_token"] is False
    assert config["latency"] == {"kind": "fixed", "seconds": 0.01}
    assert config["pair_limit"]["enabled"] is False
    assert config["faults"][0]["windows"] == [{"start": 100.0, "end": 200.0}]
