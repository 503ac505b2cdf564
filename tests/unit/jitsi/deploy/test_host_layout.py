"""The Debian-package layout read from a fake root: prosody's Includes and conf.d links, config.js, jicofo.conf,
/etc/default/saslauthd, groups, accounts, Lua libraries; the site's expected values; detection; the host steps."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ldapcheck.auth.jwt import debian as jwt_debian
from ldapcheck.auth.ldap import debian as ldap_debian
from ldapcheck.core import catalogue as ids
from ldapcheck.core.step import CheckFailed, StepSkipped
from ldapcheck.jitsi.container.facts import ContainerFacts, FileStat
from ldapcheck.jitsi.container.session import SessionOptions
from ldapcheck.jitsi.deploy import detect, steps
from ldapcheck.jitsi.deploy.host import HostLayout, encode, parse_web_config
from ldapcheck.jitsi.deploy.local import HostSession
from ldapcheck.jitsi.deploy.site import read_site

DOMAIN = "meet.example.com"
MAIN_CFG = f"""
-- the site's file, as the guides write it
VirtualHost "{DOMAIN}"
    authentication = "internal_hashed"
    c2s_require_encryption = false

VirtualHost "guest.{DOMAIN}"
    authentication = "anonymous"

VirtualHost "auth.{DOMAIN}"
    authentication = "internal_hashed"

Component "conference.{DOMAIN}" "muc"
"""
CONFIG_JS = f"""var config = {{
    hosts: {{
        domain: '{DOMAIN}',
        anonymousdomain: 'guest.{DOMAIN}',
        muc: 'conference.' + subdomain + '{DOMAIN}'
    }},
    // bosh: 'https://old.example.com/http-bind',
    bosh: 'https://{DOMAIN}/http-bind',
}};
"""
JICOFO = f"""jicofo {{
  authentication: {{
    enabled: true
    type: XMPP
    login-url: {DOMAIN}
  }}
  xmpp: {{ client: {{ client-proxy: focus.{DOMAIN} }} }}
}}
"""


def write(root: Path, path: str, text: str) -> Path:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A healthy internal-auth package install with guests."""
    write(tmp_path, "/etc/prosody/prosody.cfg.lua", 'admins = { }\nInclude "conf.d/*.cfg.lua"\n')
    avail = write(tmp_path, f"/etc/prosody/conf.avail/{DOMAIN}.cfg.lua", MAIN_CFG)
    write(tmp_path, "/etc/prosody/conf.avail/localhost.cfg.lua", 'VirtualHost "localhost"\n')
    (tmp_path / "etc/prosody/conf.d").mkdir(parents=True)
    os.symlink(avail, tmp_path / f"etc/prosody/conf.d/{DOMAIN}.cfg.lua")
    write(tmp_path, f"/etc/jitsi/meet/{DOMAIN}-config.js", CONFIG_JS)
    write(tmp_path, "/etc/jitsi/jicofo/jicofo.conf", JICOFO)
    write(tmp_path, "/etc/passwd", "root:x:0:0::/root:/bin/bash\nprosody:x:105:110::/var/lib/prosody:/bin/false\n")
    write(tmp_path, "/etc/group", "root:x:0:\nprosody:x:110:\nsasl:x:45:prosody\n")
    write(tmp_path, f"/var/lib/prosody/{encode(DOMAIN)}/accounts/alice.dat", "return { stored_key = 'x' };\n")
    return tmp_path


def test_prosody_reads_only_the_linked_files(tree: Path) -> None:
    layout = HostLayout(tree)
    files = layout.prosody_files()
    assert files is not None
    assert files.includes == ("conf.d/*.cfg.lua",)
    assert files.included == (f"/etc/prosody/conf.d/{DOMAIN}.cfg.lua",)
    _glob, hosts = files.parsed()
    assert hosts[DOMAIN].authentication == "internal_hashed"
    assert "localhost" not in hosts  # in conf.avail, not linked
    links = {link.name: link.linked for link in layout.conf_links()}
    assert links == {f"{DOMAIN}.cfg.lua": True, "localhost.cfg.lua": False}


