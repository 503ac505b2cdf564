"""`ldapcheck lab up --auth jwt` for real, and `diagnose` / `token check` / `token mint` against it.

The lab renders the JWT configuration for prosody (main host `authentication = "token"`, app_id, app_secret), jicofo
(`type = JWT`) and web (`config.tokenAuthUrl`) as upstream does, with a generated secret. Debian ships no
mod_auth_token, so prosody logs that it cannot load it: diagnose must name JWT-MODULE and report the live token
login as not checked, never as passed. One lab for the module (started by `start_services`, as `lab up` does); one
extra prosody with JWT_APP_SECRET=false for JWT-SECRET-TOBOOL.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonreport import step

from ldapcheck.adapters.docker import exec_in
from ldapcheck.lab.containers import LabPaths, prosody_plan, run_container
from ldapcheck.lab.engine import docker_client
from ldapcheck.lab.envfile import write_env_file
from ldapcheck.lab.images import ensure_images
from ldapcheck.lab.manager import prepare_files, start_services
from ldapcheck.lab.ready import wait_for_port
from ldapcheck.lab.spec import JWT_APP_ID, LabSpec, free_port, new_spec

ROOT = Path(__file__).resolve().parents[2]


@dataclasses.dataclass
class JwtLab:
    spec: LabSpec
    containers: dict[str, Any]
    env_file: Path
    paths: LabPaths

    @property
    def prosody(self) -> str:
        return str(self.containers["prosody"].name)


def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ldapcheck", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "LDAPCHECK_TOKEN"},
    )


@pytest.fixture(scope="module")
def jwt_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JwtLab]:
    tmp = tmp_path_factory.mktemp("jwt")
    client = docker_client()
    ensure_images(client)
    spec = new_spec(f"ldapcheck-int-{secrets.token_hex(3)}", 20, auth="jwt", web=True)
    paths = LabPaths(tmp)
    prepare_files(spec, paths)
    containers = start_services(client, spec, paths)
    try:
        env_file = tmp / "lab.env"
        write_env_file(env_file, spec.lab_env(""))
        env_file.chmod(0o600)
        yield JwtLab(spec, containers, env_file, paths)
    finally:
        for container in containers.values():
            container.remove(force=True)


def diagnose(
    lab: JwtLab, *extra: str, container: str | None = None, env_file: Path | None = None, stdin: str = ""
) -> dict[str, Any]:
    done = cli(
        "diagnose",
        "--env-file",
        str(env_file or lab.env_file),
        "--container",
        container or lab.prosody,
        "--json",
        *extra,
        stdin=stdin,
    )
    assert done.returncode in (0, 1), done.stderr
    assert lab.spec.jwt_secret not in done.stdout
    return dict(json.loads(done.stdout))


def mint(lab: JwtLab, room: str = "myroom") -> str:
    done = cli("token", "mint", "--env-file", str(lab.env_file), "--user", "alice", "--room", room, "--ttl", "10m")
    assert done.returncode == 0, done.stderr
    token, url = done.stdout.splitlines()
    assert url.startswith(lab.spec.public_url) and url.endswith(f"?jwt={token}")
    return token


def test_the_lab_renders_the_token_config_for_prosody_jicofo_and_web(jwt_lab: JwtLab) -> None:
    prosody = exec_in(jwt_lab.containers["prosody"], ["cat", "/run/prosody/config/prosody.cfg.lua"])
    assert 'authentication = "token"' in prosody.stdout
    assert f'app_id = "{JWT_APP_ID}"' in prosody.stdout
    assert f'app_secret = "{jwt_lab.spec.jwt_secret}"' in prosody.stdout
    jicofo = exec_in(jwt_lab.containers["jicofo"], ["cat", "/run/jicofo/jicofo.conf"])
    assert "type = JWT" in jicofo.stdout
    web = exec_in(jwt_lab.containers["web"], ["cat", "/run/web/config/config.js"])
    assert "config.tokenAuthUrl = " in web.stdout
    assert (jwt_lab.env_file.stat().st_mode & 0o777) == 0o600
    assert len(jwt_lab.spec.jwt_secret) == 64


def test_diagnose_names_the_missing_module_and_checks_the_rest(jwt_lab: JwtLab) -> None:
    report = diagnose(jwt_lab)
    assert report["verdict"]["failure_id"] == "JWT-MODULE", report["verdict"]
    assert "auth_token" in step(report, "jwt.module")["summary"]
    assert step(report, "jwt.prosody_config")["status"] == "pass"
    assert step(report, "jwt.clock")["status"] == "pass"
    assert step(report, "jwt.moderators")["failure_id"] == "JWT-ALL-MODERATOR"
    assert "tokenAuthUrl" in step(report, "jwt.rooms")["summary"]
    for checked in ("container.env_drift", "jicofo.auth", "jitsi.env_split", "web.config_js"):
        assert step(report, checked)["status"] == "pass", checked
    assert step(report, "jwt.login.bosh")["status"] == "skip"


def test_with_a_token_the_live_login_is_not_checked_never_passed(jwt_lab: JwtLab) -> None:
    token = mint(jwt_lab)
    report = diagnose(jwt_lab, "--token-stdin", "--room", "MyRoom", stdin=token + "\n")
    assert token not in json.dumps(report)
    assert step(report, "jwt.token")["status"] == "pass", step(report, "jwt.token")
    assert "the prosody container's clock" in step(report, "jwt.token")["summary"]
    for login in ("jwt.login.bosh", "jwt.login.websocket"):
        r = step(report, login)
        assert r["status"] == "skip" and r["summary"].startswith("not checked"), r
    assert report["verdict"]["failure_id"] == "JWT-MODULE"


def test_a_token_for_another_secret_is_refused_before_any_login(jwt_lab: JwtLab, tmp_path: Path) -> None:
    other = tmp_path / "other.env"
    write_env_file(other, {**jwt_lab.spec.lab_env(""), "JWT_APP_SECRET": "x" * 32})
    done = cli("token", "mint", "--env-file", str(other), "--user", "alice", "--ttl", "5m")
    token = done.stdout.splitlines()[0]
    report = diagnose(jwt_lab, "--token-stdin", stdin=token)
    assert step(report, "jwt.token")["failure_id"] == "JWT-SIG"


def test_token_check_and_mint_against_the_lab_env(jwt_lab: JwtLab) -> None:
    token = mint(jwt_lab)
    started = time.perf_counter()
    done = cli("token", "check", "--env-file", str(jwt_lab.env_file), "--room", "myroom", "--token-stdin", stdin=token)
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stdout + done.stderr
    assert "prosody would accept this token" in done.stdout
    assert token not in done.stdout and jwt_lab.spec.jwt_secret not in done.stdout
    wrong = cli("token", "check", "--env-file", str(jwt_lab.env_file), "--room", "other", "--token-stdin", stdin=token)
    assert wrong.returncode == 1 and "JWT-ROOM" in wrong.stdout
    assert seconds < 5, f"token check took {seconds:.2f} s"


def test_a_secret_tobool_reads_as_false_is_named(jwt_lab: JwtLab, tmp_path: Path) -> None:
    client = docker_client()
    spec = dataclasses.replace(
        jwt_lab.spec, c2s_port=free_port(), http_port=free_port(), project=f"{jwt_lab.spec.project}-b"
    )
    plan = prosody_plan(spec, jwt_lab.paths, env_overrides={"JWT_APP_SECRET": "false"}, number=2)
    container = run_container(client, plan)
    try:
        wait_for_port(container, spec.c2s_port, what="prosody")
        env_file = tmp_path / "false.env"
        write_env_file(env_file, {**spec.lab_env(""), "JWT_APP_SECRET": "false"})
        report = diagnose(jwt_lab, container=container.name, env_file=env_file)
        assert step(report, "jwt.prosody_config")["failure_id"] == "JWT-SECRET-TOBOOL"
        assert report["verdict"]["failure_id"] == "JWT-SECRET-TOBOOL"
    finally:
        container.remove(force=True)
