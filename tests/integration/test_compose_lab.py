"""compose/lab.yml brings up the same lab as `ldapcheck lab up`, and ldapcheck diagnoses it like a real deployment.

docker-compose v1 (Debian's 1.29, installed by scripts/ensure-docker.sh) is what these machines have; the file
is written for v2 as well. The lab's files (seed, certificates, saslauthd.conf, .env) come from `lab up`, whose
SDK-started containers (web and jicofo too) are removed first, so compose starts the two services itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ldapcheck.jitsi.env.parse import read_env_file

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
LDAPCHECK = [sys.executable, "-m", "ldapcheck"]


def run(argv: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture
def compose_lab(tmp_path: Path) -> Iterator[tuple[str, Path, dict[str, str]]]:
    project = f"ldapcheck-compose-{os.getpid()}"
    env = {**os.environ, "LDAPCHECK_LAB_PROJECT": project, "LDAPCHECK_LAB_DIR": str(tmp_path / "state")}
    env_file = tmp_path / "lab.env"
    compose = ["docker-compose", "-p", project, "-f", str(ROOT / "compose" / "lab.yml"), "--env-file", str(env_file)]
    up = run([*LDAPCHECK, "lab", "up", "--users", "20", "--env-out", str(env_file)], env)
    assert up.returncode == 0, up.stderr
    try:
        values = read_env_file(str(env_file)).values()
        # web and jicofo go too: compose/lab.yml has no web service, and lab up's nginx would proxy /http-bind to a
        # BOSH listener compose's prosody does not open (diagnose would rightly name WEB-BOSH).
        lab_up = [f"{project}-{service}-1" for service in ("openldap", "prosody", "web", "jicofo")]
        subprocess.run(["docker", "rm", "-f", *lab_up], capture_output=True, check=True)
        started = run([*compose, "up", "-d"], env)
        assert started.returncode == 0, started.stderr
        yield project, env_file, values
    finally:
        run([*compose, "down", "--timeout", "2"], env)
        run([*LDAPCHECK, "lab", "down"], env)


def test_compose_file_is_valid_for_compose_v1(tmp_path: Path) -> None:
    assert shutil.which("docker-compose"), "scripts/ensure-docker.sh installs docker-compose"
    env = {
        **os.environ,
        "LAB_ADMIN_PASSWORD": "x",
        "LDAP_BINDPW": "y",
        "LAB_SEED_DIR": str(tmp_path),
        "LAB_CERTS_DIR": str(tmp_path),
        "LAB_SASLAUTHD_CONF": str(tmp_path / "c"),
    }
    proc = run(["docker-compose", "-f", str(ROOT / "compose" / "lab.yml"), "config", "--services"], env)
    assert proc.returncode == 0, proc.stderr
    assert sorted(proc.stdout.split()) == ["openldap", "prosody"]


def test_compose_lab_logs_alice_in_and_diagnose_finds_it_by_label(
    compose_lab: tuple[str, Path, dict[str, str]],
) -> None:
    project, env_file, values = compose_lab
    env = dict(os.environ)
    password = values["LAB_PASSWORD"] + "\n"
    deadline = time.monotonic() + 60
    while True:  # compose returns once the containers start; poll the real login until saslauthd answers
        login = run(
            [*LDAPCHECK, "testsasl", "alice", "--project", project, "--password-stdin", "--json"], env, password
        )
        if login.returncode == 0 or time.monotonic() > deadline:
            break
    assert login.returncode == 0, login.stdout + login.stderr

    names = subprocess.run(
        [
            "docker",
            "ps",
            "--filter",
            f"label=com.docker.compose.project={project}",
            "--filter",
            "label=com.docker.compose.service=prosody",
            "--format",
            "{{.Names}}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert names == [f"{project}_prosody_1"]  # compose v1 naming, found by the same label as upstream's

    report = run(
        [
            *LDAPCHECK,
            "diagnose",
            "--env-file",
            str(env_file),
            "--user",
            "alice",
            "--password-stdin",
            "--project",
            project,
            "--json",
        ],
        env,
        password,
    )
    assert report.returncode == 0, report.stdout
    assert '"container.saslauthd_protocol"' in report.stdout
    assert values["LAB_PASSWORD"] not in report.stdout + report.stderr
