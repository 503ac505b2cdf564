"""Every exit code the README's "Exit codes" table documents is produced here by a real run, for each of the
situations its row names; the table and these cases are kept equal (a code added to one must be added to the other)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ldapcheck.cli import app as cli
from testing.fakeldap import BASE, fake_ldap

ROOT = Path(__file__).resolve().parents[3]
BOUND = 60


def documented_codes() -> set[int]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    return {int(code) for code in re.findall(r"^\| (\d+) \|", section, flags=re.MULTILINE)}


def env_for(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LDAPCHECK_", "DOCKER_"))}
    return {**env, "NO_COLOR": "1", **extra}


def ldapcheck(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> int:
    done = subprocess.run(
        [sys.executable, "-m", "ldapcheck", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=BOUND,
        env=env or env_for(),
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode


def lint_error(tmp_path: Path) -> int:
    env_file = tmp_path / ".env"
    env_file.write_text("ENABLE_AUTH=1\nAUTH_TYPE=ldap\nLDAP_URL=http://not-ldap.example\n")
    return ldapcheck("lint", "--env-file", str(env_file))


def failed_step(_tmp: Path) -> int:
    with fake_ldap("bind") as server:
        return ldapcheck("count", "--url", server.url, "--base", BASE, "--bind-dn", f"cn=svc,{BASE}", "--timeout", "1")


def bench_login_failed(_tmp: Path) -> int:
    # the anonymous lookup finds the user; every bind as the user then goes unanswered: timeouts, no success
    with fake_ldap("bind", entries=1) as server:
        args = ["bench", "logins", "--user", "alice", "--password-stdin", "--via", "ldap", "--url", server.url]
        return ldapcheck(*args, "--base", BASE, "--timeout", "0.2", "--duration", "0.5", "--json", stdin="pw\n")


def bad_option(_tmp: Path) -> int:
    return ldapcheck("count", "--url", "ldap://127.0.0.1:9", "--timeout", "inf")


def unreadable_env(tmp_path: Path) -> int:
    return ldapcheck("lint", "--env-file", str(tmp_path / "missing.env"))


def ambiguous_env(tmp_path: Path) -> int:
    env_file = tmp_path / ".env"
    env_file.write_text("LDAP_URL=ldap://a.example\nLDAP_BASE='unterminated\n")
    return ldapcheck("count", "--env-file", str(env_file))


def lab_without_engine(tmp_path: Path) -> int:
    env = env_for(DOCKER_HOST=f"unix://{tmp_path}/no-engine.sock", LDAPCHECK_LAB_DIR=str(tmp_path))
    return ldapcheck("lab", "status", env=env)


def internal_error(_tmp: Path) -> int:
    def crash(_argv: list[str]) -> Any:
        def run(**_kwargs: object) -> None:
            raise ValueError("a bug")

        return run

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli, "app_for", crash)
        mp.setattr(sys, "argv", ["ldapcheck", "count"])
        with pytest.raises(SystemExit) as exited:
            cli.main()
    return int(exited.value.code or 0)


def default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # as a terminal gives it, even under a background pytest


def signalled(signum: signal.Signals) -> Callable[[Path], int]:
    def run(_tmp: Path) -> int:
        with fake_ldap("bind") as server:
            args = ["diagnose", "--url", server.url, "--base", BASE, "--bind-dn", f"cn=svc,{BASE}", "--timeout", "20"]
            proc = subprocess.Popen(
                [sys.executable, "-m", "ldapcheck", *args, "--no-container"],
                preexec_fn=default_sigint,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env_for(LDAPCHECK_BIND_PASSWORD="not-a-real-password"),
            )
            assert server.reached.wait(BOUND), proc.kill()  # blocked on the bind it will never get an answer to
            proc.send_signal(signum)
            _out, err = proc.communicate(timeout=BOUND)
        assert "Traceback" not in err, err
        return proc.returncode

    return run


CASES: dict[int, list[Callable[[Path], int]]] = {
    0: [lambda _tmp: ldapcheck("explain", "RC-49")],
    1: [failed_step, lint_error, bench_login_failed],
    2: [bad_option, unreadable_env, ambiguous_env, lab_without_engine],
    3: [internal_error],
    130: [signalled(signal.SIGINT)],
    143: [signalled(signal.SIGTERM)],
}


def test_the_readme_table_and_these_cases_name_the_same_codes() -> None:
    assert documented_codes() == set(CASES)


@pytest.mark.parametrize(
    ("code", "case"),
    [(code, case) for code, cases in CASES.items() for case in cases],
    ids=[f"{code}-{getattr(case, '__name__', 'case')}" for code, cases in CASES.items() for case in cases],
)
def test_each_documented_exit_code_is_produced(code: int, case: Callable[[Path], int], tmp_path: Path) -> None:
    assert case(tmp_path) == code
