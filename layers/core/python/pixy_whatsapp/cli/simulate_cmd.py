"""`pixy-whatsapp simulate-meta`: run the Graph API simulator until Ctrl-C."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click

_DEFAULT_PORT = 8790
_DEFAULT_WABA = "200000000000001"


@click.command("simulate-meta")
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON file of simulator settings; the flags below override it.",
)
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option(
    "--port",
    type=int,
    default=None,
    help=f"Port to listen on, 0 for any (default {_DEFAULT_PORT}).",
)
@click.option(
    "--number",
    "numbers",
    multiple=True,
    metavar="ID=WABA[:MPS]",
    help="A business phone number id, its WABA id and optionally its throughput. Repeatable.",
)
@click.option(
    "--default-waba",
    default=None,
    help="WABA of numbers not given with --number (default: any number is accepted "
    f"under {_DEFAULT_WABA} when no --number is given).",
)
@click.option(
    "--token",
    "tokens",
    multiple=True,
    metavar="TOKEN=ID[,ID...]",
    help="An access token and the WABA or phone number ids it may use. Repeatable.",
)
@click.option(
    "--accept-any-token/--registered-tokens-only",
    default=None,
    help="Take any bearer token (default when no --token is given).",
)
@click.option(
    "--latency", default=None, help="Answer latency: 0.05, uniform:0.01,0.2 or lognormal:0.12,0.5."
)
@click.option("--mps", type=int, default=None, help="Throughput per number (default 80).")
@click.option("--pair-limit/--no-pair-limit", default=None, help="Enforce the pair limit (131056).")
@click.option("--pair-interval", type=float, default=None, help="Pair limit: seconds per message.")
@click.option("--pair-burst", type=int, default=None, help="Pair limit: burst size.")
@click.option(
    "--throttle-status",
    type=click.Choice(["400", "429"]),
    default=None,
    help="HTTP status of 130429 and 131056 answers (default 400).",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="KIND[:RATE][:PHASE][@START-END]",
    help="Inject a fault, e.g. server_error:0.05, timeout:0.01:after_accept, "
    "token_revoked@10-40. Kinds: server_error, timeout, connection_reset, token_revoked, "
    "undeliverable, policy_block. Repeatable.",
)
@click.option("--webhook-url", default=None, help="Where status webhooks are posted.")
@click.option("--app-secret", default=None, help="Secret that signs the webhooks.")
@click.option("--duplicate-rate", type=float, default=None, help="Share of webhooks sent twice.")
@click.option("--reorder-rate", type=float, default=None, help="Share of webhooks swapped.")
@click.option("--seed", type=int, default=None, help="Seed of every random choice.")
@click.option("--tls-cert", default=None, help="Certificate file: serve HTTPS (and HTTP/2).")
@click.option("--tls-key", default=None, help="Private key file for --tls-cert.")
def simulate_meta(
    config_file: Path | None,
    host: str | None,
    port: int | None,
    numbers: tuple[str, ...],
    default_waba: str | None,
    tokens: tuple[str, ...],
    accept_any_token: bool | None,
    latency: str | None,
    mps: int | None,
    pair_limit: bool | None,
    pair_interval: float | None,
    pair_burst: int | None,
    throttle_status: str | None,
    faults: tuple[str, ...],
    webhook_url: str | None,
    app_secret: str | None,
    duplicate_rate: float | None,
    reorder_rate: float | None,
    seed: int | None,
    tls_cert: str | None,
    tls_key: str | None,
) -> None:
    """Run a stand-in for Meta's Graph API (messages, subscribed_apps, status webhooks)."""
    # Imported here: the simulator pulls in starlette and hypercorn, which only this
    # command needs.
    from pydantic import ValidationError

    from infra.local.graph_simulator import (
        GraphSimulator,
        SimulatorConfig,
        parse_fault,
        parse_latency,
    )

    settings: dict[str, Any] = json.loads(config_file.read_text()) if config_file else {}
    webhooks: dict[str, Any] = dict(settings.get("webhooks", {}))
    pair: dict[str, Any] = dict(settings.get("pair_limit", {}))
    try:
        _set(settings, host=host, port=port, default_waba_id=default_waba, default_mps=mps)
        _set(settings, seed=seed, tls_certfile=tls_cert, tls_keyfile=tls_key)
        settings.setdefault("port", _DEFAULT_PORT)
        if numbers:
            settings["phone_numbers"] = {
                **settings.get("phone_numbers", {}),
                **dict(_parse_number(spec) for spec in numbers),
            }
        if not settings.get("phone_numbers") and not settings.get("default_waba_id"):
            settings["default_waba_id"] = _DEFAULT_WABA
        if tokens:
            settings["tokens"] = {
                **settings.get("tokens", {}),
                **dict(_parse_token(spec) for spec in tokens),
            }
        if accept_any_token is None:
            accept_any_token = settings.get("accept_any_token", not settings.get("tokens"))
        settings["accept_any_token"] = accept_any_token
        if latency is not None:
            settings["latency"] = parse_latency(latency)
        if throttle_status is not None:
            settings["throttle_http_status"] = int(throttle_status)
        if faults:
            settings["faults"] = [parse_fault(spec) for spec in faults]
        _set(pair, enabled=pair_limit, interval_seconds=pair_interval, burst=pair_burst)
        _set(webhooks, url=webhook_url, app_secret=app_secret)
        _set(webhooks, duplicate_rate=duplicate_rate, reorder_rate=reorder_rate)
        settings["pair_limit"] = pair
        settings["webhooks"] = webhooks
        config = SimulatorConfig.model_validate(settings)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
        raise click.UsageError(f"invalid settings: {problems}") from error
    except ValueError as error:
        raise click.UsageError(str(error)) from error

    simulator = GraphSimulator(config)
    simulator.bind()
    click.echo(f"Graph API simulator on {simulator.graph_url} (Ctrl-C to stop)")
    click.echo(f"  state: GET {simulator.base_url}/_sim/state")
    if config.accept_any_token:
        click.echo("  any bearer token is accepted")
    if config.webhooks.url:
        click.echo(f"  status webhooks to {config.webhooks.url}")
    asyncio.run(simulator.serve(stop_on_signals=True))


def _set(target: dict[str, Any], **values: object) -> None:
    target.update({name: value for name, value in values.items() if value is not None})


def _parse_number(spec: str) -> tuple[str, dict[str, Any]]:
    number_id, _, rest = spec.partition("=")
    waba_id, _, number_mps = rest.partition(":")
    if not number_id or not waba_id:
        raise ValueError(f"--number wants ID=WABA[:MPS], got {spec!r}")
    number: dict[str, Any] = {"waba_id": waba_id}
    if number_mps:
        number["mps"] = int(number_mps)
    return number_id, number


def _parse_token(spec: str) -> tuple[str, list[str]]:
    token, _, ids = spec.partition("=")
    grants = [item for item in ids.split(",") if item]
    if not token or not grants:
        raise ValueError("--token wants TOKEN=ID[,ID...]")
    return token, grants