def test_a_dangling_link_is_skipped_like_prosody_does(tree: Path) -> None:
    os.symlink(tree / "nowhere.cfg.lua", tree / "etc/prosody/conf.d/gone.cfg.lua")
    files = HostLayout(tree).prosody_files()
    assert files is not None and len(files.included) == 1


def test_site_values_come_from_the_files(tree: Path) -> None:
    site = read_site(HostLayout(tree))
    assert site.domain == DOMAIN and "config.js" in site.domain_source
    env = site.env()
    assert env["AUTH_TYPE"] == "internal" and env["ENABLE_AUTH"] == "1"
    assert env["ENABLE_GUESTS"] == "1" and env["XMPP_GUEST_DOMAIN"] == f"guest.{DOMAIN}"
    assert env["PUBLIC_URL"] == f"https://{DOMAIN}"  # the commented-out bosh line is ignored


@pytest.mark.parametrize(
    ("authentication", "auth_type", "enabled"),
    [("cyrus", "ldap", "1"), ("token", "jwt", "1"), ("anonymous", None, "0"), ("internal_plain", "internal", "1")],
)
def test_mode_from_the_main_hosts_authentication(
    tree: Path, authentication: str, auth_type: str | None, enabled: str
) -> None:
    cfg = MAIN_CFG.replace('authentication = "internal_hashed"', f'authentication = "{authentication}"', 1)
    write(tree, f"/etc/prosody/conf.avail/{DOMAIN}.cfg.lua", cfg)
    env = read_site(HostLayout(tree)).env()
    assert env.get("AUTH_TYPE") == auth_type and env["ENABLE_AUTH"] == enabled


def test_without_config_js_the_login_url_names_the_domain(tree: Path) -> None:
    (tree / f"etc/jitsi/meet/{DOMAIN}-config.js").unlink()
    site = read_site(HostLayout(tree))
    assert site.domain == DOMAIN and "login-url" in site.domain_source


def test_legacy_sip_communicator_login_url(tree: Path) -> None:
    (tree / f"etc/jitsi/meet/{DOMAIN}-config.js").unlink()
    (tree / "etc/jitsi/jicofo/jicofo.conf").unlink()
    write(tree, "/etc/jitsi/jicofo/sip-communicator.properties", f"org.jitsi.jicofo.auth.URL=EXT_JWT:{DOMAIN}\n")
    assert read_site(HostLayout(tree)).domain == DOMAIN


def test_config_js_in_docker_form_too() -> None:
    conf = parse_web_config("x", "config.hosts.domain = 'a.example';\nconfig.bosh = '//a.example/http-bind';\n")
    assert conf.domain == "a.example" and conf.bosh == "//a.example/http-bind"


def test_saslauthd_defaults_and_groups(tree: Path) -> None:
    write(
        tree, "/etc/default/saslauthd", '# comment\nSTART=yes\nMECHANISMS="ldap"\nOPTIONS="-c -m /var/run/saslauthd"\n'
    )
    layout = HostLayout(tree)
    assert layout.saslauthd_defaults() == {"START": "yes", "MECHANISMS": "ldap", "OPTIONS": "-c -m /var/run/saslauthd"}
    assert layout.groups_of("prosody") == ("prosody", "sasl")
    assert layout.groups_of("nobody") is None


def test_accounts_presence_only(tree: Path) -> None:
    layout = HostLayout(tree)
    assert layout.account_hosts("/var/lib/prosody", "Alice") == [DOMAIN]
    assert layout.account("/var/lib/prosody", DOMAIN, "alice").endswith("meet%2eexample%2ecom/accounts/alice.dat")


def test_lua_version_from_the_shebang_and_libraries(tree: Path) -> None:
    write(tree, "/usr/bin/prosody", "#!/usr/bin/env lua5.4\n-- prosody\n")
    write(tree, "/usr/share/lua/5.4/basexx.lua", "return {}\n")
    write(tree, "/usr/share/lua/5.3/inspect.lua", "return {}\n")  # another Lua's: does not count
    layout = HostLayout(tree)
    assert layout.lua_version()[0] == "5.4"
    assert layout.find_lua_lib("basexx", "5.4") == "/usr/share/lua/5.4/basexx.lua"
    assert layout.find_lua_lib("inspect", "5.4") is None


