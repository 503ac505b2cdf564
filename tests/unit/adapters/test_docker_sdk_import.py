"""The docker SDK is imported without paramiko unless the engine is reached over ssh:// (bench/README.md: ~0.1 s
of CPU in every diagnose), and the ssh:// adapter is still there when ssh:// comes later in the same process."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

PROBE = """
import sys
from ldapcheck.adapters import docker as adapter
adapter.load_sdk(sys.argv[1])
import docker.api.client
print("docker" in sys.modules, "paramiko" in sys.modules, hasattr(docker.api.client, "SSHHTTPAdapter"))
adapter._ssh_adapter()
print("paramiko" in sys.modules, hasattr(docker.api.client, "SSHHTTPAdapter"))
"""


def _probe(docker_host: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, docker_host], capture_output=True, text=True, env=env, timeout=60, check=True
    )
    return proc.stdout.splitlines()


def test_paramiko_is_installed_here() -> None:
    """The dev extra installs the ssh extra: without paramiko the tests below would prove nothing."""
    assert importlib.util.find_spec("paramiko") is not None


def test_a_local_engine_imports_the_sdk_without_paramiko() -> None:
    assert _probe("unix:///var/run/docker.sock") == ["True False False", "True True"]


def test_an_ssh_engine_imports_it_with_paramiko() -> None:
    assert _probe("ssh://admin@127.0.0.1") == ["True True True", "True True"]
