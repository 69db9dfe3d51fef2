"""`pixy-whatsapp message validate FILE...` through the real command line entry point."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from pixy_whatsapp.cli.main import cli

MESSAGES = Path(__file__).resolve().parents[2] / "fixtures" / "messages"


def run(*files: Path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(cli, ["message", "validate", *map(str, files)])
    return result.exit_code, result.output.splitlines()


def test_valid_payloads_print_ok() -> None:
    code, lines = run(MESSAGES / "text.json", MESSAGES / "template.json")

    assert code == 0
    assert lines == [f"{MESSAGES / 'text.json'}: ok", f"{MESSAGES / 'template.json'}: ok"]


def test_problems_are_printed_with_their_json_path() -> None:
    text = MESSAGES / "invalid_text_without_body.json"
    image = MESSAGES / "invalid_image_without_id_or_link.json"
    template = MESSAGES / "invalid_template_without_name.json"

    code, lines = run(text, MESSAGES / "text.json", image, template)

    assert code == 1
    assert lines == [
        f"{text}: $.text.body: is required",
        f"{MESSAGES / 'text.json'}: ok",
        f"{image}: $.image: needs `id` (uploaded media) or `link` (URL)",
        f"{template}: $.template.name: is required",
    ]


def test_a_file_that_is_not_json_is_a_problem(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{")

    code, lines = run(broken)

    assert code == 1
    assert lines[0].startswith(f"{broken}: $: not JSON (")


def test_every_valid_fixture_passes() -> None:
    valid = sorted(p for p in MESSAGES.glob("*.json") if not p.name.startswith("invalid_"))

    code, lines = run(*valid)

    assert code == 0
    assert lines == [f"{path}: ok" for path in valid]
