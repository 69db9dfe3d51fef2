"""The committed generated modules are exactly what the generator makes from the spec."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.generate_models import MODELS_DIR, compare, generate


@pytest.mark.spec
def test_committed_models_match_a_fresh_generation(meta_spec_path: Path, tmp_path: Path) -> None:
    written = generate(meta_spec_path, tmp_path)

    assert {path.name for path in written} == {
        "_generated_send.py",
        "_generated_webhook.py",
        "_generated_vocabulary.py",
    }
    assert compare(tmp_path, MODELS_DIR) == []


def test_compare_reports_changed_missing_and_stale_files(tmp_path: Path) -> None:
    fresh, committed = tmp_path / "fresh", tmp_path / "committed"
    fresh.mkdir()
    committed.mkdir()
    (fresh / "_generated_a.py").write_text("x = 1\n")
    (committed / "_generated_a.py").write_text("x = 2\n")
    (fresh / "_generated_new.py").write_text("y = 1\n")
    (committed / "_generated_old.py").write_text("z = 1\n")

    problems = compare(fresh, committed)

    assert problems[0] == "_generated_old.py: committed but no longer generated"
    assert problems[1].startswith("_generated_a.py: differs (+1 -1 lines)")
    assert problems[2] == "_generated_new.py: generated but not committed"


def test_generated_modules_say_how_to_regenerate() -> None:
    for path in sorted(MODELS_DIR.glob("_generated_*.py")):
        first_lines = path.read_text().splitlines()[:2]
        assert first_lines[0].startswith(
            "# Generated from Meta's WhatsApp Business Messaging OpenAPI spec v23.0"
        ), path.name
        assert "regenerate with `make models`" in first_lines[1], path.name
