"""The Debian-package Jitsi host lab (`lab up --deployment host`): a container laid out as the guides leave a host.

One host per mode (module scope, `host_labs`): internal and LDAP accounts, each without and with guests, and a token
host. Tests that change the host take a pristine copy (`fresh_host`).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

import ldapcheck
from ldapcheck.adapters.xmpp import XmppError, login_bosh, login_c2s, login_websocket
from ldapcheck.lab.envfile import read_env_file
from testing.hostlab import HostLab

MODES = {
    "internal": ("internal", False),
    "internal+guests": ("internal", True),
    "ldap": ("ldap", False),
    "ldap+guests": ("ldap", True),
}
AUTH_LINE = {"internal": 'authentication = "internal_hashed"', "ldap": 'authentication = "cyrus"'}


@pytest.fixture(params=list(MODES))
def host(request: pytest.FixtureRequest, host_labs: Callable[..., HostLab]) -> HostLab:
    """The mode's host as the lab started it (tests here only read it)."""
    auth, guests = MODES[request.param]
    return host_labs(auth, guests)


def test_alice_logs_in_over_c2s_and_through_nginx(host: HostLab) -> None:
    c2s = login_c2s("127.0.0.1", host.spec.c2s_port, host.domain, host.user, host.password, bind=True)
    assert c2s.success and c2s.jid is not None and c2s.jid.startswith(f"{host.user}@{host.domain}/")
    for login, url in ((login_bosh, host.bosh_url), (login_websocket, host.websocket_url)):
        result = login(url, host.domain, host.user, host.password)
        assert result.success, result.raw_reply
        assert host.password not in repr(result)
    wrong = login_bosh(host.bosh_url, host.domain, host.user, "wrong-password")
    assert (wrong.success, wrong.condition) == (False, "not-authorized")


def test_the_guest_host_exists_only_with_guests(host: HostLab) -> None:
    guest = host.spec.guest_domain
    if host.spec.guests:
        result = login_bosh(host.bosh_url, guest, mechanism="ANONYMOUS")
        assert result.success and result.jid is not None and f"@{guest}/" in result.jid
    else:
        with pytest.raises(XmppError):
            login_bosh(host.bosh_url, guest, mechanism="ANONYMOUS")


def test_prosody_reads_the_host_file_through_the_conf_d_link(host: HostLab) -> None:
    avail = f"/etc/prosody/conf.avail/{host.domain}.cfg.lua"
    link = host.exec(
        f"readlink /etc/prosody/conf.d/{host.domain}.cfg.lua && test -L /etc/prosody/conf.d/{host.domain}.cfg.lua"
    )
    assert (link.exit_code, link.stdout.strip()) == (0, avail)
    assert 'Include "conf.d/*.cfg.lua"' in host.read("/etc/prosody/prosody.cfg.lua")
    text = host.read(avail)
    assert f'VirtualHost "{host.domain}"' in text
    assert AUTH_LINE[host.spec.auth] in text
    assert f'VirtualHost "auth.{host.domain}"' in text
    assert (f'VirtualHost "{host.spec.guest_domain}"' in text) is host.spec.guests
    owner = host.exec(f"stat -c '%U:%G %a' {avail} /etc/prosody/prosody.cfg.lua")
    assert owner.stdout.split("\n")[:2] == ["root:prosody 640", "root:prosody 640"]


def test_config_js_and_jicofo_conf_are_written_as_the_packages_write_them(host: HostLab) -> None:
    with urllib.request.urlopen(f"{host.public_url}/config.js", timeout=10) as response:  # noqa: S310
        served = response.read().decode()
    assert served == host.read(f"/etc/jitsi/meet/{host.domain}-config.js").replace(
        '<!--# echo var="subdir" default="" -->', ""
    ).replace('<!--# echo var="subdomain" default="" -->', "")  # nginx's ssi fills these in
    assert f"domain: '{host.domain}'," in served
    assert (f"anonymousdomain: '{host.spec.guest_domain}'," in served) is host.spec.guests
    assert f"bosh: '{host.public_url}/' + subdir + 'http-bind'," in served
    jicofo = host.read("/etc/jitsi/jicofo/jicofo.conf")
    assert "authentication: {\n    enabled: true\n    type: XMPP\n" in jicofo
    assert f"login-url: {host.domain}\n" in jicofo
    assert host.exec("stat -c '%U:%G %a' /etc/jitsi/jicofo/jicofo.conf").stdout.strip() == "root:jicofo 640"
    site = host.read(f"/etc/nginx/sites-enabled/{host.domain}.conf")
    assert f"proxy_pass http://127.0.0.1:{host.spec.http_port}/http-bind" in site


def test_saslauthd_runs_as_etc_default_saslauthd_says(host: HostLab) -> None:
    running = host.exec("pgrep -a saslauthd")
    groups = host.exec("id -nG prosody").stdout.split()
    if host.spec.auth == "internal":
        # Debian's own /etc/default/saslauthd has no START=yes: its init script does not start it
        assert running.exit_code == 1
        assert "sasl" not in groups
        return
    assert running.exit_code == 0 and "saslauthd -a ldap -c -m /var/run/saslauthd -n 5" in running.stdout
    default = host.read("/etc/default/saslauthd")
    assert "START=yes\n" in default and 'MECHANISMS="ldap"\n' in default
    assert "sasl" in groups
    conf = host.read("/etc/saslauthd.conf")
    assert f"ldap_servers: {host.spec.ldap_url}" in conf
    assert host.exec("stat -c '%U %a' /etc/saslauthd.conf").stdout.strip() == "root 600"
    assert host.read("/etc/sasl/xmpp.conf") == "pwcheck_method: saslauthd\nmech_list: PLAIN\n"


