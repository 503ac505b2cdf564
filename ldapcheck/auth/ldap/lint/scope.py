"""Whether a file means LDAP at all, and whether the template renders its block: what every LDAP rule asks first.

Its own module so that the gate rules and the value rules both build on it without importing each other.
"""

from __future__ import annotations

from ldapcheck.auth.ldap.render import TEMPLATE_VARIABLES
from ldapcheck.jitsi.lint.model import LintContext
from ldapcheck.jitsi.modes import auth_modes

LDAP_KEYS = tuple(k for k in TEMPLATE_VARIABLES if k.startswith("LDAP_"))


def ldap_in_use(ctx: LintContext) -> bool:
    """Whether the file means to use LDAP at all (otherwise the LDAP rules stay quiet)."""
    return auth_modes(ctx.values).requested("ldap") or any(ctx.values.get(k) for k in LDAP_KEYS)


def ldap_on(ctx: LintContext) -> bool:
    """Whether the template renders the ldap block (effective PROSODY_AUTH_TYPE == "ldap")."""
    return auth_modes(ctx.values).prosody_auth_type == "ldap"
