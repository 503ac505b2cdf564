"""`ldapcheck diagnose --user` with a printable-ASCII password binds with the wire client: no ldap3 import.

ldap3 prepares a simple bind's password with SASLprep and refuses what it prohibits (a finding, CL-SASLPREP), so it
stays for passwords SASLprep would change or refuse; on printable ASCII SASLprep changes nothing, and ldap3's import
was ~50 ms of CPU of a ~0.45 s diagnose (bench/README.md). The run happens in a fresh interpreter (`testing.fresh`)
against `testing.fakeldap` (a search finds one entry: the login).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ldapcheck.commands.diagnose import _saslprep_identity
from testing.fakeldap import FakeLdap
from testing.fakeldap import fake_ldap as serving
from testing.fresh import ldap_env_file, run_listing_imports

BASE = "dc=example,dc=org"


@pytest.fixture
def fake_ldap() -> Iterator[FakeLdap]:
    """A tiny directory that answers everything; a search finds one entry (the login, u0)."""
    with serving("never", base=BASE, entries=1) as server:
        yield server


def _diagnose(server: FakeLdap, tmp_path: Path, password: str) -> tuple[dict[str, object], set[str]]:
    env_file = ldap_env_file(tmp_path, server.url, BASE)
    argv = ["diagnose", "--env-file", str(env_file), "--no-container", "--user", "u0", "--password-stdin", "--json"]
    proc, imported = run_listing_imports(*argv, stdin=password + "\n")
    assert "ldapcheck.commands.diagnose" in imported, proc.stderr[-2000:]  # the listing is real
    return json.loads(proc.stdout), imported


def _bind(report: dict[str, object]) -> dict[str, object]:
    steps = report["steps"]
    assert isinstance(steps, list)
    return next(s for s in steps if s["id"] == "ldap.user_bind")


def test_ascii_password_binds_without_ldap3(fake_ldap: FakeLdap, tmp_path: Path) -> None:
    report, imported = _diagnose(fake_ldap, tmp_path, "correct horse battery staple!")
    assert _bind(report)["status"] == "pass"
    assert "ldap3" not in {m.split(".")[0] for m in imported}


def test_non_ascii_password_keeps_ldap3(fake_ldap: FakeLdap, tmp_path: Path) -> None:
    report, imported = _diagnose(fake_ldap, tmp_path, "pässwort")
    assert _bind(report)["status"] == "pass"
    assert "ldap3" in imported


@pytest.mark.parametrize(
    ("password", "identity"),
    [
        ("s3cret ~!", True),
        ("", True),
        ("pässwort", False),
        ("tab\there", False),
        ("del\x7f", False),
        ("\u00adx", False),
    ],
)
def test_saslprep_identity(password: str, identity: bool) -> None:
    assert _saslprep_identity(password) is identity
