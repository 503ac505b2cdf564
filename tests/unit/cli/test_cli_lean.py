"""`app_for`: a run that names a command builds only that command (typer inspects every registered signature)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ldapcheck.cli.app import app, app_for


def test_a_named_command_gets_an_app_with_only_it() -> None:
    lean = app_for(["--debug", "count", "--env-file", "x.env"])
    assert [c.name for c in lean.registered_commands] == ["count"] and not lean.registered_groups
    lab = app_for(["lab", "up"])
    assert not lab.registered_commands and [g.name for g in lab.registered_groups] == ["lab"]


@pytest.mark.parametrize("argv", [[], ["--help"], ["--version"], ["no-such-command"]])
def test_help_and_unknown_names_get_the_whole_app(argv: list[str]) -> None:
    assert app_for(argv) is app


def test_the_lean_app_parses_like_the_whole_one() -> None:
    runner = CliRunner()
    for argv in (["count", "--help"], ["count", "--no-such-option"], ["validate", "--help"], ["lab", "--help"]):
        lean, whole = runner.invoke(app_for(argv), argv), runner.invoke(app, argv)
        assert (lean.exit_code, lean.output) == (whole.exit_code, whole.output)
