"""The lab's auth modes for real: alice logs in through nginx over BOSH and WebSocket, and over c2s directly.

One lab per mode (module scope): internal accounts without and with guests, and LDAP (its own small directory).
Each is started by `ldapcheck.lab.manager.start_services`, the code `ldapcheck lab up` runs.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ldapcheck.adapters.docker import exec_in
from ldapcheck.adapters.xmpp import XmppError, XmppErrorKind, login_bosh, login_c2s, login_websocket
from ldapcheck.lab.containers import LabPaths
from ldapcheck.lab.engine import docker_client
from ldapcheck.lab.images import ensure_images
from ldapcheck.lab.manager import prepare_files, start_services
from ldapcheck.lab.spec import LAB_USER, LabSpec, new_spec

MODES = {"internal": ("internal", False), "internal+guests": ("internal", True), "ldap": ("ldap", False)}


@dataclass(frozen=True)
class ModeLab:
    spec: LabSpec
    containers: dict[str, Any]

    @property
    def bosh(self) -> str:
        return f"{self.spec.public_url}/http-bind"

    @property
    def websocket(self) -> str:
        return f"ws://127.0.0.1:{self.spec.web_port}/xmpp-websocket"

    @property
    def password(self) -> str:
        return self.spec.lab_password


@pytest.fixture(scope="module", params=list(MODES))
def mode_lab(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModeLab]:
    auth, guests = MODES[request.param]
    client = docker_client()
    ensure_images(client)
    spec = new_spec(f"ldapcheck-modes-{secrets.token_hex(3)}", 20, auth=auth, guests=guests, web=True)
    paths = LabPaths(tmp_path_factory.mktemp(f"lab-{auth}"))
    prepare_files(spec, paths)
    containers = start_services(client, spec, paths)
    try:
        yield ModeLab(spec, containers)
    finally:
        for container in containers.values():
            container.remove(force=True)


@pytest.mark.parametrize("transport", ["bosh", "websocket"])
def test_alice_logs_in_through_nginx(mode_lab: ModeLab, transport: str) -> None:
    login = login_bosh if transport == "bosh" else login_websocket
    result = login(getattr(mode_lab, transport), mode_lab.spec.xmpp_domain, LAB_USER, mode_lab.password)
    assert result.success, result.raw_reply
    assert result.jid is not None and result.jid.startswith(f"{LAB_USER}@{mode_lab.spec.xmpp_domain}/")
    assert "PLAIN" in result.mechanisms
    assert mode_lab.password not in repr(result)


@pytest.mark.parametrize("transport", ["bosh", "websocket"])
def test_a_wrong_password_is_not_authorized(mode_lab: ModeLab, transport: str) -> None:
    login = login_bosh if transport == "bosh" else login_websocket
    result = login(getattr(mode_lab, transport), mode_lab.spec.xmpp_domain, LAB_USER, "wrong-password")
    assert not result.success
    assert result.condition == "not-authorized"
    assert result.jid is None


def test_c2s_works_directly(mode_lab: ModeLab) -> None:
    spec = mode_lab.spec
    good = login_c2s("127.0.0.1", spec.c2s_port, spec.xmpp_domain, LAB_USER, mode_lab.password, bind=True)
    assert good.success and good.jid is not None
    bad = login_c2s("127.0.0.1", spec.c2s_port, spec.xmpp_domain, LAB_USER, "wrong-password")
    assert (bad.success, bad.condition) == (False, "not-authorized")


def test_the_main_host_offers_the_mode_s_mechanisms(mode_lab: ModeLab) -> None:
    result = login_bosh(mode_lab.bosh, mode_lab.spec.xmpp_domain, LAB_USER, mode_lab.password)
    if mode_lab.spec.auth == "internal":
        assert set(result.mechanisms) == {"PLAIN", "SCRAM-SHA-1"}  # DIGEST-MD5 disabled as upstream does
    else:
        assert result.mechanisms == ("PLAIN",)  # /etc/sasl/xmpp.conf mech_list: PLAIN
    assert "ANONYMOUS" not in result.mechanisms


@pytest.mark.parametrize("transport", ["bosh", "websocket"])
def test_the_guest_host_offers_anonymous_only_with_guests(mode_lab: ModeLab, transport: str) -> None:
    login = login_bosh if transport == "bosh" else login_websocket
    guest = mode_lab.spec.guest_domain
    if mode_lab.spec.guests:
        result = login(getattr(mode_lab, transport), guest, mechanism="ANONYMOUS")
        assert result.mechanisms == ("ANONYMOUS",)
        assert result.success and result.jid is not None and f"@{guest}/" in result.jid
        return
    with pytest.raises(XmppError) as caught:
        login(getattr(mode_lab, transport), guest, mechanism="ANONYMOUS")
    if transport == "bosh":
        assert (caught.value.kind, caught.value.condition) == (XmppErrorKind.TERMINATE, "improper-addressing")
    else:
        assert (caught.value.kind, caught.value.condition) == (XmppErrorKind.STREAM_ERROR, "host-unknown")


def test_config_js_has_the_hosts_block(mode_lab: ModeLab) -> None:
    with urllib.request.urlopen(f"{mode_lab.spec.public_url}/config.js", timeout=10) as response:  # noqa: S310
        text = response.read().decode()
    assert "config.hosts.domain = 'meet.jitsi';" in text
    assert ("config.hosts.anonymousdomain = 'guest.meet.jitsi';" in text) is mode_lab.spec.guests
    assert f"config.bosh = '{mode_lab.spec.public_url}/http-bind';" in text
    assert f"config.websocket = '{mode_lab.websocket}';" in text


def test_jicofo_conf_is_rendered_as_upstream_does(mode_lab: ModeLab) -> None:
    result = exec_in(mode_lab.containers["jicofo"], ["cat", "/run/jicofo/jicofo.conf"])
    assert result.exit_code == 0
    assert "enabled = true" in result.stdout
    assert "type = XMPP" in result.stdout
    assert 'login-url = "meet.jitsi"' in result.stdout


def test_cli_up_status_json_down(tmp_path: Path) -> None:
    """`ldapcheck lab up --auth internal --guests`, `status --json`, `down` as a user runs them."""
    env = {
        **os.environ,
        "LDAPCHECK_LAB_DIR": str(tmp_path / "lab"),
        "LDAPCHECK_LAB_PROJECT": f"ldapcheck-cli-{secrets.token_hex(3)}",
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ldapcheck", "lab", *args], env=env, capture_output=True, text=True, timeout=180
        )

    try:
        up = cli("up", "--auth", "internal", "--guests")
        assert up.returncode == 0, up.stderr
        status = cli("status", "--json")
        assert status.returncode == 0, status.stderr
        data = json.loads(status.stdout)
        assert data["up"] and data["auth"] == "internal" and data["guests"] is True
        roles = {c["role"]: c for c in data["containers"]}
        assert set(roles) == {"prosody", "web", "jicofo"}
        assert set(roles["prosody"]["ports"]) == {"c2s", "http"}
        values = dict(line.split("=", 1) for line in Path(data["env_file"]).read_text().splitlines() if "=" in line)
        assert values["PUBLIC_URL"] == data["public_url"] == f"http://127.0.0.1:{roles['web']['ports']['http']}"
        assert values["ENABLE_GUESTS"] == "1" and values["AUTH_TYPE"] == "internal"
        result = login_websocket(
            f"ws://127.0.0.1:{roles['web']['ports']['http']}/xmpp-websocket",
            "meet.jitsi",
            "alice",
            values["LAB_PASSWORD"],
        )
        assert result.success
        assert values["LAB_PASSWORD"] not in up.stdout + up.stderr + status.stdout
    finally:
        down = cli("down")
    assert down.returncode == 0, down.stderr
    assert "removed 3 container(s)" in down.stderr
