"""The lab's state file: what `lab up` made, so that `status` and `down` find it again (no secrets inside)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from ldapcheck.lab.containers import write_private

STATE_NAME = "state.json"


def lab_root() -> Path:
    """LDAPCHECK_LAB_DIR, else $XDG_STATE_HOME/ldapcheck/lab, else ~/.local/state/ldapcheck/lab."""
    override = os.environ.get("LDAPCHECK_LAB_DIR")
    if override:
        return Path(override)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "ldapcheck" / "lab"


@dataclass(frozen=True)
class LabState:
    project: str
    openldap_id: str
    prosody_id: str
    openldap_name: str
    prosody_name: str
    ldap_port: int
    ldaps_port: int
    c2s_port: int
    xmpp_domain: str
    suffix: str
    n_users: int
    env_file: str
    ca_cert: str
    root: str
    auth: str = "ldap"
    guests: bool = False
    http_port: int = 0  # prosody's BOSH/WebSocket listener
    web_port: int = 0
    web_id: str = ""
    web_name: str = ""
    jicofo_id: str = ""
    jicofo_name: str = ""
    deployment: str = "docker"  # "host": one Debian-package Jitsi host container (role host) instead of prosody/web
    host_id: str = ""
    host_name: str = ""

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}" if self.web_port else ""

    def containers(self) -> dict[str, tuple[str, str]]:
        """role → (container id, name) of what `lab up` started (openldap only in LDAP mode)."""
        roles = {
            "openldap": (self.openldap_id, self.openldap_name),
            "prosody": (self.prosody_id, self.prosody_name),
            "web": (self.web_id, self.web_name),
            "jicofo": (self.jicofo_id, self.jicofo_name),
            "host": (self.host_id, self.host_name),
        }
        return {role: ids for role, ids in roles.items() if ids[0]}

    def ports(self) -> dict[str, dict[str, int]]:
        """role → {listener: port on 127.0.0.1}."""
        found = {
            "openldap": {"ldap": self.ldap_port, "ldaps": self.ldaps_port} if self.auth == "ldap" else {},
            "prosody": {"c2s": self.c2s_port, **({"http": self.http_port} if self.http_port else {})},
            "web": {"http": self.web_port} if self.web_port else {},
            "jicofo": {},
            # the host's prosody (c2s, BOSH/WebSocket) and its nginx (PUBLIC_URL)
            "host": {"c2s": self.c2s_port, "prosody_http": self.http_port, "nginx": self.web_port},
        }
        return {role: found[role] for role in self.containers()}


def load_state(root: Path) -> LabState | None:
    path = root / STATE_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return LabState(**data)
    except FileNotFoundError:
        return None
    except (ValueError, TypeError):
        return None  # unreadable state: treat as no lab; `down` still removes containers by label


def save_state(root: Path, state: LabState) -> None:
    write_private(root / STATE_NAME, json.dumps(asdict(state), indent=2) + "\n")


def clear_state(root: Path) -> None:
    (root / STATE_NAME).unlink(missing_ok=True)
