"""`ldapcheck env generate --auth jwt`: the block, a random secret that is written but never printed unasked."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from ldapcheck.auth.jwt.envgen import block_values, format_block, random_secret
from ldapcheck.jitsi.env.parse import read_env_file
from ldapcheck.jitsi.tpl import to_bool

BASE_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"}


def gen(*args: str, env: dict[str, str] | None = None, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ldapcheck", "env", "generate", "--auth", "jwt", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
        env={**BASE_ENV, **(env or {})},
        check=False,
    )


def test_random_secret_is_long_and_rendered() -> None:
    secrets = {random_secret().reveal() for _ in range(20)}
    assert len(secrets) == 20
    for s in secrets:
        assert len(s) >= 64 and to_bool(s) and not set(s) & set("\"'$# \\")


def test_block_hides_the_secret_unless_asked() -> None:
    values = block_values("myapp", random_secret())
    assert list(values) == ["ENABLE_AUTH", "AUTH_TYPE", "JWT_APP_ID", "JWT_APP_SECRET"]
    assert values["JWT_APP_SECRET"] not in format_block(values)
    assert f"JWT_APP_SECRET={values['JWT_APP_SECRET']}" in format_block(values, show_secret=True)


def test_write_merges_the_block_with_a_random_secret(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("PUBLIC_URL=https://meet.example.org\nAUTH_TYPE=internal\n", encoding="utf-8")
    done = gen("--app-id", "myapp", "--write", str(env))
    assert done.returncode == 0, done.stderr
    values = read_env_file(env, environ={}).values()
    secret = values["JWT_APP_SECRET"]
    assert (values["AUTH_TYPE"], values["ENABLE_AUTH"], values["JWT_APP_ID"]) == ("jwt", "1", "myapp")
    assert values["PUBLIC_URL"] == "https://meet.example.org" and len(secret) >= 64
    assert secret not in done.stdout + done.stderr
    assert "lint:" not in done.stderr  # the written file passes the JWT lint rules
    assert (tmp_path / ".env.bak").is_file()


def test_given_secret_from_stdin_and_show_secret(tmp_path: Path) -> None:
    env = tmp_path / "new.env"
    done = gen("--app-id", "myapp", "--app-secret-stdin", "--write", str(env), stdin="my-own-secret-value-123\n")
    assert done.returncode == 0, done.stderr
    assert read_env_file(env, environ={}).values()["JWT_APP_SECRET"] == "my-own-secret-value-123"
    assert "my-own-secret-value-123" not in done.stdout + done.stderr
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    shown = gen("--app-id", "myapp", "--show-secret", env={"LDAPCHECK_JWT_SECRET": "from-env-secret-456"})
    assert "JWT_APP_SECRET=from-env-secret-456" in shown.stdout


def test_stdout_only_says_the_random_secret_is_lost() -> None:
    done = gen("--app-id", "myapp")
    assert done.returncode == 0 and "JWT_APP_SECRET is not printed" in done.stdout
    assert "lost" in done.stderr
    assert gen("--app-id", "myapp", "--url", "ldap://x").returncode == 2
    assert gen().returncode == 2  # no app id and no terminal to ask on
