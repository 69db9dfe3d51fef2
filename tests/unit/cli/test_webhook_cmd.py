"""`pixy-whatsapp webhook parse FILE...` through the real command line entry point."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from pixy_whatsapp.cli.main import cli

WEBHOOKS = Path(__file__).resolve().parents[2] / "fixtures" / "webhooks"


def run(*files: Path) -> tuple[int, list[dict[str, object]]]:
    result = CliRunner().invoke(cli, ["webhook", "parse", *map(str, files)])
    return result.exit_code, [json.loads(line) for line in result.output.splitlines()]


def test_prints_one_summary_line_per_file() -> None:
    code, lines = run(WEBHOOKS / "statuses.json", WEBHOOKS / "unknown_type.json")

    assert code == 0
    assert lines == [
        {
            "file": str(WEBHOOKS / "statuses.json"),
            "ok": True,
            "fields": ["messages"],
            "messages": 0,
            "statuses": 4,
            "errors": 1,
            "unknown_types": [],
        },
        {
            "file": str(WEBHOOKS / "unknown_type.json"),
            "ok": True,
            "fields": ["messages"],
            "messages": 2,
            "statuses": 0,
            "errors": 0,
            "unknown_types": ["message:poll_response"],
        },
    ]


def test_every_fixture_parses() -> None:
    code, lines = run(*sorted(WEBHOOKS.glob("*.json")))

    assert code == 0
    assert all(line["ok"] for line in lines)
    assert len(lines) == len(list(WEBHOOKS.glob("*.json")))


def test_not_a_webhook_gives_a_reason_and_fails_after_all_files(tmp_path: Path) -> None:
    page = tmp_path / "page.json"
    page.write_text('{"object": "page", "entry": []}')
    garbage = tmp_path / "garbage.json"
    garbage.write_text("<html>")

    code, lines = run(page, WEBHOOKS / "text.json", garbage)

    assert code == 1
    assert lines[0] == {
        "file": str(page),
        "ok": False,
        "reason": "`object` is 'page', not 'whatsapp_business_account'",
    }
    assert lines[1]["ok"] is True
    assert lines[2] == {
        "file": str(garbage),
        "ok": False,
        "reason": "body is not JSON (Expecting value at char 0)",
    }


def test_needs_at_least_one_existing_file(tmp_path: Path) -> None:
    assert CliRunner().invoke(cli, ["webhook", "parse"]).exit_code == 2
    missing = CliRunner().invoke(cli, ["webhook", "parse", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2
