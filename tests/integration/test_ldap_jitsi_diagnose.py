"""`ldapcheck diagnose` on an LDAP lab started as `ldapcheck lab up` starts it (openldap, prosody, web, jicofo): after
the container phase the LDAP path runs the shared Jitsi steps. The login through nginx over BOSH and WebSocket passes
(the transports read the mechanisms: saslauthd already tried the password over its socket), and BOSH broken at nginx
while saslauthd says OK is WEB-BOSH (broken as the internal-mode test breaks it: web's XMPP_BOSH_URL_BASE on a dead
port, which upstream's WebSocket location uses too)."""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from jsonreport import step

from ldapcheck.lab.containers import LabPaths, jicofo_plan, openldap_plan, prosody_plan, run_container, web_plan
from ldapcheck.lab.engine import docker_client
from ldapcheck.lab.envfile import write_env_file
from ldapcheck.lab.images import ensure_images
from ldapcheck.lab.manager import prepare_files, start_services
from ldapcheck.lab.ready import wait_for_bind, wait_for_port, wait_for_saslauthd
from ldapcheck.lab.spec import LAB_USER, LabSpec, free_port, new_spec

ROOT = Path(__file__).resolve().parents[2]


@dataclasses.dataclass
class Lab:
    spec: LabSpec
    containers: dict[str, Any]
    env_file: Path


def _write(spec: LabSpec, paths: LabPaths, tmp: Path, containers: dict[str, Any]) -> Lab:
    lab = Lab(spec, containers, tmp / "lab.env")
    write_env_file(lab.env_file, spec.lab_env(str(paths.ca_cert), paths.compose_values()))
    return lab


def diagnose(lab: Lab) -> dict[str, Any]:
    """`ldapcheck diagnose --json` as an admin runs it, alice's password on stdin."""
    done = subprocess.run(
        [
            *(sys.executable, "-m", "ldapcheck", "diagnose", "--env-file", str(lab.env_file), "--user", LAB_USER),
            *("--password-stdin", "--container", str(lab.containers["prosody"].name), "--json"),
        ],
        input=lab.spec.lab_password,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ},
    )
    assert done.returncode in (0, 1), done.stderr
    assert lab.spec.lab_password not in done.stdout
    return dict(json.loads(done.stdout))


@pytest.fixture(scope="module")
def ldap_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    client = docker_client()
    ensure_images(client)
    tmp = tmp_path_factory.mktemp("ldap-web")
    spec = new_spec(f"ldapcheck-ldapweb-{secrets.token_hex(3)}", 20, auth="ldap", web=True)
    paths = LabPaths(tmp)
    prepare_files(spec, paths)
    containers = start_services(client, spec, paths)  # ready when alice logs in through nginx over BOSH
    try:
        yield _write(spec, paths, tmp, containers)
    finally:
        for container in containers.values():
            container.remove(force=True)


@pytest.fixture
def broken_web_lab(tmp_path: Path) -> Iterator[Lab]:
    """The same lab with web's /http-bind proxied to a dead port (prosody, saslauthd and the directory work)."""
    client = docker_client()
    ensure_images(client)
    spec = new_spec(f"ldapcheck-ldapweb-{secrets.token_hex(3)}", 20, auth="ldap", web=True)
    paths = LabPaths(tmp_path)
    prepare_files(spec, paths)
    web_env: Mapping[str, str] = {"XMPP_BOSH_URL_BASE": f"http://127.0.0.1:{free_port()}"}
    started: dict[str, Any] = {}
    try:
        started["openldap"] = run_container(client, openldap_plan(spec, paths))
        started["prosody"] = run_container(client, prosody_plan(spec, paths))
        web = web_plan(spec)
        started["web"] = run_container(client, dataclasses.replace(web, environment={**web.environment, **web_env}))
        started["jicofo"] = run_container(client, jicofo_plan(spec))
        wait_for_bind(started["openldap"], spec.ldap_port, spec.bind_dn, spec.bind_password)
        wait_for_port(started["prosody"], spec.c2s_port, what="prosody")
        wait_for_port(started["prosody"], spec.http_port, what="prosody BOSH/WebSocket")
        wait_for_saslauthd(started["prosody"], LAB_USER, spec.lab_password, realm=spec.xmpp_domain)
        wait_for_port(started["web"], spec.web_port, what="nginx")
        yield _write(spec, paths, tmp_path, started)
    finally:
        for container in started.values():
            container.remove(force=True)


def test_an_ldap_login_through_nginx_over_bosh_and_websocket_passes(ldap_lab: Lab) -> None:
    report = diagnose(ldap_lab)
    assert report["verdict"]["failure_id"] is None, report["verdict"]
    assert step(report, "container.saslauthd_protocol")["status"] == "pass"
    for transport in ("xmpp.login.bosh", "xmpp.login.websocket"):
        found = step(report, transport)
        assert found["status"] == "pass", found
        assert "PLAIN" in found["detail"]["mechanisms"]
        assert found["facts"]["xmpp.attempt"] == "probe"  # saslauthd already tried the password: once per run
    for checked in ("web.config_js", "jicofo.auth", "jitsi.env_split", "xmpp.login.c2s"):
        assert step(report, checked)["status"] == "pass", checked
    assert "enable-auto-login = true" in step(report, "jicofo.auth")["summary"]
    assert step(report, "jitsi.experience")["failure_id"] == "GUEST-OFF-PROMPT"
    names = [s["id"] for s in report["steps"]]
    assert names.index("container.saslauthd_protocol") < names.index("web.config_js")


def test_bosh_broken_at_nginx_while_saslauthd_says_ok_is_web_bosh(broken_web_lab: Lab) -> None:
    report = diagnose(broken_web_lab)
    assert report["verdict"]["failure_id"] == "WEB-BOSH", report["verdict"]
    assert step(report, "container.saslauthd_protocol")["status"] == "pass"
    assert step(report, "xmpp.login.bosh")["failure_id"] == "WEB-BOSH"
    # Upstream's meet.conf proxies /xmpp-websocket to XMPP_BOSH_URL_BASE too; c2s straight to prosody still answers.
    assert step(report, "xmpp.login.websocket")["failure_id"] == "WEB-WS"
    c2s = step(report, "xmpp.login.c2s")
    assert c2s["status"] == "pass" and c2s["facts"]["xmpp.attempt"] == "probe", c2s
    assert "xmpp.login.c2s works" in report["verdict"]["cause"]
