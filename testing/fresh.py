"""ldapcheck run in a fresh interpreter that lists every module it imported (`-X importtime`): the start-up tests
(`count` and `diagnose` must not import what they do not need) run it against `testing.fakeldap`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def ldap_env_file(tmp_path: Path, url: str, base: str) -> Path:
    """A docker-jitsi-meet .env (mode 0600) pointing saslauthd's settings at `url`."""
    env_file = tmp_path / "jitsi.env"
    env_file.write_text(
        f"LDAP_URL={url}\nLDAP_BASE={base}\nLDAP_BINDDN=cn=admin,{base}\nLDAP_BINDPW=secret\nLDAP_FILTER=(uid=%u)\n"
    )
    env_file.chmod(0o600)
    return env_file


def run_listing_imports(*argv: str, stdin: str | None = None) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """`python -X importtime -m ldapcheck ARGV` (no LDAPCHECK_* variables): the process and the modules imported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LDAPCHECK_")}
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "ldapcheck", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    return proc, imported
