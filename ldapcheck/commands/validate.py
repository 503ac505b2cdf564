"""`ldapcheck validate`: directory-wide checks before a rollout, as saslauthd's service account sees it."""

from __future__ import annotations

from collections.abc import Callable

from ldapcheck.auth.ldap.validate import ValidateOptions, run_validate
from ldapcheck.commands.source import LdapSource, load_settings
from ldapcheck.core.model import Report


def validate(source: LdapSource, options: ValidateOptions, *, progress: Callable[[int], None] | None = None) -> Report:
    """The validate report: counts, duplicates, logins Jitsi cannot use, account states, security findings."""
    return run_validate(load_settings(source), options, progress=progress)
