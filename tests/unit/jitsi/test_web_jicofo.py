"""jitsi/web.py and jitsi/jicofo.py: config.js and jicofo.conf as the lab and upstream render them."""

from __future__ import annotations

from ldapcheck.jitsi.jicofo import parse_jicofo_auth
from ldapcheck.jitsi.web import parse_config_js

CONFIG_JS = """
var config = {};
config.hosts = {};
config.hosts.domain = 'meet.jitsi';
config.hosts.muc = 'muc.meet.jitsi';
config.hosts.anonymousdomain = 'guest.meet.jitsi';
config.hosts.authdomain = 'meet.jitsi';
config.bosh = 'https://meet.example.org/http-bind';
config.websocket = 'wss://meet.example.org/xmpp-websocket';
"""


def test_config_js() -> None:
    conf = parse_config_js(CONFIG_JS)
    assert (conf.domain, conf.anonymousdomain, conf.authdomain) == ("meet.jitsi", "guest.meet.jitsi", "meet.jitsi")
    assert conf.bosh.endswith("/http-bind") and conf.websocket.startswith("wss://")
    assert parse_config_js("config.hosts.domain = 'meet.jitsi';").anonymousdomain == ""


def test_jicofo_auth_block() -> None:
    text = """jicofo {
    authentication {
      enabled = true
      // The type of authentication. Supported values are XMPP or JWT.
      type = XMPP
      login-url = "meet.jitsi"
      enable-auto-login = true
      authentication-lifetime = 24 hours
    }
}"""
    auth = parse_jicofo_auth(text)
    assert (auth.enabled, auth.type, auth.login_url) == (True, "XMPP", "meet.jitsi")
    off = parse_jicofo_auth("jicofo {\n}\n")
    assert (off.enabled, off.type) == (False, "NONE")
