"""docs/error-codes.md is the rendering of the table, and stays in step with it."""

from __future__ import annotations

from pathlib import Path

from pixy_whatsapp.errors import RULES, UNKNOWN_RULES, render_markdown
from pixy_whatsapp.errors.docs import main

DOCS_PAGE = Path(__file__).resolve().parents[3] / "docs" / "error-codes.md"


def test_committed_page_matches_the_table() -> None:
    assert DOCS_PAGE.read_text(encoding="utf-8") == render_markdown(), (
        "docs/error-codes.md is stale: run `python -m pixy_whatsapp.errors.docs`"
    )


def test_page_lists_every_rule() -> None:
    page = render_markdown()
    for rule in RULES:
        assert f"| {rule.key} | " in page
    for rule in UNKNOWN_RULES:
        assert f"| {rule.name} | " in page


def test_writer_and_check_mode(tmp_path: Path) -> None:
    target = tmp_path / "docs" / "error-codes.md"
    assert main(["--check", str(target)]) == 1
    assert main([str(target)]) == 0
    assert target.read_text(encoding="utf-8") == render_markdown()
    assert main(["--check", str(target)]) == 0
    target.write_text("edited by hand\n", encoding="utf-8")
    assert main(["--check", str(target)]) == 1
