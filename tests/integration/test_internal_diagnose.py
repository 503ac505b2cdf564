"""`ldapcheck diagnose` on internal-auth labs: the verdict id for a healthy login and for each broken link.

Two module labs (internal without and with guests, started as `ldapcheck lab up` starts them) serve the cases that
only change the `.env` given or add an account; the cases that need a differently configured container (jicofo's
auth off, its login-url on another domain, web with guests that prosody lacks, BOSH broken at nginx, the main host
still on token) start their own small lab with that one container changed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from jsonreport import step

from ldapcheck.lab.accounts import register
from ldapcheck.lab.containers import LabPaths, jicofo_plan, prosody_plan, run_container, web_plan
from ldapcheck.lab.engine import docker_client
from ldapcheck.lab.envfile import write_env_file
from ldapcheck.lab.images import ensure_images
from ldapcheck.lab.manager import prepare_files, start_services
from ldapcheck.lab.ready import wait_for_port
from ldapcheck.lab.spec import LAB_USER, LabSpec, free_port, new_spec

ROOT = Path(__file__).resolve().parents[2]
# Patches the lab entrypoint so the rendered main host says `token` before prosody starts (a switch from JWT whose
# container kept the old config): prosody then has no working auth provider for it.
TOKEN_PATCH = (
    "sed 's|^exec prosody|sed -i \"0,/internal_hashed/s//token/\" /run/prosody/config/prosody.cfg.lua\\nexec prosody|' "
    "/usr/local/bin/ldapcheck-prosody > /tmp/entrypoint && exec bash /tmp/entrypoint"
)


@dataclasses.dataclass
class Lab:
    spec: LabSpec
    containers: dict[str, Any]
    env_file: Path

    @property
    def prosody(self) -> str:
        return str(self.containers["prosody"].name)

    def env(self) -> dict[str, str]:
        return {**self.spec.jitsi_env(), "PUBLIC_URL": self.spec.public_url}


def diagnose(lab: Lab, user: str, password: str, *, env_file: Path | None = None) -> dict[str, Any]:
    """`ldapcheck diagnose --json` as an admin runs it, the password on stdin."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ldapcheck",
            "diagnose",
            "--env-file",
            str(env_file or lab.env_file),
            "--user",
            user,
            "--password-stdin",
            "--container",
            lab.prosody,
            "--json",
        ],
        input=password,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ},
    )
    assert done.returncode in (0, 1), done.stderr
    assert password not in done.stdout
    return dict(json.loads(done.stdout))


def _write_env(lab_env: Mapping[str, str], path: Path) -> Path:
    write_env_file(path, dict(lab_env))
    return path


def _start(
    tmp: Path,
    *,
    guests: bool = False,
    prosody_env: Mapping[str, str] | None = None,
    web_env: Mapping[str, str] | None = None,
    jicofo_env: Mapping[str, str] | None = None,
    token_main_host: bool = False,
) -> Lab:
    """A lab as `start_services` starts it, with one container's environment (or entrypoint) changed."""
    client = docker_client()
    ensure_images(client)
    spec = new_spec(f"ldapcheck-int-{secrets.token_hex(3)}", 20, auth="internal", guests=guests, web=True)
    paths = LabPaths(tmp)
    prepare_files(spec, paths)
    started: dict[str, Any] = {}
    try:
        plan = prosody_plan(spec, paths)
        plan = dataclasses.replace(plan, environment={**plan.environment, **(prosody_env or {})})
        if token_main_host:
            started["prosody"] = client.containers.run(
                plan.image,
                name=plan.name,
                detach=True,
                network_mode="host",
                environment=plan.environment,
                volumes=plan.volumes(),
                labels=plan.labels,
                entrypoint=["/usr/bin/tini", "--", "bash", "-c", TOKEN_PATCH],
                **plan.runtime(),
            )
        else:
            started["prosody"] = run_container(client, plan)
        web = web_plan(spec)
        started["web"] = run_container(
            client, dataclasses.replace(web, environment={**web.environment, **(web_env or {})})
        )
        jicofo = jicofo_plan(spec)
        started["jicofo"] = run_container(
            client, dataclasses.replace(jicofo, environment={**jicofo.environment, **(jicofo_env or {})})
        )
        wait_for_port(started["prosody"], spec.c2s_port, what="prosody")
        wait_for_port(started["prosody"], spec.http_port, what="prosody BOSH/WebSocket")
        if not token_main_host:
            register(started["prosody"], LAB_USER, spec.xmpp_domain, spec.lab_password)
        wait_for_port(started["web"], spec.web_port, what="nginx")
        lab = Lab(spec, started, tmp / "lab.env")
        _write_env(lab.env(), lab.env_file)
        return lab
    except BaseException:
        for container in started.values():
            container.remove(force=True)
        raise


