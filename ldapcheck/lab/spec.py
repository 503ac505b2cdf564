"""What one lab is: ports, credentials, names, and the docker-jitsi-meet `.env` values that point at it."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field

from ldapcheck.lab.seed import SeedPlan, new_seed_plan

OPENLDAP_IMAGE = "ldapcheck/lab-openldap:latest"
PROSODY_IMAGE = "ldapcheck/lab-prosody:latest"
DEFAULT_SUFFIX = "dc=example,dc=org"
DEFAULT_XMPP_DOMAIN = "meet.jitsi"
DEFAULT_USERS = 1200
LAB_USER = "alice"

# Where the host directories appear inside the containers.
SEED_MOUNT = "/seed"
EXPORT_MOUNT = "/export"
CERTS_MOUNT = "/certs"  # server.crt, server.key, ca.crt given by a test (expired, wrong name …)
PROSODY_CERTS_MOUNT = "/ldapcheck-lab/certs"  # the lab CA inside prosody, for LDAP_TLS_CACERT_FILE cases
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
        """The LDAP block of docker-jitsi-meet's `.env` for this lab (what the prosody container gets)."""
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
        }

    def lab_env(self, ca_cert: str, files: Mapping[str, str] | None = None) -> dict[str, str]:
        """`jitsi_env` plus the LAB_* values the tools, tests and compose/lab.yml use (the 0600 `.env`).

        `files`: extra LAB_* paths (seed dir, certs dir, saslauthd.conf) for compose/lab.yml.
        """
        return {
            **self.jitsi_env(),
            "LAB_USER": LAB_USER,
            "LAB_PASSWORD": self.lab_password,
            "LAB_LDAP_PORT": str(self.ldap_port),
            "LAB_LDAPS_PORT": str(self.ldaps_port),
            "LAB_C2S_PORT": str(self.c2s_port),
            "LAB_LDAPS_URL": self.ldaps_url,
            "LAB_CA_CERT": ca_cert,
            "LAB_ADMIN_DN": self.admin_dn,
            "LAB_ADMIN_PASSWORD": self.admin_password,
            "LAB_PROJECT": self.project,
            **(files or {}),
        }

    def secrets(self) -> frozenset[str]:
        """Every secret of this lab, for `Report.secrets` and for tests that prove nothing leaks."""
        return frozenset({self.admin_password, self.bind_password, *self.seed.passwords.values()})


def new_spec(project: str, n_users: int = DEFAULT_USERS, *, suffix: str = DEFAULT_SUFFIX) -> LabSpec:
    """A fresh lab: three distinct free ports on 127.0.0.1 and new random passwords."""
    ports: list[int] = []
    for _ in range(3):
        ports.append(free_port(exclude=frozenset(ports)))
    return LabSpec(
        project=project,
        ldap_port=ports[0],
        ldaps_port=ports[1],
        c2s_port=ports[2],
        admin_password=secrets.token_urlsafe(18),
        bind_password=secrets.token_urlsafe(18),
        seed=new_seed_plan(suffix, n_users),
    )
