"""What one lab is: ports, credentials, names, and the docker-jitsi-meet `.env` values that point at it."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field

from ldapcheck.lab.seed import SeedPlan, new_seed_plan

OPENLDAP_IMAGE = "ldapcheck/lab-openldap:latest"
PROSODY_IMAGE = "ldapcheck/lab-prosody:latest"
WEB_IMAGE = "ldapcheck/lab-web:latest"
JICOFO_IMAGE = "ldapcheck/lab-jicofo:latest"
DEBIAN_HOST_IMAGE = "ldapcheck/lab-debian-host:latest"
DEFAULT_SUFFIX = "dc=example,dc=org"
DEFAULT_XMPP_DOMAIN = "meet.jitsi"
DEFAULT_USERS = 1200
LAB_USER = "alice"
AUTH_MODES = ("ldap", "internal", "jwt")  # what `lab up --auth` runs for real
DEPLOYMENTS = ("docker", "host")  # docker-jitsi-meet containers, or one Debian-package Jitsi host (a container)
# A Debian-package host is named by its FQDN (the guides' example name), not docker-jitsi-meet's meet.jitsi.
HOST_XMPP_DOMAIN = "jitsi-meet.example.com"

# Where the host directories appear inside the containers.
SEED_MOUNT = "/seed"
EXPORT_MOUNT = "/export"
CERTS_MOUNT = "/certs"  # server.crt, server.key, ca.crt given by a test (expired, wrong name …)
PROSODY_CERTS_MOUNT = "/ldapcheck-lab/certs"  # the lab CA inside prosody, for LDAP_TLS_CACERT_FILE cases
JWT_APP_ID = "ldapcheck-lab"  # the lab's JWT_APP_ID (--auth jwt): the iss of its tokens
SASLAUTHD_CONF_MOUNT = "/etc/saslauthd.conf"  # upstream's escape hatch: used instead of rendering the template


def free_port(host: str = "127.0.0.1", exclude: frozenset[int] = frozenset()) -> int:
    """A TCP port nobody listens on right now on `host` (the kernel picks it)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        if port not in exclude:
            return port


