"""`pixy-whatsapp errors`: look up how the gateway handles a Graph API error code."""

from __future__ import annotations

import click

from pixy_whatsapp.errors import explain as explain_code


@click.group()
def errors() -> None:
    """Graph API error codes and how the sender reacts to them."""


@errors.command()
@click.argument("code", type=int)
def explain(code: int) -> None:
    """Print the title, meaning and action for CODE (the rules for unknown codes if none)."""
    click.echo(explain_code(code))
