"""`pixy-whatsapp webhook`: inspect Meta webhook bodies saved to files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from pixy_whatsapp.models import WebhookParseError, parse_webhook, summarize_webhook


@click.group()
def webhook() -> None:
    """Meta webhook bodies: parse and summarize them."""


@webhook.command()
@click.argument(
    "files",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.pass_context
def parse(ctx: click.Context, files: tuple[Path, ...]) -> None:
    """Print one JSON line per FILE: what it carries, or why it is not a webhook.

    A line holds file, ok, fields, messages, statuses, errors (value, status and message
    errors together) and unknown_types; a body that is not a WhatsApp Business webhook
    gives ok=false and a one-line reason. Exits 1 if any file was not a webhook.
    """
    failed = False
    for path in files:
        line = _summary_line(path)
        failed = failed or not line["ok"]
        click.echo(json.dumps(line, ensure_ascii=False))
    if failed:
        ctx.exit(1)


def _summary_line(path: Path) -> dict[str, Any]:
    try:
        payload = parse_webhook(path.read_bytes())
    except WebhookParseError as exc:
        return {"file": str(path), "ok": False, "reason": exc.reason}
    except OSError as exc:
        return {"file": str(path), "ok": False, "reason": f"cannot read file ({exc.strerror})"}
    return {"file": str(path), "ok": True, **summarize_webhook(payload).as_dict()}
