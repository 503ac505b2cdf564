"""`ldapcheck count`: reach the server, bind as saslauthd does, check the base, count the users (paged)."""

from __future__ import annotations

from collections.abc import Callable

from ldapcheck.auth.ldap import chain
from ldapcheck.commands.source import LdapSource, load_settings
from ldapcheck.core.model import Report


def count(source: LdapSource, *, page_size: int, progress: Callable[[int], None] | None = None) -> Report:
    """The count report (a server size limit is a truncated count, never a total)."""
    settings = load_settings(source)
    options = chain.ChainOptions(page_size=page_size, wire=True)
    return chain.run_chain("count", chain.count_steps, settings, options, progress=progress)
