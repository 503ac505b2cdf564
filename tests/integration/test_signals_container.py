"""SIGINT and SIGTERM while ldapcheck works inside the real prosody container: exit 130/143, no traceback.

The container's LDAP_URL points at a fake directory that goes silent at the service bind, so the probe ldapcheck
runs in the container waits there; the signal is sent once that fake server has the bind request.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from testing.fakeldap import fake_ldap
from testing.info import LabInfo

pytestmark = pytest.mark.integration

BOUND = 60


def default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # not inherited as ignored from a background pytest


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_signal_while_the_container_probe_waits(
    lab: LabInfo, prosody_factory: Any, tmp_path: Path, signum: int, code: int
) -> None:
    with fake_ldap("bind", base=lab.suffix) as server:
        container, _info = prosody_factory({"LDAP_URL": server.url})
        cmd = [sys.executable, "-m", "ldapcheck", "diagnose", "--env-file", str(lab.env_file), "--user", "alice"]
        cmd += ["--password-stdin", "--container", container.name, "--timeout", "20"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("LDAPCHECK_")}
        password = tmp_path / "password"
        password.write_text(lab.users["alice"] + "\n")
        with password.open() as stdin:
            proc = subprocess.Popen(
                cmd,
                stdin=stdin,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
                preexec_fn=default_sigint,
            )
        if not server.reached.wait(BOUND):
            proc.kill()
            raise AssertionError(f"the container probe never reached the directory: {proc.communicate()}")
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=BOUND)
    assert proc.returncode == code, out + err
    assert "Traceback" not in out + err, err