@dataclass(frozen=True)
class LabSpec:
    """Everything needed to start (or find) one lab. Passwords are random per lab."""

    project: str
    ldap_port: int
    ldaps_port: int
    c2s_port: int
    admin_password: str = field(repr=False)
    bind_password: str = field(repr=False)
    seed: SeedPlan = field(repr=False)
    xmpp_domain: str = DEFAULT_XMPP_DOMAIN
    auth: str = "ldap"  # AUTH_TYPE: "ldap" (OpenLDAP → saslauthd → prosody) or "internal" (prosody's own accounts)
    guests: bool = False  # ENABLE_GUESTS: the anonymous guest host
    http_port: int = 0  # prosody's BOSH/WebSocket port (0: none, as in the test fixtures' LDAP-only lab)
    web_port: int = 0  # the web container's nginx (0: no web container)
    jwt_secret: str = field(default="", repr=False)  # JWT_APP_SECRET (--auth jwt), generated per lab
    deployment: str = "docker"  # "host": one Debian-package Jitsi host container instead of the compose services
    focus_password: str = field(default="", repr=False)  # the host's jicofo account (focus@auth.<domain>)

    @property
    def guest_domain(self) -> str:
        return f"guest.{self.xmpp_domain}"

    @property
    def auth_domain(self) -> str:
        return f"auth.{self.xmpp_domain}"

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}" if self.web_port else ""

    @property
    def uses_ldap(self) -> bool:
        return self.auth == "ldap"

    @property
    def suffix(self) -> str:
        return self.seed.suffix

    @property
    def n_users(self) -> int:
        return self.seed.n_users

    @property
    def users_base(self) -> str:
        return self.seed.users_base

    @property
    def admin_dn(self) -> str:
        return f"cn=admin,{self.suffix}"

    @property
    def bind_dn(self) -> str:
        return f"cn=saslauthd,ou=services,{self.suffix}"

    @property
    def ldap_url(self) -> str:
        return f"ldap://127.0.0.1:{self.ldap_port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.ldaps_port}"

    @property
    def users(self) -> dict[str, str]:
        """Login → password for the named users."""
        return dict(self.seed.passwords)

    @property
    def lab_password(self) -> str:
        return self.seed.passwords[LAB_USER]

    def jitsi_env(self) -> dict[str, str]:
        """docker-jitsi-meet's `.env` auth block for this lab's mode (what the prosody container gets)."""
        guests = {"ENABLE_GUESTS": "1", "XMPP_GUEST_DOMAIN": self.guest_domain} if self.guests else {}
        if self.auth == "jwt":
            return {
                "ENABLE_AUTH": "1",
                "AUTH_TYPE": "jwt",
                "XMPP_DOMAIN": self.xmpp_domain,
                "JWT_APP_ID": JWT_APP_ID,
                "JWT_APP_SECRET": self.jwt_secret,
                **({"TOKEN_AUTH_URL": f"{self.public_url}/token?room={{room}}"} if self.web_port else {}),
                **guests,
            }
        if not self.uses_ldap:
            return {"ENABLE_AUTH": "1", "AUTH_TYPE": self.auth, "XMPP_DOMAIN": self.xmpp_domain, **guests}
        return {
            "ENABLE_AUTH": "1",
            "AUTH_TYPE": "ldap",
            "XMPP_DOMAIN": self.xmpp_domain,
            "LDAP_URL": self.ldap_url,
            "LDAP_BASE": self.suffix,
            "LDAP_BINDDN": self.bind_dn,
            "LDAP_BINDPW": self.bind_password,
            "LDAP_FILTER": "(uid=%u)",
            "LDAP_VERSION": "3",
            "LDAP_AUTH_METHOD": "bind",
            "LDAP_USE_TLS": "0",
            "LDAP_START_TLS": "0",
            **guests,
        }

    def lab_env(self, ca_cert: str, files: Mapping[str, str] | None = None) -> dict[str, str]:
        """`jitsi_env` plus the LAB_* values the tools, tests and compose/lab.yml use (the 0600 `.env`).

        `files`: extra LAB_* paths (seed dir, certs dir, saslauthd.conf) for compose/lab.yml.
        """
        ldap = (
            {
                "LAB_LDAP_PORT": str(self.ldap_port),
                "LAB_LDAPS_PORT": str(self.ldaps_port),
                "LAB_LDAPS_URL": self.ldaps_url,
                "LAB_CA_CERT": ca_cert,
                "LAB_ADMIN_DN": self.admin_dn,
                "LAB_ADMIN_PASSWORD": self.admin_password,
            }
            if self.uses_ldap
            else {}
        )
        web = {"PUBLIC_URL": self.public_url, "LAB_WEB_PORT": str(self.web_port)} if self.web_port else {}
        http = {"LAB_HTTP_PORT": str(self.http_port)} if self.http_port else {}
        host = {"LAB_DEPLOYMENT": "host"} if self.deployment == "host" else {}
        return {
            **self.jitsi_env(),
            **web,
            "LAB_AUTH": self.auth,
            "LAB_USER": LAB_USER,
            "LAB_PASSWORD": self.lab_password,
            **ldap,
            "LAB_C2S_PORT": str(self.c2s_port),
            **http,
            "LAB_PROJECT": self.project,
            **host,
            **(files or {}),
        }

    def secrets(self) -> frozenset[str]:
        """Every secret of this lab, for `Report.secrets` and for tests that prove nothing leaks."""
        found = {self.admin_password, self.bind_password, *self.seed.passwords.values()}
        found |= {secret for secret in (self.jwt_secret, self.focus_password) if secret}
        return frozenset(found)


def new_spec(
    project: str,
    n_users: int = DEFAULT_USERS,
    *,
    suffix: str = DEFAULT_SUFFIX,
    auth: str = "ldap",
    guests: bool = False,
    web: bool = False,
    deployment: str = "docker",
) -> LabSpec:
    """A fresh lab: distinct free ports on 127.0.0.1 and new random passwords.

    `web`: also ports for prosody's BOSH/WebSocket listener and the web container's nginx (a host always has them).
    `deployment="host"`: one Debian-package Jitsi host named HOST_XMPP_DOMAIN, with a jicofo account.
    """
    if auth not in AUTH_MODES:
        raise ValueError(f"the lab runs AUTH_TYPE {' or '.join(AUTH_MODES)}, not {auth!r}")
    if deployment not in DEPLOYMENTS:
        raise ValueError(f"the lab runs deployment {' or '.join(DEPLOYMENTS)}, not {deployment!r}")
    host = deployment == "host"
    web = web or host
    ports: list[int] = []
    for _ in range(5 if web else 3):
        ports.append(free_port(exclude=frozenset(ports)))
    return LabSpec(
        project=project,
        ldap_port=ports[0],
        ldaps_port=ports[1],
        c2s_port=ports[2],
        admin_password=secrets.token_urlsafe(18),
        bind_password=secrets.token_urlsafe(18),
        seed=new_seed_plan(suffix, n_users),
        auth=auth,
        guests=guests,
        http_port=ports[3] if web else 0,
        web_port=ports[4] if web else 0,
        jwt_secret=secrets.token_hex(32) if auth == "jwt" else "",
        xmpp_domain=HOST_XMPP_DOMAIN if host else DEFAULT_XMPP_DOMAIN,
        deployment=deployment,
        focus_password=secrets.token_urlsafe(12) if host else "",
    )
