"""LDAP through saslauthd (`AUTH_TYPE=ldap`): what this mode provides to the commands (see `auth.base.AuthMode`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ldapcheck.auth.ldap import verdict
from ldapcheck.auth.ldap.lint.chars import SECRET_KEYS, TEXT_KEYS
from ldapcheck.auth.ldap.lint.rules import RULES as LINT_RULES
from ldapcheck.auth.ldap.render import TEMPLATE_VARIABLES
from ldapcheck.core.verdict import Rule
from ldapcheck.jitsi.lint.model import LintRule

if TYPE_CHECKING:
    from ldapcheck.auth.ldap.container.view import SaslauthdView
    from ldapcheck.auth.ldap.host.context import ChainOptions, HostContext
    from ldapcheck.auth.ldap.settings import Settings
    from ldapcheck.core.step import Step


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

    def settings(self, env: Mapping[str, str]) -> Settings:
        """`Settings` with the template's defaults and boolean rules (`auth.ldap.settings.from_env`)."""
        from ldapcheck.auth.ldap.settings import from_env

        return from_env(env)

    def host_steps(self, settings: Settings, options: ChainOptions) -> list[Step[HostContext]]:
        """Every host step of `ldapcheck diagnose`, in saslauthd's order (`auth.ldap.chain.diagnose_steps`)."""
        from ldapcheck.auth.ldap.chain import diagnose_steps

        return diagnose_steps(settings, options)

    def container_steps(self, servers: Sequence[tuple[str, int]] = ()) -> list[Step[SaslauthdView]]:
        """The container chain (`auth.ldap.container.steps.container_steps`)."""
        from ldapcheck.auth.ldap.container.steps import container_steps

        return container_steps(servers)


MODE = LdapMode()
