"""The expected values of a Debian-package Jitsi, from its own files (there is no `.env`): the main host,
the guest host, the public URL, and the auth switches, in docker-jitsi-meet's names so that every step that
judges a docker deployment's environment judges this one too.

The main host is the one users log in on: config.js's `hosts.domain` (what the browser uses), else jicofo's
`login-url`, else the one VirtualHost that is neither `auth.`/`guest.`/`recorder.` nor localhost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ldapcheck.jitsi.deploy.host import HostLayout, ProsodyFiles, WebConfig
from ldapcheck.jitsi.prosody import ProsodyHost

# prosody's `authentication` → docker-jitsi-meet's AUTH_TYPE (auth-modes.md §1.2).
AUTH_TYPES = {"internal_hashed": "internal", "internal_plain": "internal", "cyrus": "ldap", "token": "jwt"}
ANONYMOUS = ("anonymous", "jitsi-anonymous")
_C2S_PORTS = re.compile(r"^\s*c2s_ports\s*=\s*\{\s*(\d+)", re.MULTILINE)
_SERVICE_PREFIXES = ("auth.", "guest.", "recorder.", "focus.", "conference.", "internal.", "lobby.", "breakout.")


@dataclass(frozen=True)
class Site:
    """What the files say, read once."""

    layout: HostLayout
    prosody: ProsodyFiles | None
    settings: dict[str, str] = field(default_factory=dict)  # prosody's global settings
    hosts: dict[str, ProsodyHost] = field(default_factory=dict)
    web: WebConfig | None = None
    jicofo_path: str = ""
    jicofo_text: str = ""
    domain: str = ""
    domain_source: str = ""  # why this is the main host

    @property
    def main(self) -> ProsodyHost | None:
        return self.hosts.get(self.domain)

    def guest_domain(self) -> str:
        if self.web is not None and self.web.anonymousdomain:
            return self.web.anonymousdomain
        return f"guest.{self.domain}"

    def public_url(self) -> str:
        """Where the browser loads the site: config.js's `bosh` without `/http-bind`, else https://<domain>."""
        bosh = self.web.bosh if self.web is not None else ""
        if bosh:
            parts = urlsplit(bosh if "//" in bosh else f"https://{self.domain}/{bosh.lstrip('/')}")
            scheme = parts.scheme or "https"
            path = parts.path.rsplit("/http-bind", 1)[0].rstrip("/")
            return f"{scheme}://{parts.netloc}{path}"
        return f"https://{self.domain}" if self.domain else ""

    def env(self) -> dict[str, str]:
        """The docker-jitsi-meet variables these files amount to (what prosody, web and jicofo run with)."""
        env: dict[str, str] = {}
        if not self.domain:
            return env
        env["XMPP_DOMAIN"] = self.domain
        main = self.main
        authentication = main.authentication if main is not None else ""
        env["ENABLE_AUTH"] = "0" if not authentication or authentication in ANONYMOUS else "1"
        if authentication and authentication not in ANONYMOUS:
            env["AUTH_TYPE"] = AUTH_TYPES.get(authentication, authentication)
        guest = self.hosts.get(self.guest_domain())
        named = self.web is not None and bool(self.web.anonymousdomain)
        env["ENABLE_GUESTS"] = "1" if named or (guest is not None and guest.authentication in ANONYMOUS) else "0"
        env["XMPP_GUEST_DOMAIN"] = self.guest_domain()
        env["XMPP_AUTH_DOMAIN"] = f"auth.{self.domain}"
        env["XMPP_MUC_DOMAIN"] = f"conference.{self.domain}"
        if self.public_url():
            env["PUBLIC_URL"] = self.public_url()
        port = _C2S_PORTS.search(self.prosody.text()) if self.prosody is not None else None
        if port:
            env["C2S_PORT"] = port.group(1)  # prosody's first c2s port (default 5222)
        return env


def read_site(layout: HostLayout) -> Site:
    """Read prosody's config (with its Includes), config.js and jicofo's config, and name the main host."""
    from ldapcheck.jitsi.jicofo import parse_jicofo_auth

    files = layout.prosody_files()
    settings, hosts = files.parsed() if files is not None else ({}, {})
    jicofo = layout.jicofo()
    login_url = ""
    if jicofo is not None:
        login_url = parse_jicofo_auth(jicofo[1]).login_url or _legacy_login_url(jicofo[1])
    web = layout.web_config(prefer=login_url) or _web_for_hosts(layout, hosts)
    domain, source = "", ""
    if web is not None and web.domain:
        domain, source = web.domain, f"hosts.domain in {web.path}"
    elif login_url:
        domain, source = login_url, f"login-url in {jicofo[0] if jicofo else ''}"
    else:
        candidates = [h for h in hosts if h != "localhost" and not h.startswith(_SERVICE_PREFIXES)]
        if len(candidates) == 1:
            domain, source = candidates[0], "the only user VirtualHost in prosody's config"
    return Site(
        layout=layout,
        prosody=files,
        settings=settings,
        hosts=hosts,
        web=web,
        jicofo_path=jicofo[0] if jicofo else "",
        jicofo_text=jicofo[1] if jicofo else "",
        domain=domain,
        domain_source=source,
    )


def _web_for_hosts(layout: HostLayout, hosts: dict[str, ProsodyHost]) -> WebConfig | None:
    for host in hosts:
        conf = layout.web_config(prefer=host)
        if conf is not None and conf.path.endswith(f"/{host}-config.js"):
            return conf
    return None


def _legacy_login_url(text: str) -> str:
    """`org.jitsi.jicofo.auth.URL=XMPP:<host>` or `EXT_JWT:<host>` of sip-communicator.properties."""
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "org.jitsi.jicofo.auth.URL":
            return value.strip().partition(":")[2]
    return ""