def test_ldapcheck_is_installed_from_the_wheel(host: HostLab) -> None:
    version = host.exec("ldapcheck --version")
    assert (version.exit_code, version.stdout.strip()) == (0, f"ldapcheck {ldapcheck.__version__}")
    assert host.exec("readlink -f /usr/local/bin/ldapcheck").stdout.strip() == "/opt/ldapcheck/bin/ldapcheck"


def test_no_lab_secret_is_left_in_the_stage_or_the_environment(host: HostLab) -> None:
    assert host.exec("ls -A /ldapcheck-lab").stdout == ""  # stage.tar, setup.sh and the wheel were removed
    environ = host.exec("cat /proc/1/environ /proc/$(pgrep -o -f 'prosody -D')/environ | tr '\\0' '\\n'").stdout
    assert environ and not any(secret in environ for secret in host.secrets())


def test_diagnose_runs_inside_with_the_password_on_stdin(host: HostLab) -> None:
    result = host.diagnose("--user", host.user, password=host.password)
    said = result.stdout + result.stderr
    assert result.exit_code in (0, 1, 2) and said.strip()  # it ran and judged (127 would be: not on PATH)
    assert host.password not in said


def test_a_fresh_host_undoes_what_a_test_broke(fresh_host: Callable[..., HostLab]) -> None:
    lab = fresh_host("internal")
    assert lab.exec(f"rm /etc/prosody/conf.d/{lab.domain}.cfg.lua && /etc/init.d/prosody restart").exit_code == 0
    broken_name = lab.name
    started = time.monotonic()
    lab = fresh_host("internal")
    took = time.monotonic() - started
    assert lab.name == broken_name  # same name, ports and files: a new container from the snapshot
    assert lab.exec(f"test -L /etc/prosody/conf.d/{lab.domain}.cfg.lua").exit_code == 0
    assert login_bosh(lab.bosh_url, lab.domain, lab.user, lab.password).success
    assert took < 20, f"fresh() took {took:.1f} s"


def test_restart_picks_up_a_changed_host_file(fresh_host: Callable[..., HostLab]) -> None:
    lab = fresh_host("internal")
    path = f"/etc/prosody/conf.avail/{lab.domain}.cfg.lua"
    lab.write(path, lab.read(path).replace('authentication = "internal_hashed"', 'authentication = "anonymous"'))
    lab.exec(f"chown root:prosody {path} && chmod 640 {path}")
    lab.restart("prosody")
    result = login_bosh(lab.bosh_url, lab.domain, mechanism="ANONYMOUS")
    assert result.success and result.mechanisms == ("ANONYMOUS",)


def test_a_token_host_has_the_lua_libraries_and_says_what_debian_lacks(host_labs: Callable[..., HostLab]) -> None:
    lab = host_labs("jwt")
    text = lab.read(f"/etc/prosody/conf.avail/{lab.domain}.cfg.lua")
    assert 'authentication = "token"' in text and 'app_id = "ldapcheck-lab"' in text
    loads = lab.exec('lua5.4 -e \'require "basexx"; require "cjson"; require "inspect"; require "luajwtjitsi"\'')
    assert loads.exit_code == 0, loads.stderr
    # jitsi-meet-tokens' module is not in Debian: prosody says so, and no token login can succeed here
    assert "Unable to load module 'auth_token'" in lab.read("/var/log/prosody/prosody.err")
    assert "type: JWT" in lab.read("/etc/jitsi/jicofo/jicofo.conf")


def test_cli_up_status_down_with_deployment_host(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "LDAPCHECK_LAB_DIR": str(tmp_path / "lab"),
        "LDAPCHECK_LAB_PROJECT": f"ldapcheck-hostcli-{secrets.token_hex(3)}",
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ldapcheck", "lab", *args], env=env, capture_output=True, text=True, timeout=600
        )

    try:
        up = cli("up", "--deployment", "host", "--auth", "internal")
        assert up.returncode == 0, up.stderr
        status = cli("status", "--json")
        assert status.returncode == 0, status.stderr
        data = json.loads(status.stdout)
        assert (data["up"], data["deployment"], data["auth"]) == (True, "host", "internal")
        [host] = data["containers"]
        assert host["role"] == "host" and host["status"] == "running"
        assert set(host["ports"]) == {"c2s", "prosody_http", "nginx"}
        values = read_env_file(Path(data["env_file"]))
        assert values["PUBLIC_URL"] == data["public_url"] == f"http://127.0.0.1:{host['ports']['nginx']}"
        assert values["XMPP_DOMAIN"] == data["xmpp_domain"] == "jitsi-meet.example.com"
        assert values["LAB_HOST_CONTAINER"] == host["name"]
        inside = subprocess.run(
            ["docker", "exec", host["name"], "cat", f"/etc/jitsi/meet/{values['XMPP_DOMAIN']}-config.js"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert f"bosh: '{values['PUBLIC_URL']}/' + subdir + 'http-bind'," in inside.stdout
        assert login_c2s(
            "127.0.0.1", host["ports"]["c2s"], values["XMPP_DOMAIN"], "alice", values["LAB_PASSWORD"]
        ).success
        assert values["LAB_PASSWORD"] not in up.stdout + up.stderr + status.stdout
    finally:
        down = cli("down")
    assert down.returncode == 0, down.stderr
    assert "removed 1 container(s)" in down.stderr
