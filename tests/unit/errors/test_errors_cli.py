"""`pixy-whatsapp errors explain CODE` through the real command line entry point."""

from __future__ import annotations

from click.testing import CliRunner
from pixy_whatsapp.cli.main import cli


def test_explain_known_code() -> None:
    result = CliRunner().invoke(cli, ["errors", "explain", "131056"])
    assert result.exit_code == 0
    assert "pair rate limit hit" in result.output
    assert "retry_after" in result.output
    assert "4^attempt" in result.output
    assert "meaning:" in result.output


def test_explain_code_in_a_band() -> None:
    result = CliRunner().invoke(cli, ["errors", "explain", "250"])
    assert result.exit_code == 0
    assert "API Permission" in result.output
    assert "band 200-299" in result.output
    assert "pause_credentials" in result.output


def test_explain_unknown_code_prints_the_unknown_rules() -> None:
    result = CliRunner().invoke(cli, ["errors", "explain", "424242"])
    assert result.exit_code == 0
    assert "not in the error table" in result.output
    for name in ("unknown-transient", "unknown-throttled", "unknown-permanent"):
        assert name in result.output


def test_explain_rejects_a_non_integer() -> None:
    result = CliRunner().invoke(cli, ["errors", "explain", "abc"])
    assert result.exit_code == 2
    assert "not a valid integer" in result.output


def test_errors_group_lists_explain() -> None:
    result = CliRunner().invoke(cli, ["errors", "--help"])
    assert result.exit_code == 0
    assert "explain" in result.output
