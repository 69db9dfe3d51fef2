"""`pixy-whatsapp message`: check send payloads (Meta message objects) saved to files."""

from __future__ import annotations

import json
from pathlib import Path

import click

from pixy_whatsapp.models import MessageProblem, validate_message


@click.group()
def message() -> None:
    """Meta message objects: validate them before they are queued."""


@message.command()
@click.argument(
    "files",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.pass_context
def validate(ctx: click.Context, files: tuple[Path, ...]) -> None:
    """Check each FILE as the body of POST /{phone-number-id}/messages.

    Prints `FILE: ok`, or one `FILE: <json path>: <problem>` line per problem, and exits
    1 if any file has a problem.
    """
    failed = False
    for path in files:
        problems = _problems(path)
        failed = failed or bool(problems)
        if not problems:
            click.echo(f"{path}: ok")
        for problem in problems:
            click.echo(f"{path}: {problem}")
    if failed:
        ctx.exit(1)


def _problems(path: Path) -> list[MessageProblem]:
    try:
        payload = json.loads(path.read_bytes())
    except OSError as exc:
        return [MessageProblem("$", f"cannot read file ({exc.strerror})")]
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [MessageProblem("$", f"not JSON ({exc})")]
    return validate_message(payload)
