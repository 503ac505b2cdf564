"""`ldapcheck count`'s typer-free path reads a command line exactly as typer does, or leaves it to typer.

The fast path exists for start-up time only (bench/README.md, *Start-up*): any disagreement with the full CLI
would be a bug, so every command line here goes through both, with the command itself replaced by a recorder.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from ldapcheck.cli import diagnose as diagnose_cli
from ldapcheck.cli import fastcount
from ldapcheck.cli.app import app_for
from ldapcheck.commands import count as count_command
from ldapcheck.commands.source import LdapSource
from ldapcheck.report import Format

# Command lines the fast path must take (the ones an admin types).
FAST = [
    ["count"],
    ["count", "--env-file", "jitsi.env"],
    ["count", "--env-file", "jitsi.env", "--json"],
    ["count", "--markdown", "--sanitize", "-v", "--env-file", ".env"],
    ["count", "--url", "ldap://h:389 ldaps://g", "--base", "dc=x", "--bind-dn", "cn=a,dc=x", "--filter", "(uid=%u)"],
    ["count", "--start-tls", "--ca-file", "/etc/ca.pem", "--xmpp-domain", "meet.jitsi", "--verbose"],
    ["count", "--no-start-tls", "--timeout", "0.1", "--page-size", "1"],
    ["count", "--timeout", "300", "--page-size", "100000", "--start-tls", "--no-start-tls"],
    ["count", "--timeout", "2.5", "--page-size", "1_000", "--url", ""],
    ["count", "--url", "ldap://a", "--url", "ldap://b"],
]
# Errors: typer's message and exit code 2 must stay the only ones.
ERRORS = [
    ["count", "--no-such-option"],
    ["count", "extra"],
    ["count", "--url"],
    ["count", "--timeout", "0.05"],
    ["count", "--timeout", "nan"],
    ["count", "--timeout", "inf"],
    ["count", "--timeout", "five"],
    ["count", "--page-size", "0"],
    ["count", "--page-size", "2147483648"],  # above an LDAP INTEGER
    ["count", "--page-size", "1.5"],
    ["count", "--json", "--markdown"],
]
# Also left to typer: help, root options, other commands, and forms the fast path does not need to read.
TYPER = [
    *ERRORS,
    [],
    ["--help"],
    ["--debug", "count"],
    ["count", "--help"],
    ["count", "--url=ldap://h"],
    ["count", "-vv"],
    ["count", "--url", "--json"],
    ["count", "--", "--json"],
    ["counts"],
    ["validate"],
]


def _typer_reads(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[LdapSource, int, frozenset[str]]:
    """What the full CLI hands the count command for `argv`."""
    seen: dict[str, Any] = {}

    def fake_count(source: LdapSource, *, page_size: int, progress: object = None) -> object:
        seen.update(source=source, page_size=page_size)
        return object()

    def fake_emit(report: object, fmt: Format, *, verbose: bool = False, sanitize: bool = False) -> None:
        on = {"json": fmt is Format.JSON, "markdown": fmt is Format.MARKDOWN, "verbose": verbose, "sanitize": sanitize}
        seen["flags"] = frozenset(name for name, value in on.items() if value)
        raise typer.Exit(0)

    monkeypatch.setattr(count_command, "count", fake_count)
    monkeypatch.setattr(diagnose_cli, "emit", fake_emit)
    result = CliRunner().invoke(app_for(argv), argv)
    assert result.exit_code == 0, result.output
    return seen["source"], seen["page_size"], seen["flags"]


@pytest.mark.parametrize("argv", FAST, ids=" ".join)
def test_the_fast_path_reads_what_typer_reads(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    fast = fastcount.parse(argv)
    assert fast is not None
    assert (fast.source, fast.page_size, fast.flags) == _typer_reads(argv, monkeypatch)


@pytest.mark.parametrize("argv", TYPER, ids=lambda a: " ".join(a) or "(none)")
def test_everything_else_is_left_to_typer(argv: list[str]) -> None:
    assert fastcount.parse(argv) is None


def test_debug_from_the_environment_is_left_to_typer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LDAPCHECK_DEBUG", "1")
    assert fastcount.parse(["count"]) is None


def test_typer_rejects_what_the_fast_path_declines(monkeypatch: pytest.MonkeyPatch) -> None:
    """The declined error cases really are errors for typer (exit 2), not command lines the fast path misreads."""
    monkeypatch.setattr(count_command, "count", lambda *a, **k: pytest.fail("count ran"))
    for argv in ERRORS:
        result = CliRunner().invoke(app_for(argv), argv)
        assert result.exit_code == 2, (argv, result.output)


def test_a_fast_count_exits_with_its_report_code_and_all_its_output() -> None:
    """The fast path skips the interpreter's finalization (os._exit): the report must still be complete."""
    with socket.socket() as unused:  # a port nothing listens on: the count fails at TCP (exit 1)
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LDAPCHECK_")}
    proc = subprocess.run(
        [sys.executable, "-m", "ldapcheck", "count", "--url", f"ldap://127.0.0.1:{port}", "--json", "--timeout", "5"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["exit_code"] == 1 and report["verdict"]["failure_id"] == "NET-REFUSED"
