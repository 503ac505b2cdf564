"""The secret `.env` keys of every registered auth mode, and any key named like a secret: values masked everywhere."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ldapcheck.auth import modes
from ldapcheck.core.secrets import remember


def secret_keys() -> frozenset[str]:
    """LDAP_BINDPW, JWT_APP_SECRET, ...: the union of the modes' `secret_keys`."""
    return frozenset(k for m in modes().values() for k in m.secret_keys)


# docker-jitsi-meet's .env holds more secrets than any auth mode reads (JICOFO_AUTH_PASSWORD, JVB_AUTH_PASSWORD,
# the lab's LAB_ADMIN_PASSWORD, ...): a key named like a secret is one.
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|_PW$|PWD$|SECRET|TOKEN|PRIVATE_KEY", re.IGNORECASE)


def env_secrets(env: Mapping[str, str] | None) -> set[str]:
    """The secret values in `env` (a `.env` or a container's environment); remembered for --debug output."""
    if not env:
        return set()
    keys = secret_keys()
    found = {v for k, v in env.items() if v and (k in keys or _SECRET_NAME.search(k))}
    remember(*found)
    return found
