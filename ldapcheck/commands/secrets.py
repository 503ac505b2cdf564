"""The secret `.env` keys of every registered auth mode: their values are masked in every report."""

from __future__ import annotations

from collections.abc import Mapping

from ldapcheck.auth import modes
from ldapcheck.core.secrets import remember


def secret_keys() -> frozenset[str]:
    """LDAP_BINDPW, JWT_APP_SECRET, ...: the union of the modes' `secret_keys`."""
    return frozenset(k for m in modes().values() for k in m.secret_keys)


def env_secrets(env: Mapping[str, str] | None) -> set[str]:
    """The values of those keys in `env` (a `.env` or a container's environment); remembered for --debug output."""
    found = {env[k] for k in secret_keys() if env and env.get(k)}
    remember(*found)
    return found
