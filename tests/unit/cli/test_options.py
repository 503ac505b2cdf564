"""Options every command shares: a bounded --timeout, a login that is not empty (exit 2, a clear message)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer

from ldapcheck.cli.options import check_login, check_timeout


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 1e9, 0.0, -1.0, 0.09, 300.5])
def test_timeouts_outside_0_1_to_300_seconds_are_refused(value: float) -> None:
    with pytest.raises(typer.BadParameter, match=r"between 0\.1 and 300 seconds"):
        check_timeout(value)


@pytest.mark.parametrize("value", [0.1, 5.0, 300.0])
def test_timeouts_inside_the_range_pass(value: float) -> None:
    assert check_timeout(value) == value


@pytest.mark.parametrize("value", ["", " ", "\t"])
def test_an_empty_login_is_refused(value: str) -> None:
    with pytest.raises(typer.BadParameter, match="cannot be empty"):
        check_login(value)


@pytest.mark.parametrize(
    "args",
    [
        ["user", ""],
        ["testsasl", ""],
        ["diagnose", "--user", "", "--url", "ldap://127.0.0.1:1"],
        ["count", "--url", "ldap://127.0.0.1:1", "--timeout", "inf"],
        ["count", "--url", "ldap://127.0.0.1:1", "--timeout", "nan"],
        ["count", "--url", "ldap://127.0.0.1:1", "--timeout", "1e9"],
    ],
)
def test_the_cli_exits_2_without_a_traceback(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ldapcheck", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "cannot be empty" in done.stderr or "between 0.1 and 300 seconds" in done.stderr
