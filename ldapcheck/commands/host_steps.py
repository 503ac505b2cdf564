"""Which steps run on a Jitsi installed from Debian packages: the host's own first, then the docker kind's steps
that mean the same on a host. Used by both diagnose chains on a host (LDAP and the Jitsi modes).
"""

from __future__ import annotations

from typing import Any

from ldapcheck.auth.jwt import debian as jwt_debian
from ldapcheck.auth.ldap import debian as ldap_debian
from ldapcheck.core.step import Step
from ldapcheck.jitsi.container.steps import FIND, GENERATION
from ldapcheck.jitsi.deploy import steps as host_steps

# Container steps with no meaning on a package install: the env drift (no .env), saslauthd.conf vs the image's
# template (the host's file is the config), and the second LDAP chain "from inside" (this host is inside).
_NOT_ON_A_HOST = ("container.env_drift", "container.saslauthd_conf", "container.ldap_chain", "container.net[")


def head(mode: str) -> list[Step[Any]]:
    """The host's own steps for `mode`, before the steps it shares with the docker kind."""
    services = ("prosody", "saslauthd") if mode == "ldap" else ("prosody",)
    own = ldap_debian.steps() if mode == "ldap" else jwt_debian.steps() if mode == "jwt" else []
    return [*host_steps.head_steps(services), *own]


def shared_container_steps(steps: list[Step[Any]]) -> list[Step[Any]]:
    """The docker kind's steps that mean the same on a host (its own find/generation replaced by the host's)."""
    return [s for s in steps if s.id not in (FIND, GENERATION) and not any(s.id.startswith(p) for p in _NOT_ON_A_HOST)]
