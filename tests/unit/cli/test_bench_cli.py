"""`ldapcheck bench logins` on the command line: bad arguments exit 2 with a clear error and no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ldapcheck.auth.ldap.container.saslloop import parse_line
from ldapcheck.core.loadstats import ERROR, OK, REJECTED, TIMEOUT
from ldapcheck.jitsi.container import cpu


def run(*args: str, stdin: str = "pw\n") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ldapcheck", "bench", "logins", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--user", "alice", "--concurrency", "0"], "--concurrency"),
        (["--user", "alice", "--concurrency", "1000"], "--concurrency"),
        (["--user", "alice", "--duration", "0"], "--duration"),
        (["--user", "alice", "--duration", "inf"], "--duration"),
        (["--user", "alice", "--duration", "3600"], "--duration"),
        (["--user", "alice", "--max-logins", "-1"], "--max-logins"),
        (["--user", "alice", "--timeout", "nan"], "--timeout"),
        (["--user", "alice", "--via", "smtp"], "--via"),
        (["--user", "alice", "--via", "xmpp", "--transport", "pigeon"], "--transport"),
        (["--user", ""], "login"),
        (["--concurrency", "2"], "--user"),
        (["--user", "alice", "--password-file", "/nonexistent/pw"], "--password-file"),
    ],
)
def test_bad_arguments_exit_2_without_a_traceback(args: list[str], says: str) -> None:
    done = run(*args, "--password-stdin" if "--password-file" not in args else "--json")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert says in done.stderr


def test_the_password_file_and_stdin_exclude_each_other(tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("secret\n")
    done = run("--user", "alice", "--password-file", str(pw), "--password-stdin")
    assert done.returncode == 2
    assert "exclude each other" in done.stderr


def test_the_help_names_the_limits() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ldapcheck", "bench", "logins", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    for flag in ("--concurrency", "--duration", "--max-logins", "--via", "--json", "--password-file"):
        assert flag in done.stdout


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ('login\tanswer\t1.250\tOK "Success."', OK),
        ('login\tanswer\t3\tNO "authentication failed"', REJECTED),
        ("login\ttimeout\t5000\ttimeout", TIMEOUT),
        ("login\tanswer\t1\tWHAT", ERROR),
        ("garbage", ERROR),
    ],
)
def test_saslauthd_loop_lines_are_classified(line: str, kind: str) -> None:
    assert parse_line(line).kind == kind


def test_cpu_seconds_are_read_past_a_command_name_with_spaces() -> None:
    stat = "42 (lua5.4 (x) y) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 100 1000 10"
    assert cpu.parse(f"100\n{stat}\n") == {42: 3.0}
    assert cpu.parse("") is None