def _module_lab(tmp: Path, guests: bool) -> Iterator[Lab]:
    client = docker_client()
    ensure_images(client)
    spec = new_spec(f"ldapcheck-int-{secrets.token_hex(3)}", 20, auth="internal", guests=guests, web=True)
    paths = LabPaths(tmp)
    prepare_files(spec, paths)
    containers = start_services(client, spec, paths)
    try:
        lab = Lab(spec, containers, tmp / "lab.env")
        _write_env(lab.env(), lab.env_file)
        yield lab
    finally:
        for container in containers.values():
            container.remove(force=True)


@pytest.fixture(scope="module")
def internal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    yield from _module_lab(tmp_path_factory.mktemp("internal"), guests=False)


@pytest.fixture(scope="module")
def internal_guests(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    yield from _module_lab(tmp_path_factory.mktemp("internal-guests"), guests=True)


@pytest.fixture
def lab_factory(tmp_path: Path) -> Iterator[Callable[..., Lab]]:
    """`lab_factory(**changes)` → a fresh lab with one container changed; removed after the test."""
    labs: list[Lab] = []

    def factory(**changes: Any) -> Lab:
        lab = _start(tmp_path / f"lab{len(labs)}", **changes)
        labs.append(lab)
        return lab

    try:
        yield factory
    finally:
        for lab in labs:
            for container in lab.containers.values():
                container.remove(force=True)


def test_a_healthy_internal_login_without_guests(internal: Lab) -> None:
    report = diagnose(internal, LAB_USER, internal.spec.lab_password)
    assert report["verdict"]["failure_id"] is None, report["verdict"]
    assert "No restart is needed" in report["verdict"]["cause"]
    assert step(report, "xmpp.login.bosh")["facts"]["xmpp.success"] is True
    assert step(report, "internal.account")["status"] == "pass"
    assert step(report, "jitsi.experience")["failure_id"] == "GUEST-OFF-PROMPT"
    assert step(report, "xmpp.login.guest")["status"] == "skip"
    for checked in ("jicofo.auth", "jitsi.env_split", "web.config_js", "container.env_drift"):
        assert step(report, checked)["status"] == "pass", checked


def test_a_healthy_internal_login_with_guests(internal_guests: Lab) -> None:
    report = diagnose(internal_guests, LAB_USER, internal_guests.spec.lab_password)
    assert report["verdict"]["failure_id"] is None, report["verdict"]
    assert step(report, "jitsi.experience")["failure_id"] == "GUEST-WAITING"
    assert step(report, "xmpp.login.guest")["status"] == "pass"
    assert step(report, "jitsi.guest_host")["status"] == "pass"


def test_a_wrong_password_is_int_badpass_and_tried_once(internal: Lab) -> None:
    report = diagnose(internal, LAB_USER, "not-the-password")
    assert report["verdict"]["failure_id"] == "INT-BADPASS", report["verdict"]
    attempts = [s for s in report["steps"] if s.get("facts", {}).get("xmpp.attempt") == "password"]
    assert len(attempts) == 1
    assert attempts[0]["facts"]["xmpp.condition"] == "not-authorized"
    assert "No restart is needed" in report["verdict"]["hint"]


def test_a_user_registered_on_the_auth_domain_is_int_domain(internal: Lab) -> None:
    register(internal.containers["prosody"], "bob", f"auth.{internal.spec.xmpp_domain}", "bob-password-1")
    report = diagnose(internal, "bob", "bob-password-1")
    assert report["verdict"]["failure_id"] == "INT-DOMAIN", report["verdict"]
    assert f"auth.{internal.spec.xmpp_domain}" in step(report, "internal.account")["summary"]


def test_an_unknown_user_is_int_nouser(internal: Lab) -> None:
    report = diagnose(internal, "nobody", "whatever-1")
    assert report["verdict"]["failure_id"] == "INT-NOUSER", report["verdict"]


def test_an_env_changed_without_recreating_prosody_is_jm_recreate(internal: Lab, tmp_path: Path) -> None:
    changed = _write_env(
        {**internal.env(), "ENABLE_GUESTS": "1", "XMPP_GUEST_DOMAIN": internal.spec.guest_domain}, tmp_path / ".env"
    )
    report = diagnose(internal, LAB_USER, internal.spec.lab_password, env_file=changed)
    verdict = report["verdict"]
    assert verdict["failure_id"] == "JM-RECREATE", verdict
    assert verdict["recreate"] is True
    assert "not restart" in verdict["hint"]


def test_the_main_host_still_on_token_is_int_mode_still_token(lab_factory: Callable[..., Lab]) -> None:
    lab = lab_factory(token_main_host=True)
    report = diagnose(lab, LAB_USER, lab.spec.lab_password)
    assert report["verdict"]["failure_id"] == "INT-MODE-STILL-TOKEN", report["verdict"]


def test_guests_on_in_web_but_not_in_prosody_is_env_split(lab_factory: Callable[..., Lab]) -> None:
    lab = lab_factory(web_env={"ENABLE_GUESTS": "1", "XMPP_GUEST_DOMAIN": "guest.meet.jitsi"})
    report = diagnose(lab, LAB_USER, lab.spec.lab_password)
    assert report["verdict"]["failure_id"] == "ENV-SPLIT", report["verdict"]
    assert step(report, "jitsi.guest_host")["failure_id"] == "GUEST-NOHOST"


def test_jicofo_auth_off_is_jicofo_auth_off(lab_factory: Callable[..., Lab]) -> None:
    lab = lab_factory(jicofo_env={"JICOFO_ENABLE_AUTH": "0"})
    report = diagnose(lab, LAB_USER, lab.spec.lab_password)
    assert report["verdict"]["failure_id"] == "JICOFO-AUTH-OFF", report["verdict"]


def test_a_login_url_on_another_domain_is_jicofo_loginurl(lab_factory: Callable[..., Lab]) -> None:
    lab = lab_factory(jicofo_env={"XMPP_DOMAIN": "meet.example.org"})
    report = diagnose(lab, LAB_USER, lab.spec.lab_password)
    assert report["verdict"]["failure_id"] == "JICOFO-LOGINURL", report["verdict"]


def test_bosh_broken_at_nginx_while_c2s_works_is_web_bosh(lab_factory: Callable[..., Lab]) -> None:
    dead = free_port()
    lab = lab_factory(web_env={"XMPP_BOSH_URL_BASE": f"http://127.0.0.1:{dead}"})
    report = diagnose(lab, LAB_USER, lab.spec.lab_password)
    assert report["verdict"]["failure_id"] == "WEB-BOSH", report["verdict"]
    c2s = step(report, "xmpp.login.c2s")
    assert c2s["status"] == "pass" and c2s["facts"]["xmpp.success"] is True  # the one password attempt moved here


def test_an_account_made_with_a_stale_config_is_int_cfgpath(internal: Lab) -> None:
    """The handbook's `prosodyctl --config /config/prosody.cfg.lua` on an upgraded install: data_path /config/data."""
    prosody = internal.containers["prosody"]
    stale = (
        "mkdir -p /config/data && chown s6:s6 /config/data && "
        "sed 's|^data_path = .*|data_path = \"/config/data\"|' /run/prosody/config/prosody.cfg.lua "
        "> /config/prosody.cfg.lua"
    )
    assert prosody.exec_run(["bash", "-c", stale], user="0").exit_code == 0
    try:
        accounts_cmd = ["prosodyctl", "--config", "/config/prosody.cfg.lua", "register", "carol", "meet.jitsi"]
        done = prosody.exec_run(["bash", "-c", 'printf "%s\\n%s\\n" carol-pw-1 carol-pw-1 | "$@"', "sh", *accounts_cmd])
        assert done.exit_code == 0, done.output
        report = diagnose(internal, "carol", "carol-pw-1")
        assert report["verdict"]["failure_id"] == "INT-CFGPATH", report["verdict"]
        assert "/config/data" in step(report, "internal.account")["summary"]
    finally:
        prosody.exec_run(["rm", "-rf", "/config/prosody.cfg.lua", "/config/data"], user="0")
