"""LDAP lint rule for characters saslauthd drops or keeps in saslauthd.conf (it is line based).

Its messages never quote a value (LDAP_BINDPW is among the keys): they name the character class only.
"""

from __future__ import annotations

from collections.abc import Iterator

from ldapcheck.core import catalogue as ids
from ldapcheck.jitsi.env.parse import EnvEntry
from ldapcheck.jitsi.lint.model import Finding, LintContext, Severity

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

# The variables whose values saslauthd.conf receives as free text.
TEXT_KEYS = (
    "LDAP_URL",
    "LDAP_BASE",
    "LDAP_BINDDN",
    "LDAP_BINDPW",
    "LDAP_FILTER",
    "LDAP_TLS_CIPHERS",
    "LDAP_TLS_CACERT_FILE",
    "LDAP_TLS_CACERT_DIR",
)
SECRET_KEYS = frozenset({"LDAP_BINDPW"})


def _entries(ctx: LintContext) -> Iterator[EnvEntry]:
    for key in TEXT_KEYS:
        entry = ctx.env.entry(key)
        if entry is not None and not entry.inherited:
            yield entry


def rule_saslauthd_chars(ctx: LintContext) -> Iterator[Finding]:
    """saslauthd.conf is line based, skips leading whitespace and keeps everything else (§3.8)."""
    for e in _entries(ctx):
        secret = e.key in SECRET_KEYS
        value = e.value
        if not value:
            continue
        if "\n" in value or "\r" in value:
            yield ctx.finding(
                ids.LINT_LINE_BREAK,
                E,
                e.key,
                f"{e.key} contains a line break: saslauthd.conf is line based, so the value is cut there "
                "and the rest becomes an invalid line that fails the whole configuration",
                f"remove the line break from {e.key}",
            )
        if value[0] in " \t":
            yield ctx.finding(
                ids.LINT_LEADING_SPACE,
                E if secret else W,
                e.key,
                f"{e.key} starts with whitespace: saslauthd skips whitespace after the ':' so it uses the "
                "value without it" + (" (the service bind then fails)" if secret else ""),
                "remove the leading whitespace"
                + (" and change the account's password if it really starts with a space" if secret else ""),
            )
        if value[-1] in " \t":
            yield ctx.finding(
                ids.LINT_TRAILING_SPACE,
                W,
                e.key,
                f"{e.key} ends with whitespace inside quotes: saslauthd keeps it as part of the value",
                "remove the trailing whitespace unless it really belongs to the value",
            )
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            yield ctx.finding(
                ids.SA_QUOTES,
                W,
                e.key,
                f"{e.key} still has quotes around it after Compose read the file (nested quotes): "
                "saslauthd takes them literally",
                "use one pair of quotes: KEY='value'",
            )
