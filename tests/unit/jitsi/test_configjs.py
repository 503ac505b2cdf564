"""One config.js parser for both kinds: docker's assignments and the package's object literal, tokenAuthUrl too."""

from __future__ import annotations

from ldapcheck.jitsi.configjs import ConfigJs, parse_config_js
from ldapcheck.jitsi.deploy.host import parse_web_config

DOCKER = """
config.hosts.domain = 'meet.jitsi';
config.hosts.anonymousdomain = 'guest.meet.jitsi';
config.bosh = '/http-bind';
config.websocket = 'wss://localhost:8443/xmpp-websocket';
// config.tokenAuthUrl = 'https://old.example/auth';
config.tokenAuthUrl = 'https://auth.example/login?room={room}';
"""

PACKAGE = """
var config = {
    hosts: {
        domain: 'meet.example.com',
        // anonymousdomain: 'commented.meet.example.com',
        anonymousdomain: "guest.meet.example.com",
        muc: 'conference.<!--# echo var="subdomain" default="" -->meet.example.com'
    },
    bosh: '//meet.example.com/<!--# echo var="subdir" default="" -->http-bind',
    tokenAuthUrl: 'https://auth.example/token',
    testing: {
        domain: 'not-the-host.example',
    },
};
"""


def test_docker_form() -> None:
    assert parse_config_js(DOCKER) == ConfigJs(
        domain="meet.jitsi",
        anonymousdomain="guest.meet.jitsi",
        bosh="/http-bind",
        websocket="wss://localhost:8443/xmpp-websocket",
        token_auth_url="https://auth.example/login?room={room}",
    )


def test_package_form_with_token_auth_url_and_a_foreign_domain_key() -> None:
    conf = parse_config_js(PACKAGE)
    assert conf.domain == "meet.example.com"
    assert conf.anonymousdomain == "guest.meet.example.com"  # double quotes; the commented line skipped
    assert conf.bosh.endswith("http-bind") and conf.token_auth_url == "https://auth.example/token"


def test_the_last_assignment_wins_and_absent_keys_are_empty() -> None:
    conf = parse_config_js("config.hosts.domain = 'a';\nconfig.hosts.domain = 'b';\n")
    assert (conf.domain, conf.anonymousdomain, conf.token_auth_url) == ("b", "", "")


def test_the_host_kind_reads_token_auth_url_through_the_same_parser() -> None:
    # The package's config.js on a host: tokenAuthUrl was lost before the two parsers became one.
    web = parse_web_config("/etc/jitsi/meet/meet.example.com-config.js", PACKAGE)
    assert web.token_auth_url == "https://auth.example/token" and web.domain == "meet.example.com"
