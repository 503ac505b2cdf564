"""What a running lab looks like to tests and tools: URLs, credentials, files, containers, seeded edge cases."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ldapcheck.lab import seed
from ldapcheck.lab.containers import LabPaths
from ldapcheck.lab.spec import PROSODY_CERTS_MOUNT, LabSpec


@dataclass
class LabInfo:
    """The running lab, as tests see it."""

    spec: LabSpec = field(repr=False)
    paths: LabPaths
    ldap_url: str
    ldaps_url: str
    ldap_port: int
    ldaps_port: int
    suffix: str
    users_base: str
    admin_dn: str
    admin_password: str = field(repr=False)
    bind_dn: str = ""
    bind_password: str = field(default="", repr=False)
    ca_cert: Path = Path()
    other_ca_cert: Path = Path()
    ca_cert_in_prosody: str = f"{PROSODY_CERTS_MOUNT}/ca.crt"
    xmpp_domain: str = "meet.jitsi"
    c2s_port: int = 0
    env: dict[str, str] = field(default_factory=dict, repr=False)
    env_file: Path = Path()
    users: dict[str, str] = field(default_factory=dict, repr=False)
    n_users: int = 0
    openldap: Any = None  # docker.models.containers.Container
    prosody: Any = None
    project: str = ""
    special_uid: str = seed.SPECIAL_UID
    dupe_uid: str = seed.DUPE_UID
    nopass_uid: str = seed.NOPASS_UID
    unicode_uid: str = seed.UNICODE_UID
    unicode_name: str = seed.UNICODE_NAME
    at_uid: str = seed.AT_UID
    locked_uid: str = seed.LOCKED_UID
    no_uid_dn: str = ""

    def generated_user(self, index: int) -> tuple[str, str]:
        """(uid, password) of generated user number `index` (1-based)."""
        uid = seed.generated_uid(index, self.n_users)
        return uid, seed.generated_password(uid)

    def secrets(self) -> frozenset[str]:
        return self.spec.secrets()


@dataclass(frozen=True)
class ProsodyInfo:
    """An extra prosody container made by `prosody_factory`."""

    name: str
    c2s_port: int
    xmpp_domain: str
    env: dict[str, str] = field(repr=False)
    saslauthd_conf: Path | None  # host file mounted at /etc/saslauthd.conf (None: rendered from the env at start)
    saslauthd_conf_text: str = field(repr=False, default="")
