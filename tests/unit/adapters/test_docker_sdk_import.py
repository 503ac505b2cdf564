"""When the docker SDK is used (ssh://, TLS, LDAPCHECK_DOCKER_SDK=1: a local engine has the project's own client,
`adapters.engine`), it is imported without paramiko unless the engine is reached over ssh:// (bench/README.md:
~0.1 s of CPU in every diagnose), and the ssh:// adapter is still there when ssh:// comes later in the same
process."""

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


def _probe(docker_host: str, script: str = PROBE, *, sdk: bool = True) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "LDAPCHECK_DOCKER_SDK")}
    if sdk:
        env["LDAPCHECK_DOCKER_SDK"] = "1"
    proc = subprocess.run(
        [sys.executable, "-c", script, docker_host], capture_output=True, text=True, env=env, timeout=60, check=True
    )
    return proc.stdout.splitlines()


def test_paramiko_is_installed_here() -> None:
    """The dev extra installs the ssh extra: without paramiko the tests below would prove nothing."""
    assert importlib.util.find_spec("paramiko") is not None


def test_a_local_engine_imports_the_sdk_without_paramiko() -> None:
    assert _probe("unix:///var/run/docker.sock") == ["True False False", "True True"]


def test_an_ssh_engine_imports_it_with_paramiko() -> None:
    assert _probe("ssh://admin@127.0.0.1") == ["True True True", "True True"]


def test_a_local_engine_imports_no_sdk_at_all() -> None:
    """Without LDAPCHECK_DOCKER_SDK, a unix:// engine is spoken to by `adapters.engine`: nothing to load."""
    script = (
        "import sys; from ldapcheck.adapters import docker as a; "
        "a.load_sdk(sys.argv[1]); print('docker' in sys.modules)"
    )
    assert _probe("unix:///var/run/docker.sock", script, sdk=False) == ["False"]
