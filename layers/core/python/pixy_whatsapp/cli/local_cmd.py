"""`pixy-whatsapp local`: the whole system on this machine (moto server + Graph simulator).

`make local` runs it; `make local ARGS="--demo 500"` sends 500 messages, reports and exits.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import time
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from infra.local.stack.runner import LocalStack

_QUIET_LOGGERS = ("botocore", "boto3", "urllib3", "httpx", "httpcore", "hpack", "werkzeug")


def _faults(values: tuple[str, ...]) -> tuple[str, ...]:
    # Repeatable, and each may hold several specs separated by commas.
    return tuple(spec.strip() for value in values for spec in value.split(",") if spec.strip())


def _concurrency(values: tuple[str, ...]) -> dict[str, int]:
    chosen: dict[str, int] = {}
    for value in values:
        name, _, number = value.partition("=")
        if not name or not number.isdigit() or int(number) < 1:
            raise click.BadParameter(f"want FUNCTION=N, got {value!r}", param_hint="--concurrency")
        chosen[name.strip()] = int(number)
    return chosen


@click.command("local")
@click.option(
    "--demo",
    "demo",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Send N messages across the demo WABAs, wait until each is terminal, print "
    "a report (its last line is JSON) and exit: 0 when none was lost or sent twice.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Port of the local HTTP API (default 8787; 0 picks a free one).",
)
@click.option(
    "--faults",
    "faults",
    multiple=True,
    metavar="SPEC[,SPEC...]",
    help="Faults for the Graph API simulator, e.g. server_error:0.05, "
    "timeout:0.01:after_accept, token_revoked@10-40, undeliverable:0.02:after_accept.",
)
@click.option(
    "--latency",
    default=None,
    help="Simulator answer latency: 0.05, uniform:0.01,0.2 or lognormal:0.08,0.4.",
)
@click.option(
    "--concurrency",
    "concurrency",
    multiple=True,
    metavar="FUNCTION=N",
    help="Environments per function, e.g. sender=4 inbound=4 (the queue pollers' "
    "maximum concurrency; kept below AWS's because moto is one core).",
)
@click.option(
    "--moto",
    "moto_mode",
    type=click.Choice(["process", "thread"]),
    default="process",
    show_default=True,
    help="Run moto server in a child process or in a thread.",
)
@click.option(
    "--timeout",
    "timeout_s",
    type=float,
    default=None,
    help="Demo: seconds to wait for every message to be terminal (default 60 + N/4).",
)
@click.option(
    "--log-level",
    default="WARNING",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    help="Level of the handlers' and the stack's logs (on stderr).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Simulator seed.")
@click.option(
    "--graph-url",
    envvar="PIXY_LOCAL_GRAPH_URL",
    default=None,
    help="Send to this Graph API (e.g. https://graph.facebook.com) instead of the "
    "simulator; needs --token, --phone-number-id and --waba-id.",
)
@click.option(
    "--token",
    envvar="WHATSAPP_TOKEN",
    default=None,
    help="Real Meta access token (env WHATSAPP_TOKEN).",
)
@click.option(
    "--phone-number-id",
    envvar="WHATSAPP_PHONE_NUMBER_ID",
    default=None,
    help="Real business phone number id (env WHATSAPP_PHONE_NUMBER_ID).",
)
@click.option(
    "--waba-id",
    envvar="WHATSAPP_WABA_ID",
    default=None,
    help="Real WABA id (env WHATSAPP_WABA_ID).",
)
@click.option(
    "--to",
    "demo_to",
    envvar="WHATSAPP_TEST_RECIPIENT",
    default=None,
    help="With --graph-url: the one recipient the demo may write to.",
)
@click.option(
    "--app-secret",
    envvar="WHATSAPP_APP_SECRET",
    default=None,
    help="App secret that signs webhooks (default: random; Meta's, with --graph-url).",
)
@click.option(
    "--verify-token",
    envvar="WHATSAPP_VERIFY_TOKEN",
    default=None,
    help="Webhook verify token (default: random).",
)
def local(
    demo: int | None,
    port: int | None,
    faults: tuple[str, ...],
    latency: str | None,
    concurrency: tuple[str, ...],
    moto_mode: str,
    timeout_s: float | None,
    log_level: str,
    seed: int,
    graph_url: str | None,
    token: str | None,
    phone_number_id: str | None,
    waba_id: str | None,
    demo_to: str | None,
    app_secret: str | None,
    verify_token: str | None,
) -> None:
    """Run the whole system locally: moto server, the Graph API simulator, the HTTP API,
    the queue pollers and the schedule, with the same handlers and topology as in AWS.

    Serves until Ctrl-C, or with --demo N sends N messages, reports and exits.
    """
    # Imported here: the local stack pulls in moto, starlette and hypercorn.
    from infra.local.stack.runner import DEFAULT_HTTP_PORT, LocalConfig, LocalStack, RealGraph
    from infra.topology import FunctionKey

    level = log_level.upper()
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))

    real: RealGraph | None = None
    if graph_url is not None:
        missing = [
            flag
            for flag, value in (
                ("--token", token),
                ("--phone-number-id", phone_number_id),
                ("--waba-id", waba_id),
            )
            if not value
        ]
        if missing or not (token and phone_number_id and waba_id):
            raise click.UsageError(f"--graph-url needs {', '.join(missing)}")
        real = RealGraph(graph_url.rstrip("/"), token, phone_number_id, waba_id)
        if demo is not None and not demo_to:
            raise click.UsageError("a demo against Meta needs --to (a test recipient)")

    chosen = _concurrency(concurrency)
    try:
        keys = {FunctionKey(name): number for name, number in chosen.items()}
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--concurrency") from error
    base = LocalConfig()
    config = LocalConfig(
        http_port=DEFAULT_HTTP_PORT if port is None else port,
        moto_mode=moto_mode,  # type: ignore[arg-type]
        concurrency={**base.concurrency, **keys},
        log_level=level,
        faults=_faults(faults),
        latency=latency or base.latency,
        seed=seed,
        real_graph=real,
        app_secret=app_secret,
        verify_token=verify_token,
    )
    stack = LocalStack(config)
    # Serving: Ctrl-C or SIGTERM (even during start-up) asks for a clean stop. A demo keeps
    # Python's default, so Ctrl-C interrupts it (and still stops the stack).
    previous = _stop_on_signals(stack) if demo is None else {}
    try:
        started = time.monotonic()
        try:
            stack.start()
        except Exception as error:
            raise click.ClickException(f"the local stack did not start: {error}") from error
        try:
            if demo is not None:
                code = _run_demo(stack, demo, timeout_s, demo_to)
            else:
                _print_banner(stack, time.monotonic() - started)
                stack.wait_until_stopped()
                code = 0
        finally:
            stack.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if demo is None:
        click.echo("stopped", err=True)
    sys.exit(code)


def _run_demo(stack: LocalStack, count: int, timeout_s: float | None, to: str | None) -> int:
    from infra.local.stack.demo import run_demo

    def progress(line: str) -> None:
        click.echo(line, err=True)

    progress(f"local stack up; HTTP API on {stack.api_url}")
    result = run_demo(stack, count, timeout_s=timeout_s, progress=progress, only_recipient=to)
    for line in result.report_lines():
        click.echo(line)
    return 0 if result.ok else 1


def _stop_on_signals(stack: LocalStack) -> dict[int, Any]:
    def stop(signum: int, frame: FrameType | None) -> None:
        stack.request_stop()

    return {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}


def _print_banner(stack: LocalStack, seconds: float) -> None:
    api = stack.api_url
    waba = stack.wabas[0]
    number = waba.numbers[0]
    body = {
        "messages": [
            {
                "waba_id": waba.waba_id,
                "phone_number_id": number.phone_number_id,
                "to": "+15551234567",
                "category": "utility",
                "message": {"type": "text", "text": {"body": "Hello from pixy-whatsapp"}},
            }
        ]
    }
    lines = [
        f"pixy-whatsapp local stack (stage {stack.topology.stage}) up in {seconds:.1f} s",
        "",
        f"  HTTP API        {api}",
        "                  In AWS the /v1 routes need IAM (SigV4) signatures; locally the API",
        "                  is open: no signature is needed or checked.",
        f"    send          POST {api}/v1/messages",
        f"    status        GET  {api}/v1/messages/<id>",
        f"    health        GET  {api}/v1/health",
        f"    WABAs         POST {api}/v1/wabas",
        f"    webhook       GET/POST {api}/webhook   (verify token: {stack.verify_token})",
        f"    metrics       GET  {api}/_local/metrics   (pixy-whatsapp report --local {api})",
    ]
    if stack.has_simulator:
        simulator = stack.simulator
        lines.append(f"  Graph API       simulator at {simulator.graph_url}")
        lines.append(f"                  state: GET {simulator.base_url}/_sim/state")
    else:
        lines.append(f"  Graph API       {stack.settings.graph_base_url} (Meta's, for real)")
    lines.append(
        f"  AWS (moto)      {stack.moto_url}   e.g. AWS_ENDPOINT_URL={stack.moto_url} "
        "aws sqs list-queues"
    )
    lines.append(
        "  WABAs           "
        + "; ".join(
            f"{w.waba_id}: {', '.join(n.phone_number_id for n in w.numbers)}" for w in stack.wabas
        )
    )
    lines += [
        "",
        "Send a message:",
        f"  curl -sS -X POST {api}/v1/messages -H 'content-type: application/json' \\",
        f"    -d '{json.dumps(body, separators=(',', ':'))}'",
        "Then follow it (use the id from the answer):",
        f"  curl -sS {api}/v1/messages/<id>",
        "",
        "Ctrl-C to stop.",
    ]
    click.echo("\n".join(lines))
