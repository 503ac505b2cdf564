"""The Debian-package host lab's files: what `lab up --deployment host` writes where, per mode, and its bookkeeping."""

from __future__ import annotations

import io
import re
import tarfile
import tomllib
from pathlib import Path

import pytest

from ldapcheck.lab.compose import compose_dir
from ldapcheck.lab.hostfiles import (
    PROSODY_MAIN,
    config_js,
    host_cfg_lua,
    host_files,
    jicofo_conf,
    listeners_block,
    nginx_site,
    setup_script,
    stage_tar,
    with_listeners,
)
from ldapcheck.lab.images import EXTRA_IMAGES, LAB_IMAGES
from ldapcheck.lab.spec import DEBIAN_HOST_IMAGE, HOST_XMPP_DOMAIN, new_spec
from ldapcheck.lab.state import LabState

DEBIAN_MAIN = 'admins = { }\nmodules_enabled = {\n}\n\nVirtualHost "localhost"\n\nInclude "conf.d/*.cfg.lua"\n'


def _host(auth: str = "internal", guests: bool = False):  # type: ignore[no-untyped-def]
    return new_spec("p", 5, auth=auth, guests=guests, deployment="host")


def test_a_host_spec_has_its_own_domain_ports_and_a_jicofo_secret() -> None:
    spec = _host()
    assert spec.xmpp_domain == HOST_XMPP_DOMAIN and spec.deployment == "host"
    assert len({spec.c2s_port, spec.http_port, spec.web_port}) == 3 and 0 not in {spec.http_port, spec.web_port}
    assert spec.focus_password and spec.focus_password in spec.secrets()
    assert spec.focus_password not in repr(spec)
    assert spec.lab_env("")["LAB_DEPLOYMENT"] == "host"
    assert "LAB_DEPLOYMENT" not in new_spec("p", 5).lab_env("")  # docker labs' .env is unchanged
    with pytest.raises(ValueError, match="deployment"):
        new_spec("p", 5, deployment="kubernetes")


def test_the_listeners_go_into_debian_s_global_section() -> None:
    spec = _host()
    text = with_listeners(DEBIAN_MAIN, spec)
    globals_part, _, hosts_part = text.partition('VirtualHost "localhost"')
    assert f"c2s_ports = {{ {spec.c2s_port} }}" in globals_part
    assert f"http_ports = {{ {spec.http_port} }}" in globals_part
    assert "s2s_ports = { }" in globals_part and 'interfaces = { "127.0.0.1" }' in globals_part
    assert 'Include "conf.d/*.cfg.lua"' in hosts_part
    assert text.replace(listeners_block(spec) + "\n", "") == DEBIAN_MAIN  # Debian's file is otherwise unchanged


@pytest.mark.parametrize(
    ("auth", "line"),
    [
        ("internal", 'authentication = "internal_hashed"'),
        ("ldap", 'authentication = "cyrus"\n    cyrus_application_name = "xmpp"'),
        ("jwt", 'authentication = "token"\n    app_id = "ldapcheck-lab"'),
    ],
)
@pytest.mark.parametrize("guests", [False, True])
def test_the_host_file_has_the_mode_and_the_guest_host_only_with_guests(auth: str, line: str, guests: bool) -> None:
    spec = _host(auth, guests)
    text = host_cfg_lua(spec)
    main = text[text.index(f'VirtualHost "{spec.xmpp_domain}"') :]
    assert main.split("\n", 1)[1].startswith(f"    {line}")
    assert (f'VirtualHost "guest.{spec.xmpp_domain}"\n    authentication = "anonymous"' in text) is guests
    assert f'VirtualHost "auth.{spec.xmpp_domain}"' in text
    assert ("app_secret" in text) is (auth == "jwt")
    assert auth != "jwt" or f'app_secret = "{spec.jwt_secret}"' in text
    js = config_js(spec)
    assert (f"anonymousdomain: 'guest.{spec.xmpp_domain}'," in js) is guests
    assert ("// anonymousdomain: 'guest.example.com'," in js) is not guests
    assert f"bosh: '{spec.public_url}/' + subdir + 'http-bind'," in js
    jicofo = jicofo_conf(spec)
    assert f"type: {'JWT' if auth == 'jwt' else 'XMPP'}\n    login-url: {spec.xmpp_domain}\n" in jicofo
    assert spec.focus_password in jicofo


def test_nginx_proxies_bosh_and_websocket_to_prosody_on_the_lab_ports() -> None:
    spec = _host()
    site = nginx_site(spec)
    assert f"listen 127.0.0.1:{spec.web_port};" in site
    assert f"proxy_pass http://127.0.0.1:{spec.http_port}/http-bind?prefix=$prefix&$args;" in site
    assert f"proxy_pass http://127.0.0.1:{spec.http_port}/xmpp-websocket?prefix=$prefix&$args;" in site
    assert f"alias /etc/jitsi/meet/{spec.xmpp_domain}-config.js;" in site


