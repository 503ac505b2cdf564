"""`ldapcheck user LOGIN`: one login, as saslauthd handles it (filter expansion, entries, state, password)."""

from __future__ import annotations

from ldapcheck.auth.ldap import chain
from ldapcheck.commands.source import LdapSource, load_settings
from ldapcheck.core.model import Report
from ldapcheck.core.secrets import Secret


def user(source: LdapSource, login: str, password: Secret | None) -> Report:
    """The report for one login; without a password the bind is not tried."""
    settings = load_settings(source)
    options = chain.ChainOptions(user=login, password=password, bind_user=password is not None)
    return chain.run_chain("user", chain.user_steps, settings, options)