def test_reads_are_bounded_and_refuse_fifos(tree: Path) -> None:
    os.mkfifo(tree / "etc/fifo")
    layout = HostLayout(tree)
    assert layout.read("/etc/fifo") is None
    write(tree, "/var/log/prosody/prosody.err", "x" * 200_000 + "\nlast line\n")
    assert layout.tail("/var/log/prosody/prosody.err", lines=1) == ["last line"]


# --- detection -----------------------------------------------------------------------------------------------------


def test_detection(tree: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(detect, "_prosody_container", lambda timeout: "")
    assert detect.choose(None, layout=HostLayout(tree)).kind == "host"
    empty = HostLayout(tmp_path_factory.mktemp("empty"))
    assert detect.choose(None, layout=empty).kind == "docker"
    assert detect.choose("host", layout=empty).reason == "--deployment host"
    assert detect.choose(None, layout=HostLayout(tree), names_container=True).kind == "docker"
    monkeypatch.setattr(detect, "_prosody_container", lambda timeout: "jitsi-prosody-1")
    choice = detect.choose(None, layout=HostLayout(tree))
    assert choice.kind == "docker" and "jitsi-prosody-1" in choice.reason
    with pytest.raises(ValueError, match="choose one of"):
        detect.choose("kubernetes")


# --- the host's own steps on a fake root (facts given, nothing run) ----------------------------------------------


class Ctx:
    def __init__(self, session: HostSession) -> None:
        self.session = session
        self.values: dict[str, object] = {}


def session_on(root: Path, facts: ContainerFacts | None = None) -> HostSession:
    session = HostSession(SessionOptions(), layout=HostLayout(root), env_readers=[ldap_debian.env_from_host])
    given = facts or ContainerFacts(complete=True)
    session._memo["facts"] = (True, given)  # the facts script is tested against a real host (integration)
    return session


def test_unlinked_site_file_is_its_own_failure(tree: Path) -> None:
    (tree / f"etc/prosody/conf.d/{DOMAIN}.cfg.lua").unlink()
    with pytest.raises(CheckFailed) as err:
        steps.conf_links(Ctx(session_on(tree)))
    assert err.value.failure_id == ids.HOST_CONF_UNLINKED
    assert "ln -s" in err.value.hint and "systemctl restart prosody" in err.value.hint


def test_linked_site_passes(tree: Path) -> None:
    assert DOMAIN in steps.conf_links(Ctx(session_on(tree))).summary


def test_host_find_says_why(tree: Path) -> None:
    session = session_on(tree)
    session.values["deployment.reason"] = "--deployment host"
    outcome = steps.find(Ctx(session))
    assert outcome.detail["detected"] == "--deployment host" and DOMAIN in outcome.summary


def test_host_find_without_prosody(tmp_path: Path) -> None:
    with pytest.raises(CheckFailed) as err:
        steps.find(Ctx(session_on(tmp_path)))
    assert err.value.failure_id == ids.HOST_NO_PROSODY


@pytest.mark.parametrize(
    ("defaults", "failure_id"),
    [
        ('START=no\nMECHANISMS="ldap"\n', ids.HOST_SASLAUTHD_OFF),
        ('START=yes\nMECHANISMS="pam"\n', ids.HOST_MECH),
        ('START=yes\nMECHANISMS="ldap"\nOPTIONS="-c -m /var/run/saslauthd"\n', None),
    ],
)
def test_saslauthd_defaults(tree: Path, defaults: str, failure_id: str | None) -> None:
    write(tree, "/etc/default/saslauthd", defaults)
    ctx = Ctx(session_on(tree))
    if failure_id is None:
        assert "MECHANISMS" in ldap_debian.saslauthd_defaults(ctx).summary
        return
    with pytest.raises(CheckFailed) as err:
        ldap_debian.saslauthd_defaults(ctx)
    assert err.value.failure_id == failure_id


def test_sasl_group(tree: Path) -> None:
    facts = ContainerFacts(complete=True, stats={"/var/run/saslauthd": FileStat("710", "root", "sasl", "directory")})
    assert "sasl" in ldap_debian.sasl_group(Ctx(session_on(tree, facts))).summary
    write(tree, "/etc/group", "root:x:0:\nprosody:x:110:\nsasl:x:45:\n")
    with pytest.raises(CheckFailed) as err:
        ldap_debian.sasl_group(Ctx(session_on(tree, facts)))
    assert err.value.failure_id == ids.HOST_SASL_GROUP and "adduser prosody sasl" in err.value.hint


def test_cyrus_module_and_ldap_values(tree: Path) -> None:
    cfg = MAIN_CFG.replace('authentication = "internal_hashed"', 'authentication = "cyrus"', 1)
    write(tree, f"/etc/prosody/conf.avail/{DOMAIN}.cfg.lua", cfg)
    write(
        tree,
        "/etc/saslauthd.conf",
        "ldap_servers: ldap://127.0.0.1:389/\nldap_bind_pw: s3cret\nldap_search_base: dc=x\n",
    )
    session = session_on(tree)
    with pytest.raises(CheckFailed) as err:
        ldap_debian.cyrus_module(Ctx(session))
    assert err.value.failure_id == ids.HOST_NO_CYRUS
    write(tree, "/usr/lib/prosody/modules/mod_auth_cyrus.lua", "-- module\n")
    assert "mod_auth_cyrus" in ldap_debian.cyrus_module(Ctx(session_on(tree))).summary
    env = session_on(tree).env()
    assert env["LDAP_URL"] == "ldap://127.0.0.1:389/" and env["AUTH_TYPE"] == "ldap"


@pytest.mark.parametrize("options", ["-c -O /etc/other.conf -m /var/run/saslauthd", "-c -O/etc/other.conf"])
def test_ldap_values_from_saslauthds_o_file(tree: Path, options: str) -> None:
    # -O as saslauthd's getopt reads it: a word of its own or glued to its value
    write(tree, "/etc/default/saslauthd", f'START=yes\nMECHANISMS="ldap"\nOPTIONS="{options}"\n')
    write(tree, "/etc/saslauthd.conf", "ldap_servers: ldap://127.0.0.1:389/\n")
    write(tree, "/etc/other.conf", "ldap_servers: ldap://127.0.0.2:636/\n")
    assert ldap_debian.env_from_host(HostLayout(tree), read_site(HostLayout(tree)))["LDAP_URL"] == (
        "ldap://127.0.0.2:636/"
    )


def test_token_libraries_for_prosodys_lua(tree: Path) -> None:
    cfg = MAIN_CFG.replace('authentication = "internal_hashed"', 'authentication = "token"\n    app_id = "x"', 1)
    write(tree, f"/etc/prosody/conf.avail/{DOMAIN}.cfg.lua", cfg)
    write(tree, "/usr/bin/prosody", "#!/usr/bin/lua5.4\n")
    for lib in ("usr/share/lua/5.4/cjson.so", "usr/share/lua/5.4/inspect.lua", "usr/share/lua/5.1/basexx.lua"):
        write(tree, lib, "")
    write(tree, "/var/log/prosody/prosody.err", "mod_auth_token error: module 'basexx' not found:\n")
    with pytest.raises(CheckFailed) as err:
        jwt_debian.lua_libs(Ctx(session_on(tree)))
    assert err.value.failure_id == ids.HOST_LUA_LIB
    assert err.value.detail["missing"] == ["basexx"]
    assert any("'basexx' not found" in line for line in err.value.detail["prosody's log"])  # type: ignore[union-attr]
    write(tree, "/usr/share/lua/5.4/basexx.lua", "")
    outcome = jwt_debian.lua_libs(Ctx(session_on(tree)))
    assert "5.4" in outcome.summary and "not checked" in outcome.detail  # luajwtjitsi: no token plugin here


def test_lua_libs_skip_when_not_token(tree: Path) -> None:
    with pytest.raises(StepSkipped):
        jwt_debian.lua_libs(Ctx(session_on(tree)))


def test_c2s_port_from_prosodys_config(tree: Path) -> None:
    write(tree, "/etc/prosody/prosody.cfg.lua", 'c2s_ports = { 5322 }\nInclude "conf.d/*.cfg.lua"\n')
    assert read_site(HostLayout(tree)).env()["C2S_PORT"] == "5322"
