"""LDAP through saslauthd (`AUTH_TYPE=ldap`): what this mode provides to the commands (see `auth.base.AuthMode`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ldapcheck.auth.ldap import verdict
from ldapcheck.auth.ldap.lint import RULES as LINT_RULES
from ldapcheck.auth.ldap.lint.chars import SECRET_KEYS, TEXT_KEYS
from ldapcheck.auth.ldap.render import TEMPLATE_VARIABLES
from ldapcheck.core.verdict import Rule
from ldapcheck.jitsi.lint.model import LintRule


@dataclass(frozen=True)
class LdapMode:
    """The LDAP mode's registry entry."""

    name: str = "ldap"
    # ENABLE_AUTH and the variables saslauthd.conf is rendered from: a difference means a stale container.
    env_keys: Sequence[str] = ("ENABLE_AUTH", *TEMPLATE_VARIABLES)
    text_keys: Sequence[str] = TEXT_KEYS
    secret_keys: frozenset[str] = SECRET_KEYS
    identifying_keys: Sequence[str] = ("LDAP_URL", "LDAP_BASE", "LDAP_BINDDN", "XMPP_DOMAIN")
    prosody_authentication: str = "cyrus"
    lint_rules: Sequence[LintRule] = LINT_RULES
    verdict_rules: Sequence[Rule] = verdict.RULES


MODE = LdapMode()
