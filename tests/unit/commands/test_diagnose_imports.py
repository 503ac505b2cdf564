"""`ldapcheck diagnose --user` with a printable-ASCII password binds with the wire client: no ldap3 import.

ldap3 prepares a simple bind's password with SASLprep and refuses what it prohibits (a finding, CL-SASLPREP), so it
stays for passwords SASLprep would change or refuse; on printable ASCII SASLprep changes nothing, and ldap3's import
was ~50 ms of CPU of a ~0.45 s diagnose (bench/README.md). The run happens in a fresh interpreter against the fake
LDAP server of test_count_imports (a bounded search finds one entry: the login).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_count_imports import fake_ldap  # noqa: F401  # the fixture

from ldapcheck.commands.diagnose import _saslprep_identity


def _diagnose(port: int, tmp_path: Path, password: str) -> tuple[dict[str, object], set[str]]:
    env_file = tmp_path / "jitsi.env"
    env_file.write_text(
        f"LDAP_URL=ldap://127.0.0.1:{port}\nLDAP_BASE=dc=example,dc=org\n"
        "LDAP_BINDDN=cn=admin,dc=example,dc=org\nLDAP_BINDPW=secret\nLDAP_FILTER=(uid=%u)\n"
    )
    env_file.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LDAPCHECK_")}
    argv = ["diagnose", "--env-file", str(env_file), "--no-container", "--user", "u0", "--password-stdin", "--json"]
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "ldapcheck", *argv],
        input=password + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "ldapcheck.commands.diagnose" in imported, proc.stderr[-2000:]  # the listing is real
    return json.loads(proc.stdout), imported


def _bind(report: dict[str, object]) -> dict[str, object]:
    steps = report["steps"]
    assert isinstance(steps, list)
    return next(s for s in steps if s["id"] == "ldap.user_bind")


def test_ascii_password_binds_without_ldap3(fake_ldap: int, tmp_path: Path) -> None:  # noqa: F811
    report, imported = _diagnose(fake_ldap, tmp_path, "correct horse battery staple!")
    assert _bind(report)["status"] == "pass"
    assert "ldap3" not in {m.split(".")[0] for m in imported}


def test_non_ascii_password_keeps_ldap3(fake_ldap: int, tmp_path: Path) -> None:  # noqa: F811
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
