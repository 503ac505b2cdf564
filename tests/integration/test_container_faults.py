"""The prosody container failing under a running `diagnose`, and web's BOSH endpoint hanging.

Stopped, paused or removed while ldapcheck works inside it: the container's LDAP_URL points at a fake directory that
goes silent at the service bind, so the probe ldapcheck runs in the container waits there; the container is stopped,
paused or removed once that fake server has the bind request (the probe is then surely running inside it). Each
ends in a failed step with a DOCKER-* id and exit 1, without a traceback, within a bound.

web hanging: an internal-auth prosody and a `.env` whose PUBLIC_URL is a server that accepts and never answers; the
browser's login over BOSH ends as failed or not checked within the timeout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonreport import env_file_with, step

from ldapcheck.auth.ldap.container.probe import SASL_REPLY_FACTOR
from testing.fakeldap import fake_ldap
from testing.info import LabInfo
from testing.servers import silent_server

pytestmark = pytest.mark.integration

BOUND = 60
TIMEOUT = 5


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("LDAPCHECK_")}


def _unpause_and_remove(container: Any) -> None:
    container.unpause()
    container.remove(force=True)


FAULTS: dict[str, Callable[[Any], None]] = {
    "stopped": lambda c: c.stop(timeout=1),
    "paused": lambda c: c.pause(),
    "removed": lambda c: c.remove(force=True),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_container_fault_while_the_probe_runs(lab: LabInfo, prosody_factory: Any, tmp_path: Path, fault: str) -> None:
    with fake_ldap("bind", base=lab.suffix) as server:
        container, _info = prosody_factory({"LDAP_URL": server.url})
        cmd = [sys.executable, "-m", "ldapcheck", "diagnose", "--env-file", str(lab.env_file), "--user", "alice"]
        cmd += ["--password-stdin", "--container", container.name, "--timeout", str(TIMEOUT), "--json"]
        password = tmp_path / "password"
        password.write_text(lab.users["alice"] + "\n")
        started = time.monotonic()
        with password.open() as stdin:
            proc = subprocess.Popen(
                cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env()
            )
        try:
            if not server.reached.wait(BOUND):
                proc.kill()
                raise AssertionError(f"the container probe never reached the directory: {proc.communicate()}")
            FAULTS[fault](container)
            out, err = proc.communicate(timeout=BOUND)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
            if fault == "paused":
                _unpause_and_remove(container)
    elapsed = time.monotonic() - started
    assert "Traceback" not in out + err, err
    assert proc.returncode == 1, out + err
    report = json.loads(out)
    failed = [s for s in report["steps"] if s["status"] == "fail"]
    docker_ids = [s["failure_id"] for s in failed if (s.get("failure_id") or "").startswith("DOCKER-")]
    assert docker_ids, json.dumps(report, indent=1)[:4000]
    assert not [s for s in failed if s.get("failure_id") == "LDAPCHECK-INTERNAL"], json.dumps(failed, indent=1)
    assert elapsed < BOUND


def test_web_bosh_hanging_ends_within_the_timeout(lab: LabInfo, prosody_factory: Any, tmp_path: Path) -> None:
    overrides: dict[str, str | None] = {"AUTH_TYPE": "internal"}
    container, _info = prosody_factory(overrides)
    overrides.update({key: None for key in lab.env if key.startswith("LDAP_")})  # the Jitsi chain, not LDAP's
    with silent_server() as port:
        env_file = env_file_with(
            lab.env, tmp_path / ".env", {**overrides, "PUBLIC_URL": f"http://127.0.0.1:{port}", "C2S_PORT": None}
        )
        cmd = [sys.executable, "-m", "ldapcheck", "diagnose", "--env-file", env_file, "--user", "alice"]
        cmd += ["--password-stdin", "--container", container.name, "--timeout", str(TIMEOUT), "--json"]
        started = time.monotonic()
        done = subprocess.run(
            cmd, input="not-the-password\n", capture_output=True, text=True, env=_env(), timeout=BOUND
        )
    elapsed = time.monotonic() - started
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(done.stdout)
    bosh = step(report, "xmpp.login.bosh")
    assert bosh["status"] in ("fail", "skip"), bosh
    assert bosh["duration_ms"] < 3 * TIMEOUT * 1000, bosh  # its own bound, not the whole run's
    assert elapsed < BOUND


# Time to give up inside the container follows --timeout: the probe's libldap waits --timeout for the silent service
# bind, and saslauthd (stuck on the same silent server for its own ldap_timeout x 2) is given SASL_REPLY_FACTOR
# --timeouts to answer. Without a login, saslauthd is not asked.
GIVE_UP_TIMEOUT = 1
START = 3.0  # the interpreter, the container's execs and the report on a busy 2-core machine


@pytest.mark.parametrize("login", [True, False], ids=["with-login", "no-login"])
def test_probe_gives_up_on_a_silent_directory_within_the_timeout(
    lab: LabInfo, prosody_factory: Any, tmp_path: Path, login: bool
) -> None:
    with fake_ldap("bind", base=lab.suffix) as server:
        container, _info = prosody_factory({"LDAP_URL": server.url})
        cmd = [sys.executable, "-m", "ldapcheck", "diagnose", "--env-file", str(lab.env_file)]
        cmd += ["--container", container.name, "--timeout", str(GIVE_UP_TIMEOUT), "--json"]
        if login:
            cmd += ["--user", "alice", "--password-stdin"]
        started = time.monotonic()
        done = subprocess.run(
            cmd, input=lab.users["alice"] + "\n", capture_output=True, text=True, env=_env(), timeout=BOUND
        )
        elapsed = time.monotonic() - started
        assert server.reached.is_set(), done.stdout + done.stderr  # the probe inside did wait on the silent bind
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(done.stdout)
    chain = step(report, "container.ldap_chain")
    assert (chain["status"], chain["failure_id"]) == ("fail", "NET-TIMEOUT"), chain
    protocol = step(report, "container.saslauthd_protocol")
    if login:  # saslauthd still waits on the silent server: a timeout, not a broken socket
        assert (protocol["status"], protocol["failure_id"]) == ("fail", "NET-TIMEOUT"), protocol
        assert protocol["facts"]["net"] == "timeout", protocol
    else:
        assert protocol["status"] == "skip", protocol
    waits = 1 + (SASL_REPLY_FACTOR if login else 0)
    assert elapsed < waits * GIVE_UP_TIMEOUT + START, f"gave up after {elapsed:.2f} s"
