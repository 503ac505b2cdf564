"""`ldapcheck render saslauthd` prints exactly the bytes the container writes, from its environment or a .env."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ldapcheck.auth.ldap.render import render
from ldapcheck.cli.render import redact

VECTORS = next(p for p in Path(__file__).parents if (p / "vectors").is_dir()) / "vectors"

VECTORS = [
    json.loads(line)
    for line in (
        next(p for p in Path(__file__).parents if (p / "vectors").is_dir()) / "vectors" / "saslauthd-render.jsonl"
    )
    .read_text()
    .splitlines()
    if line.strip()
]
BASE_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"}


def cli(*args: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "ldapcheck", "render", "saslauthd", *args],
        capture_output=True,
        timeout=60,
        env={**BASE_ENV, **env},
        cwd=cwd,
        check=False,
    )


@pytest.mark.parametrize("case", VECTORS[::4], ids=[c["id"] for c in VECTORS[::4]])
def test_process_environment_reproduces_upstream_bytes(case: dict[str, object]) -> None:
    env: dict[str, str] = case["env"]  # type: ignore[assignment]
    proc = cli("--generation", str(case["template"]), env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == str(case["expected"]).encode()


def test_hostile_values_are_printed_verbatim() -> None:
    env = {
        "AUTH_TYPE": "ldap",
        "LDAP_URL": "ldaps://dc1.example.org:636 ldaps://dc2.example.org:636",
        "LDAP_BASE": "OU=Users ü,DC=example,DC=org",
        "LDAP_BINDDN": "CN=svc jitsi,OU=Service Accounts,DC=example,DC=org",
        "LDAP_BINDPW": " p@ss#w0rd$ {{x}} 'q' \"d\" \\ € ",
        "LDAP_FILTER": "(sAMAccountName=%U)",
    }
    proc = cli(env=env)
    assert proc.returncode == 0
    assert proc.stdout == render(env).encode()
    assert b"ldap_bind_pw:  p@ss#w0rd$ {{x}} 'q' \"d\" \\ \xe2\x82\xac \n" in proc.stdout
    assert proc.stderr == b""


def test_gate_warning_goes_to_stderr_only() -> None:
    env = {"AUTH_TYPE": "LDAP", "LDAP_URL": "ldap://x"}
    proc = cli(env=env)
    assert proc.returncode == 0
    assert proc.stdout == render(env).encode() == b"\n\n\n"
    assert b"would not write saslauthd.conf" in proc.stderr


def test_env_file_is_read_with_compose_rules(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# docker-jitsi-meet\nexport AUTH_TYPE=ldap\nLDAP_URL=ldap://127.0.0.1:389 # local\n"
        "LDAP_BASE=dc=example,dc=org\nLDAP_BINDDN=cn=svc,dc=example,dc=org\n"
        "LDAP_BINDPW='pa$word #1'\nLDAP_START_TLS=\"1\"\n"
    )
    proc = cli("--env-file", str(env_file), env={})
    assert proc.returncode == 0, proc.stderr
    expected = render(
        {
            "AUTH_TYPE": "ldap",
            "LDAP_URL": "ldap://127.0.0.1:389",
            "LDAP_BASE": "dc=example,dc=org",
            "LDAP_BINDDN": "cn=svc,dc=example,dc=org",
            "LDAP_BINDPW": "pa$word #1",
            "LDAP_START_TLS": "1",
        }
    )
    assert proc.stdout == expected.encode()
    assert b"ldap_bind_pw: pa$word #1\n" in proc.stdout


def test_shell_overrides_env_file_like_compose(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("AUTH_TYPE=ldap\nLDAP_URL=ldap://file\nLDAP_BASE=dc=x\n")
    proc = cli("--env-file", str(env_file), env={"LDAP_URL": "ldap://shell"})
    assert b"ldap_servers: ldap://shell\n" in proc.stdout
    assert b"LDAP_URL taken from this shell" in proc.stderr


def test_redact_masks_only_the_password() -> None:
    env = {"AUTH_TYPE": "ldap", "LDAP_URL": "u", "LDAP_BASE": "b", "LDAP_BINDDN": "cn=a", "LDAP_BINDPW": "Hunter2!"}
    proc = cli("--redact", env=env)
    assert b"Hunter2" not in proc.stdout
    assert proc.stdout == render(env).replace("Hunter2!", "********").encode()
    unset = render({"AUTH_TYPE": "ldap", "LDAP_BINDDN": "cn=a"})
    assert redact(unset) == unset  # `<no value>` is a diagnosis, not a secret


def test_output_is_written_0600_and_nothing_on_stdout(tmp_path: Path) -> None:
    out = tmp_path / "saslauthd.conf"
    env = {"AUTH_TYPE": "ldap", "LDAP_URL": "u", "LDAP_BASE": "b", "LDAP_BINDDN": "cn=a", "LDAP_BINDPW": "pw"}
    proc = cli("--output", str(out), env=env)
    assert proc.returncode == 0
    assert proc.stdout == b""
    assert out.read_bytes() == render(env).encode()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_bad_generation_and_bad_env_file_exit_2(tmp_path: Path) -> None:
    assert cli("--generation", "ancient", env={}).returncode == 2
    bad = tmp_path / ".env"
    bad.write_text("LDAP_BINDPW='open\n")
    proc = cli("--env-file", str(bad), env={})
    assert proc.returncode == 2
    assert b".env:1: unterminated" in proc.stderr


def test_env_file_legacy_redacted(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("AUTH_TYPE=ldap\nLDAP_URL=ldap://h\nLDAP_BASE=dc=x\nLDAP_BINDDN=cn=a\nLDAP_BINDPW='p w'\n")
    proc = cli("--env-file", str(env_file), "--generation=legacy", "--redact", env={})
    assert proc.returncode == 0
    assert b"ldap_tls" not in proc.stdout and b"ldap_bind_pw: ********\n" in proc.stdout
    assert b"p w" not in proc.stdout


def test_unknown_option_is_a_usage_error() -> None:
    proc = cli("--no-such-option", env={})
    assert proc.returncode == 2
    assert b"No such option" in proc.stderr or b"no such option" in proc.stderr.lower()
