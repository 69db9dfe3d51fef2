"""Entry point of the `pixy-whatsapp` console script.

Sub-commands live in their own modules and are imported only when invoked, so
`pixy-whatsapp errors explain` does not pay for the local stack's imports.
"""

from __future__ import annotations

import importlib

import click

# command name -> "module:attribute" of a click command or group
_COMMANDS: dict[str, str] = {
    "errors": "pixy_whatsapp.cli.errors_cmd:errors",
    "webhook": "pixy_whatsapp.cli.webhook_cmd:webhook",
    "message": "pixy_whatsapp.cli.message_cmd:message",
    "simulate-meta": "pixy_whatsapp.cli.simulate_cmd:simulate_meta",
    "local": "pixy_whatsapp.cli.local_cmd:local",
    "report": "pixy_whatsapp.cli.report_cmd:report",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=_LazyGroup)
@click.version_option(package_name="pixy-whatsapp")
def cli() -> None:
    """pixy-whatsapp: WhatsApp Business Cloud API backbone tools."""
