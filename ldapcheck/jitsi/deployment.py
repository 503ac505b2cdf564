"""The whole docker-jitsi-meet deployment around prosody, for the steps every auth mode shares: the `.env` it was
given, the web and jicofo containers of prosody's compose project, the public URL, and the login to try.

`JitsiView` is the runner context of the shared Jitsi steps (jitsi/web.py, jitsi/jicofo.py, jitsi/login.py)
and of a mode's own container steps (auth/internal): it wraps the prosody `ContainerSession` and finds the
sibling containers by their compose label (`com.docker.compose.service=web|jicofo`, the lab sets the same).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ldapcheck.adapters import docker as dockeradapter
from ldapcheck.core.secrets import Secret
from ldapcheck.jitsi import modes
from ldapcheck.jitsi.container.session import ContainerSession
from ldapcheck.jitsi.prosody import ProsodyHost, parse_prosody_hosts

# The variables prosody, jicofo and web must agree on (auth-modes.md §4.1 ENV-SPLIT).
SHARED_KEYS = (
    "ENABLE_AUTH",
    "ENABLE_GUESTS",
    "AUTH_TYPE",
    "XMPP_DOMAIN",
    "XMPP_AUTH_DOMAIN",
    "XMPP_GUEST_DOMAIN",
    "XMPP_MUC_DOMAIN",
)
# Which of them each service reads (web has no AUTH_TYPE; jicofo no guest domain): auth-modes.md §1.1.
READ_BY = {
    "prosody": SHARED_KEYS,
    "jicofo": ("ENABLE_AUTH", "AUTH_TYPE", "XMPP_DOMAIN", "XMPP_AUTH_DOMAIN", "XMPP_MUC_DOMAIN"),
    "web": ("ENABLE_AUTH", "ENABLE_GUESTS", "XMPP_DOMAIN", "XMPP_GUEST_DOMAIN", "XMPP_MUC_DOMAIN"),
}
DEFAULTS = {
    "ENABLE_AUTH": "0",
    "ENABLE_GUESTS": "0",
    "AUTH_TYPE": "internal",
    "XMPP_DOMAIN": "meet.jitsi",
    "XMPP_AUTH_DOMAIN": "auth.meet.jitsi",
    "XMPP_GUEST_DOMAIN": "guest.meet.jitsi",
    "XMPP_MUC_DOMAIN": "muc.meet.jitsi",
}


@dataclass
class JitsiView:
    """Runner context: the prosody session, the operator's `.env`, the login to try (one password attempt)."""

    session: ContainerSession
    expected_env: Mapping[str, str] | None = None
    login: str | None = None
    password: Secret | None = None
    token: Secret | None = None  # a JWT to log in with (jwt mode), never shown
    room: str | None = None  # the room the token is for (as typed in the URL)
    timeout: float = 5.0
    inspect: bool = True  # False with --no-container: the containers are not looked at
    # True: the web steps (config.js, BOSH, WebSocket) need the web container of prosody's project and are
    # "not checked" without it, rather than trusting PUBLIC_URL alone (the LDAP path: a prosody without web).
    web_required: bool = False
    values: dict[str, object] = field(default_factory=dict)
    _siblings: dict[str, Any] = field(default_factory=dict, repr=False)

    # --- the deployment's switches ---------------------------------------------------------------
    def env(self) -> Mapping[str, str]:
        """What prosody runs with (its container env when found, else the .env)."""
        if self.inspect:
            with contextlib.suppress(Exception):
                return self.session.env()
        return self.expected_env or {}

    def value(self, key: str) -> str:
        """A shared variable as prosody sees it, with docker-jitsi-meet's default."""
        return self.env().get(key) or DEFAULTS.get(key, "")

    @property
    def domain(self) -> str:
        return self.value("XMPP_DOMAIN")

    @property
    def guest_domain(self) -> str:
        return self.value("XMPP_GUEST_DOMAIN")

    def switches(self) -> modes.AuthModes:
        return modes.auth_modes(self.env())

    def public_url(self) -> str:
        """PUBLIC_URL from the .env, else web's environment ("" when neither has it)."""
        url = (self.expected_env or {}).get("PUBLIC_URL") or ""
        if not url and self.session.kind == "host":
            url = self.env().get("PUBLIC_URL", "")
        if not url:
            web = self.sibling("web")
            if web is not None:
                url = dockeradapter.container_env(web).get("PUBLIC_URL", "")
        return url.rstrip("/")

    def web_missing(self) -> str | None:
        """Why the web steps are not checked (None when they can run): web_required and no web container found."""
        if self.web_required and self.inspect and self.session.kind == "docker" and self.sibling("web") is None:
            return "not checked: no web container (compose service web) in prosody's project"
        return None

    # --- prosody's rendered config ---------------------------------------------------------------
    def prosody_config(self) -> tuple[str, dict[str, str], dict[str, ProsodyHost]] | None:
        """(path, global settings, VirtualHosts) of the config prosody runs with (conf.d included); None if none."""
        found = self.session.prosody_files()
        if found is None:
            return None
        path, _included, text = found
        glob, hosts = parse_prosody_hosts(text)
        return path, glob, hosts

    # --- the sibling containers ------------------------------------------------------------------
    def sibling(self, service: str) -> Any:
        """The running container of compose service `service` in prosody's project (None when there is none)."""
        if not self.inspect or self.session.kind != "docker":
            return None  # a host deployment has its services' files here, not sibling containers
        if service not in self._siblings:
            self._siblings[service] = _find_sibling(self.session, service)
        return self._siblings[service]


def _find_sibling(session: ContainerSession, service: str) -> Any:
    try:
        prosody = session.require_container()
    except Exception:
        return None
    labels = dockeradapter.compose_labels(prosody)
    project = labels.get(dockeradapter.COMPOSE_PROJECT_LABEL)
    if not project:
        return None
    client = prosody.client
    if client is None:
        return None
    try:
        found = client.containers.list(
            filters={
                "label": [
                    f"{dockeradapter.COMPOSE_SERVICE_LABEL}={service}",
                    f"{dockeradapter.COMPOSE_PROJECT_LABEL}={project}",
                ]
            }
        )
    except Exception:
        return None
    return found[0] if found else None
