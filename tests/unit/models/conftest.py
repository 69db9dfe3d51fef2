"""Shared fixtures for the model tests: fixture files and Meta's spec (when reachable)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tools.generate_models import SPEC_ENV, load_spec, spec_path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture(scope="session")
def fixture_json() -> Callable[[str], Any]:
    """Load ``tests/fixtures/<relative path>`` as JSON."""

    def load(relative: str) -> Any:
        return json.loads((FIXTURES / relative).read_text())

    return load


@pytest.fixture(scope="session")
def meta_spec_path() -> Path:
    path = spec_path()
    if not path.is_file():
        pytest.skip(f"Meta's OpenAPI spec is not at {path}; set {SPEC_ENV} to run this test")
    return path


@pytest.fixture(scope="session")
def meta_spec(meta_spec_path: Path) -> dict[str, Any]:
    return load_spec(meta_spec_path)