@pytest.mark.parametrize("auth", ["internal", "ldap", "jwt"])
def test_the_stage_has_the_guides_layout_with_owners_by_name(auth: str) -> None:
    spec = _host(auth)
    host = spec.xmpp_domain
    with tarfile.open(fileobj=io.BytesIO(stage_tar(host_files(spec, DEBIAN_MAIN, "ldap_servers: x\n")))) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert not [m for m in members.values() if m.isdir()]  # existing directories keep Debian's owners and modes
    link = members[f"etc/prosody/conf.d/{host}.cfg.lua"]
    assert link.issym() and link.linkname == f"/etc/prosody/conf.avail/{host}.cfg.lua"
    assert members[f"etc/nginx/sites-enabled/{host}.conf"].linkname == f"/etc/nginx/sites-available/{host}.conf"
    cfg = members[f"etc/prosody/conf.avail/{host}.cfg.lua"]
    assert (cfg.uname, cfg.gname, cfg.mode) == ("root", "prosody", 0o640)
    main = members[PROSODY_MAIN.lstrip("/")]
    assert (main.uname, main.gname, main.mode) == ("root", "prosody", 0o640)
    jicofo = members["etc/jitsi/jicofo/jicofo.conf"]
    assert (jicofo.gname, jicofo.mode) == ("jicofo", 0o640)
    assert f"etc/jitsi/meet/{host}-config.js" in members
    ldap_files = {"etc/default/saslauthd", "etc/saslauthd.conf", "etc/sasl/xmpp.conf"}
    assert (ldap_files <= set(members)) is (auth == "ldap")
    if auth == "ldap":
        assert members["etc/saslauthd.conf"].mode == 0o600


def test_setup_joins_prosody_to_sasl_only_for_ldap_and_installs_token_libraries_only_for_jwt() -> None:
    assert "adduser --quiet prosody sasl" in setup_script(_host("ldap"))
    assert "adduser" not in setup_script(_host("internal"))
    token = setup_script(_host("jwt"))
    assert "/usr/local/share/lua/5.4/luajwtjitsi.lua" in token and "adduser" not in token


def test_saslauthd_default_is_debian_s_file_with_start_and_ldap() -> None:
    files = {f.path: f for f in host_files(_host("ldap"), DEBIAN_MAIN, "")}
    default = files["/etc/default/saslauthd"].text
    assert re.search(r"^START=yes$", default, re.M) and re.search(r'^MECHANISMS="ldap"$', default, re.M)
    assert re.search(r'^OPTIONS="-c -m /var/run/saslauthd"$', default, re.M)


def test_state_lists_the_host_role_with_its_ports() -> None:
    state = LabState(
        project="p", openldap_id="", prosody_id="", openldap_name="", prosody_name="", ldap_port=1, ldaps_port=2,
        c2s_port=3, xmpp_domain=HOST_XMPP_DOMAIN, suffix="dc=x", n_users=0, env_file="/e", ca_cert="", root="/r",
        auth="internal", http_port=4, web_port=5, deployment="host", host_id="abc", host_name="p-host-1",
    )  # fmt: skip
    assert state.containers() == {"host": ("abc", "p-host-1")}
    assert state.ports() == {"host": {"c2s": 3, "prosody_http": 4, "nginx": 5}}


def test_the_image_pins_the_package_s_dependencies() -> None:
    """compose/debian-host/requirements.txt names exactly pyproject's runtime dependencies."""
    root = compose_dir()
    project = tomllib.loads((root.parent / "pyproject.toml").read_text())["project"]
    wanted = {re.split(r"[<>=!~\[ ]", dep, maxsplit=1)[0].lower() for dep in project["dependencies"]}
    lines = (root / "debian-host" / "requirements.txt").read_text().splitlines()
    pinned = {line.split("==")[0].lower() for line in lines if line and not line.startswith("#")}
    assert pinned == wanted
    assert all("==" in line for line in lines if line and not line.startswith("#"))
    assert EXTRA_IMAGES[DEBIAN_HOST_IMAGE] == "debian-host" and DEBIAN_HOST_IMAGE not in LAB_IMAGES
    dockerfile = (root / "debian-host" / "Dockerfile").read_text()
    assert "ARG BASE_IMAGE=debian:bookworm-slim" in dockerfile


def test_the_entrypoint_starts_services_with_their_init_scripts() -> None:
    entrypoint = (compose_dir() / "debian-host" / "entrypoint.sh").read_text()
    for service in ("saslauthd", "prosody", "nginx"):
        assert f"/etc/init.d/{service} start" in entrypoint
    assert Path(compose_dir() / "debian-host" / "luajwtjitsi-standin.lua").is_file()
