"""`ldapcheck bench logins` on the command line: bad arguments exit 2 with a clear error and no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ldapcheck.auth.ldap.container.saslloop import parse_line
from ldapcheck.core.loadstats import ERROR, OK, REJECTED, TIMEOUT
from ldapcheck.jitsi.container import cpu
from testing.fakeldap import fake_ldap


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
        (["--user", "alice", "--deployment", "kubernetes"], "--deployment"),
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
    flags = ("--concurrency", "--duration", "--max-logins", "--via", "--json", "--password-file", "--password-stdin")
    for flag in (*flags, "--env-file", "--url", "--base", "--bind-dn", "--timeout", "--transport", "--deployment"):
        assert flag in done.stdout
    text = " ".join(done.stdout.split())
    assert "$LDAPCHECK_PASSWORD" in text and "hidden prompt" in text  # where else the password comes from


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


# --- --via ldap takes the shared LDAP options (--url, --base, … as count and diagnose) besides --env-file --------


BENCH_LDAP = [
    sys.executable,
    "-m",
    "ldapcheck",
    "bench",
    "logins",
    "--user",
    "alice",
    "--password-stdin",
    "--via",
    "ldap",
]


def ldap_bench(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("LDAPCHECK_")}
    return subprocess.run(
        [*BENCH_LDAP, "--duration", "0.5", "--concurrency", "2", "--json", *args],
        input="pw\n",
        capture_output=True,
        text=True,
        timeout=60,
        env={**base_env, "LDAPCHECK_BIND_PASSWORD": "svc-pw", **(env or {})},
        cwd=cwd,
    )


def test_via_ldap_with_url_and_base_on_the_command_line(tmp_path: Path) -> None:
    base = "ou=people,dc=fake,dc=test"
    with fake_ldap("never", entries=1) as server:
        done = ldap_bench("--url", server.url, "--base", base, "--bind-dn", "cn=svc,dc=fake,dc=test", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["server"]["server"] == server.url
    assert report["server"]["user_dn"].endswith("," + base)  # the user was looked up under --base
    assert report["server"]["filter"] == "uid=alice"  # docker-jitsi-meet's default LDAP_FILTER, uid=%u
    assert report["logins"] > 0 and report["ok"] == report["logins"]


def test_via_ldap_command_line_overrides_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / "jitsi.env"
    env_file.write_text("LDAP_URL=ldap://127.0.0.1:9/\nLDAP_BASE=dc=old\nLDAP_FILTER=(mail=%u@example.org)\n")
    with fake_ldap("never", entries=1) as server:
        done = ldap_bench("--env-file", str(env_file), "--url", server.url, "--base", "dc=fake,dc=test")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["server"]["server"] == server.url  # --url over LDAP_URL
    assert report["server"]["user_dn"].endswith(",dc=fake,dc=test")  # --base over LDAP_BASE
    assert report["server"]["filter"] == "(mail=alice@example.org)"  # LDAP_FILTER still from the .env


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--timeout", "0"], "--timeout"),
        (["--url", "http://not-ldap.example"], "LDAP_URL"),
        (["--env-file", "/nonexistent/.env"], "/nonexistent/.env"),
    ],
)
def test_via_ldap_bad_ldap_options_exit_2(tmp_path: Path, args: list[str], says: str) -> None:
    done = ldap_bench(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert says in done.stderr
