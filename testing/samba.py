"""Samba as an Active Directory DC for the AD tests: image, container settings, seeded accounts, readiness."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from ldapcheck.core.errors import LdapCheckError
from ldapcheck.lab.engine import docker_client
from ldapcheck.lab.images import EXTRA_IMAGES, _is_current, base_image, build_image, pinned

SAMBA_AD_IMAGE = next(iter(EXTRA_IMAGES))
# Samba's AD LDAP server has no port setting: it always listens on 389 (and 636) of the loopback interface.
SAMBA_LDAP_PORT = 389
REALM = "AD.LDAPCHECK.TEST"
DOMAIN = "ADLAB"
BASE_DN = "DC=ad,DC=ldapcheck,DC=test"
USERS_OU = f"OU=Jitsi,{BASE_DN}"
SERVICE_DN = f"CN=svc-jitsi,OU=Services,{BASE_DN}"
# The seed of compose/samba-ad/entrypoint.sh (all in OU=Jitsi, one password).
ACTIVE_USERS = ("alice", "bob", "o.brien-x_1")
DISABLED_USERS = ("disabled",)
MUST_CHANGE_USERS = ("mustchange",)
EXPIRED_USERS = ("expired",)
LOCKED_USERS = ("locked",)


def _password() -> str:
    return f"Lc-{secrets.token_urlsafe(12)}-9x"  # meets AD complexity: upper, lower, digit, symbol


@dataclass(frozen=True)
class SambaSpec:
    """Passwords and settings of one Samba AD container."""

    admin_password: str = field(default_factory=_password, repr=False)
    service_password: str = field(default_factory=_password, repr=False)
    user_password: str = field(default_factory=_password, repr=False)
    require_strong_auth: bool = False

    @property
    def ldap_url(self) -> str:
        return f"ldap://127.0.0.1:{SAMBA_LDAP_PORT}"

    def environment(self) -> dict[str, str]:
        return {
            "SAMBA_REALM": REALM,
            "SAMBA_DOMAIN": DOMAIN,
            "SAMBA_ADMIN_PASSWORD": self.admin_password,
            "SAMBA_SERVICE_PASSWORD": self.service_password,
            "SAMBA_USER_PASSWORD": self.user_password,
            "SAMBA_REQUIRE_STRONG_AUTH": "yes" if self.require_strong_auth else "no",
        }

    def jitsi_env(self) -> dict[str, str]:
        """docker-jitsi-meet's LDAP block as an AD admin would write it (upstream's default uid filter)."""
        return {
            "ENABLE_AUTH": "1",
            "AUTH_TYPE": "ldap",
            "XMPP_DOMAIN": "meet.jitsi",
            "LDAP_URL": self.ldap_url,
            "LDAP_BASE": USERS_OU,
            "LDAP_BINDDN": SERVICE_DN,
            "LDAP_BINDPW": self.service_password,
            "LDAP_FILTER": "(sAMAccountName=%u)",
            "LDAP_VERSION": "3",
            "LDAP_AUTH_METHOD": "bind",
            "LDAP_USE_TLS": "0",
            "LDAP_START_TLS": "0",
        }


def ensure_samba_image() -> str:
    """Build ldapcheck/lab-samba-ad from compose/samba-ad when missing or stale; returns the image name."""
    client = docker_client()
    if not _is_current(client, SAMBA_AD_IMAGE):
        build_image(client, SAMBA_AD_IMAGE, base_image(client))
    return pinned(SAMBA_AD_IMAGE)


def refuse_busy_port() -> None:
    """Samba cannot move off 389: say so plainly instead of timing out when another server holds the port."""
    import socket

    with socket.socket() as sock:
        sock.settimeout(1)
        if sock.connect_ex(("127.0.0.1", SAMBA_LDAP_PORT)) == 0:
            raise LdapCheckError(
                f"127.0.0.1:{SAMBA_LDAP_PORT} is already in use (another Samba or LDAP server); "
                "Samba's AD LDAP server cannot listen elsewhere. Stop that server first."
            )


def wait_for_samba(spec: SambaSpec, container: Any, timeout: float = 90.0) -> None:
    """Poll until the service account binds (provisioning takes ~10 s); fail early if the container died."""
    import ldap3

    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            server = ldap3.Server("127.0.0.1", port=SAMBA_LDAP_PORT, connect_timeout=2)
            conn = ldap3.Connection(server, SERVICE_DN, spec.service_password, receive_timeout=5)
            if conn.bind():
                conn.unbind()
                return
            last = str(conn.result.get("message"))
        except Exception as exc:  # still starting: refused/reset
            last = str(exc)
        container.reload()
        if container.status != "running":
            break
        time.sleep(0.3)
    logs = container.logs(tail=30).decode(errors="replace")
    raise TimeoutError(f"Samba AD did not accept the service bind ({last}); last log lines:\n{logs}")
