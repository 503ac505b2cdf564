"""`ldapcheck diagnose --docker-host ssh://root@127.0.0.1:PORT` against a real sshd in front of this engine.

The sshd container (compose/docker-ssh: openssh-server and the docker CLI) listens on a free 127.0.0.1 port with
host networking and has the engine's socket mounted. The test generates the client key pair and the host key, and
gives ldapcheck an ssh config (on PATH, an `ssh` that adds `-F`: ssh reads ~ from the password database, not $HOME)
with that key, a known_hosts naming that host key and StrictHostKeyChecking=yes.
ldapcheck's SDK client uses the system ssh client (`use_ssh_client`): it runs `ssh … docker system dial-stdio` and
so needs `ssh` here and the `docker` CLI there; the SDK still imports paramiko for ssh:// (the `ssh` extra).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonreport import step
from testcontainers.core.container import DockerContainer

from ldapcheck.lab.engine import docker_client
from ldapcheck.lab.images import _is_current, base_image, build_image, pinned
from ldapcheck.lab.spec import free_port
from testing.info import LabInfo

pytestmark = pytest.mark.integration

IMAGE = "ldapcheck/test-docker-ssh:latest"
ENGINE_SOCKET = "/var/run/docker.sock"
BOUND = 120


def ensure_image() -> str:
    client = docker_client()
    if not _is_current(client, IMAGE):
        build_image(client, IMAGE, base_image(client))
    return pinned(IMAGE)


def keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ldapcheck-test", "-f", str(path)], check=True)
    return path.with_suffix(".pub").read_text().strip()


def wait_for_sshd(container: Any) -> None:
    """Until sshd says it listens (its own log line, read as it is written; bounded by the container's end)."""
    for line in container.logs(stream=True, follow=True):
        if b"Server listening on 127.0.0.1" in line:
            return
    raise AssertionError(f"sshd exited before listening: {container.logs().decode()[-2000:]}")


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[tuple[int, Path, Any]]:
    """→ (port, a directory to put first on PATH (its `ssh` uses the test's keys and config), the container)."""
    keys = tmp_path / "hostkeys"
    keys.mkdir(mode=0o700)
    host_public = keygen(keys / "ssh_host_ed25519_key")
    client = tmp_path / "client"
    client.mkdir(mode=0o700)
    client_public = keygen(client / "id_ed25519")
    port = free_port()
    (client / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_public}\n")
    (client / "config").write_text(
        f"Host 127.0.0.1\n  IdentityFile {client}/id_ed25519\n  IdentitiesOnly yes\n  StrictHostKeyChecking yes\n"
        f"  UserKnownHostsFile {client}/known_hosts\n  GlobalKnownHostsFile /dev/null\n  BatchMode yes\n"
        "  ConnectTimeout 10\n"
    )
    # ssh takes ~ from the password database, not $HOME: an `ssh` first on PATH gives it this config instead.
    bindir = client / "bin"
    bindir.mkdir()
    wrapper = bindir / "ssh"
    wrapper.write_text(f'#!/bin/sh\nexec {shutil.which("ssh")} -F {client}/config "$@"\n')
    wrapper.chmod(0o755)
    container = DockerContainer(ensure_image()).with_name(f"ldapcheck-test-sshd-{secrets.token_hex(3)}")
    container.with_kwargs(network_mode="host")
    container.with_env("SSHD_PORT", str(port))
    container.with_env("AUTHORIZED_KEY", client_public)
    container.with_env("HOST_KEY", "/hostkeys/ssh_host_ed25519_key")
    container.with_volume_mapping(str(keys), "/hostkeys", "ro")
    container.with_volume_mapping(ENGINE_SOCKET, ENGINE_SOCKET, "rw")
    container.start()
    try:
        wrapped = container.get_wrapped_container()
        wait_for_sshd(wrapped)
        yield port, bindir, wrapped
    finally:
        container.stop()


def test_diagnose_over_ssh_finds_and_inspects_the_lab_prosody(lab: LabInfo, sshd: tuple[int, Path, Any]) -> None:
    port, bindir, server = sshd
    cmd = [sys.executable, "-m", "ldapcheck", "diagnose", "--env-file", str(lab.env_file), "--user", "alice"]
    cmd += ["--password-stdin", "--docker-host", f"ssh://root@127.0.0.1:{port}", "--container", lab.prosody.name]
    cmd += ["--json"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LDAPCHECK_", "DOCKER_", "SSH_"))}
    env["PATH"] = f"{bindir}:{env['PATH']}"
    done = subprocess.run(cmd, input=lab.users["alice"] + "\n", capture_output=True, text=True, env=env, timeout=BOUND)
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    report = json.loads(done.stdout)
    found = step(report, "container.find")
    assert found["status"] == "pass", (found, done.stderr)
    assert lab.prosody.name in found["summary"], found
    # inspected through the same connection: its environment, then a login through saslauthd in it
    assert step(report, "container.env_drift")["status"] == "pass", step(report, "container.env_drift")
    assert step(report, "container.saslauthd_protocol")["status"] == "pass", step(
        report, "container.saslauthd_protocol"
    )
    assert b"Accepted publickey for root" in server.logs(), "ldapcheck did not come through sshd"
    assert done.returncode == 0, json.dumps(report["verdict"]) + done.stderr
