"""Settings from a docker-jitsi-meet .env: URLs, DNs, booleans, defaults and what saslauthd verifies."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ldapcheck.auth.ldap.settings import from_env, parse_servers, read_env_file
from ldapcheck.core.errors import ConfigError
from ldapcheck.core.secrets import Secret

BASE_ENV = {
    "LDAP_URL": "ldaps://ldap1.example.org/ ldap://ldap2.example.org:3389",
    "LDAP_BASE": "ou=users,dc=example,dc=org",
    "LDAP_BINDDN": "cn=saslauthd,ou=services,dc=example,dc=org",
    "LDAP_BINDPW": "s3cret-pw",
}


def test_servers_and_defaults() -> None:
    s = from_env(BASE_ENV)
    assert [(u.scheme, u.host, u.port) for u in s.servers] == [
        ("ldaps", "ldap1.example.org", 636),
        ("ldap", "ldap2.example.org", 3389),
    ]
    assert s.servers[0].url == "ldaps://ldap1.example.org:636"  # no trailing slash for ldap3
    assert s.filter == "uid=%u"
    assert s.xmpp_domain == "meet.jitsi"
    assert s.timeout == 5.0
    assert isinstance(s.bind_password, Secret)
    assert "s3cret-pw" not in repr(s)
    assert s.secrets() == frozenset({"s3cret-pw"})


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("", "LDAP_URL is empty"),
        ("http://ldap", "must start with ldap:// or ldaps://"),
        ("ldap://host:99999", "port"),
        ("ldap://host:abc", "port"),
        ("ldap:///", "no host"),
        ("'ldap://host'", "quotes"),
        ("ldap://host/dc=example,dc=org", "path"),
        ("ldapi:///var/run/slapd.sock", "ldapi"),
    ],
)
def test_malformed_urls(url: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        parse_servers(url)


def test_malformed_dns_are_findings_of_the_settings() -> None:
    (problem,) = from_env({**BASE_ENV, "LDAP_BASE": "example.org"}).dn_problems
    assert re.search(r"LDAP_BASE .* is not a valid DN", problem)
    (quoted,) = from_env({**BASE_ENV, "LDAP_BINDDN": '"cn=x,dc=y"'}).dn_problems
    assert "quotes" in quoted
    assert from_env(BASE_ENV).dn_problems == ()
    # Active Directory also takes UPN and down-level names for binds.
    assert from_env({**BASE_ENV, "LDAP_BINDDN": "svc@corp.example"}).bind_dn == "svc@corp.example"
    assert from_env({**BASE_ENV, "LDAP_BINDDN": "CORP\\svc"}).bind_dn == "CORP\\svc"


def test_tls_flags_follow_the_template() -> None:
    plain = from_env({**BASE_ENV, "LDAP_TLS_CHECK_PEER": "1"})
    assert not plain.saslauthd_verifies_peer  # check_peer is only rendered inside LDAP_USE_TLS
    verified = from_env({**BASE_ENV, "LDAP_USE_TLS": "true", "LDAP_TLS_CHECK_PEER": "1"})
    assert verified.saslauthd_verifies_peer
    assert verified.saslauthd_cacert == "/etc/ssl/certs/ca-certificates.crt"
    assert from_env({**BASE_ENV, "LDAP_START_TLS": "no"}).start_tls  # tpl's toBool: any other text is true
    assert not from_env({**BASE_ENV, "LDAP_START_TLS": "0"}).start_tls


def test_cacert_used_only_when_it_exists_on_this_host(tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_text("x")
    assert from_env({**BASE_ENV, "LDAP_TLS_CACERT_FILE": str(ca)}).ca_file == str(ca)
    container_only = from_env({**BASE_ENV, "LDAP_TLS_CACERT_FILE": "/config/certs/ca.crt"})
    assert container_only.ca_file == ""
    assert container_only.cacert_file == "/config/certs/ca.crt"


def test_anonymous_and_empty_filter() -> None:
    anon = from_env({"LDAP_URL": "ldap://h", "LDAP_BASE": "dc=x"})
    assert anon.anonymous and anon.bind_password is None
    assert from_env({**BASE_ENV, "LDAP_FILTER": ""}).filter == "uid=%u"  # unset and empty both take the default


def test_env_file_compose_rules(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("LDAP_URL=ldap://h\nLDAP_BINDPW='pa$word'\nLDAP_BASE=dc=x # comment\nXMPP_DOMAIN=\"a$$b\"\n")
    values = read_env_file(str(env))
    assert values["LDAP_BINDPW"] == "pa$word"
    assert values["LDAP_BASE"] == "dc=x"
    assert values["XMPP_DOMAIN"] == "a$b"


def test_timeout_override_is_validated() -> None:
    s = from_env(BASE_ENV)
    assert s.with_overrides(timeout=1.5).timeout == 1.5
    with pytest.raises(ConfigError, match="timeout"):
        s.with_overrides(timeout=0)


@pytest.mark.parametrize(
    "word", ["1", "0", "true", "TRUE", "True", "t", "F", "false", "no", "yes", "off", "", "'1'", '"0"', " 1", "2"]
)
def test_tls_switches_read_as_the_renderer_reads_them(word: str) -> None:
    from ldapcheck.auth.ldap.render import to_bool

    env = {**BASE_ENV, "LDAP_START_TLS": word, "LDAP_USE_TLS": word, "LDAP_TLS_CHECK_PEER": word}
    s = from_env(env)
    assert s.start_tls == s.use_tls == s.tls_check_peer_requested == to_bool(word)
