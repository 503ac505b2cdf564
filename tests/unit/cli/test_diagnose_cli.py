"""`diagnose`, `count`, `user`: configuration errors are exit 2 with a message, passwords never come from argv."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LDAPCHECK_")}
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "ldapcheck", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
    )


@pytest.mark.parametrize("command", ["diagnose", "count", "user"])
def test_help(command: str) -> None:
    proc = run(command, "--help")
    assert proc.returncode == 0
    assert "--env-file" in proc.stdout and "--json" in proc.stdout
    assert "--password " not in proc.stdout and "--bind-password" not in proc.stdout  # never on argv


def test_diagnose_help_names_the_deployment_and_where_passwords_come_from() -> None:
    text = " ".join(run("diagnose", "--help").stdout.split())
    assert "--deployment" in text and "Debian packages" in text and "docker-jitsi-meet" in text
    assert "--password-stdin" in text and "$LDAPCHECK_PASSWORD" in text and "hidden prompt" in text
    assert "$LDAPCHECK_BIND_PASSWORD" in text  # the service account's, beside the .env's LDAP_BINDPW


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("diagnose",), "no LDAP_URL"),
        (("diagnose", "--url", "http://x"), "must start with ldap:// or ldaps://"),
        (("count", "--url", "ldap://h:99999"), "port"),
        (("diagnose", "--url", "ldap://h", "--base", "example.org"), "not a valid DN"),
        (("diagnose", "--url", "ldap://h", "--ca-file", "/nonexistent/ca.pem"), "no such file"),
        (("diagnose", "--env-file", "/nonexistent/.env"), "no such file"),
        (("diagnose", "--url", "ldap://h", "--json", "--markdown"), "exclude each other"),
    ],
)
def test_configuration_errors_exit_2(args: tuple[str, ...], words: str, tmp_path: Path) -> None:
    proc = run(*args, cwd=tmp_path)  # a directory without .env
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert words in proc.stderr
    assert "Traceback" not in proc.stderr


def test_user_without_a_password_source_is_a_usage_error(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("LDAP_URL=ldap://127.0.0.1:1\nLDAP_BASE=dc=example,dc=org\n")
    proc = run("user", "alice", "--env-file", str(env))  # stdin is not a terminal: no prompt possible
    assert proc.returncode == 2
    assert "--password-stdin" in proc.stderr


def test_dot_env_in_the_working_directory_is_the_default(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LDAP_URL=ldap://127.0.0.1:1\nLDAP_BASE=dc=example,dc=org\n")
    proc = run("count", "--json", cwd=tmp_path)  # nothing listens on port 1: the TCP step fails
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["steps"][0]["detail"]["source"] == ".env"
    assert report["steps"][0]["detail"]["servers"] == ["ldap://127.0.0.1:1"]


def test_url_option_ignores_the_dot_env_in_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LDAP_URL=http://not-used\n")
    proc = run("count", "--url", "ldap://127.0.0.1:1", "--base", "dc=example,dc=org", "--json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["steps"][0]["detail"]["source"] == "options"


def test_jwt_token_comes_from_the_environment_never_argv_and_is_judged_without_a_container(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("ENABLE_AUTH=1\nAUTH_TYPE=jwt\nJWT_APP_ID=app\nJWT_APP_SECRET=s3cret-s3cret\n", encoding="utf-8")
    token = "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJhcHAifQ.c2lnbmF0dXJl"
    proc = run(
        "diagnose", "--env-file", str(env), "--no-container", "--token", "--json", env={"LDAPCHECK_TOKEN": token}
    )
    assert proc.returncode == 1, proc.stderr
    assert token not in proc.stdout and "s3cret-s3cret" not in proc.stdout
    steps = {s["id"]: s for s in json.loads(proc.stdout)["steps"]}
    assert steps["jwt.token"]["status"] == "fail" and steps["jwt.token"]["failure_id"].startswith("JWT-")
    assert "this host's clock" in steps["jwt.token"]["detail"]["clock"]
    assert "jwt.prosody_config" not in steps  # needs the container
    both = run("diagnose", "--env-file", str(env), "--token-stdin", "--password-stdin", "--user", "a")
    assert both.returncode == 2 and "cannot both read stdin" in both.stderr
