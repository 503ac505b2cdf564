"""LDAP lint rules: is LDAP meant at all, the AUTH_TYPE gate, required values and the bind account.

Facts behind them: upstream's shell gate `[[ "$AUTH_TYPE" == "ldap" ]]`, tpl's default/toBool, and how saslauthd
parses saslauthd.conf (a line without a value fails the whole configuration).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ldapcheck.auth.ldap.lint.scope import ldap_in_use, ldap_on
from ldapcheck.core import catalogue as ids
from ldapcheck.jitsi.lint.model import Finding, LintContext, Severity, values_context
from ldapcheck.jitsi.lint.rules import rule_enable_auth

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


def rule_ldap_off(ctx: LintContext) -> Iterator[Finding]:
    """Say so when the file does not configure LDAP at all."""
    if not ldap_in_use(ctx):
        yield ctx.finding(
            ids.LINT_LDAP_OFF,
            INFO,
            "AUTH_TYPE" if "AUTH_TYPE" in ctx.values else None,
            "no LDAP configuration: AUTH_TYPE is not ldap and no LDAP_* variable is set",
            "run `ldapcheck env generate --write .env` to add an LDAP block",
        )


def rule_auth_type(ctx: LintContext) -> Iterator[Finding]:
    """AUTH_TYPE must be exactly `ldap`; PROSODY_AUTH_TYPE must agree with it (JM-AUTH-TYPE)."""
    if not ldap_in_use(ctx):
        return
    v = ctx.values
    auth = v.get("AUTH_TYPE")
    prosody_raw = v.get("PROSODY_AUTH_TYPE")
    prosody = prosody_raw or auth or "internal"
    hint = "set AUTH_TYPE=ldap (lower case, no quotes or spaces) and leave PROSODY_AUTH_TYPE unset, then recreate"
    if auth is not None and auth != "ldap" and auth.strip().strip("'\"").lower() == "ldap":
        yield ctx.finding(
            ids.JM_AUTH_TYPE,
            E,
            "AUTH_TYPE",
            f"AUTH_TYPE is {auth!r}, not exactly 'ldap': the container's gate is case- and byte-exact, "
            "so saslauthd.conf is not written and saslauthd does not start",
            hint,
        )
    elif auth != "ldap" and prosody == "ldap":
        yield ctx.finding(
            ids.JM_AUTH_TYPE,
            E,
            "PROSODY_AUTH_TYPE",
            f"PROSODY_AUTH_TYPE=ldap but AUTH_TYPE is {auth!r}: prosody asks saslauthd, "
            "but the container only starts saslauthd when AUTH_TYPE is ldap, so every login fails",
            hint,
        )
    elif auth != "ldap" and prosody != "ldap":
        yield ctx.finding(
            ids.JM_AUTH_TYPE,
            E,
            "AUTH_TYPE",
            f"LDAP_* variables are set but AUTH_TYPE is {auth!r}: they are ignored",
            hint,
        )
    if auth == "ldap" and prosody != "ldap":
        yield ctx.finding(
            ids.JM_AUTH_TYPE,
            W,
            "PROSODY_AUTH_TYPE",
            f"AUTH_TYPE=ldap but PROSODY_AUTH_TYPE is {prosody_raw!r}: saslauthd starts with an empty "
            "configuration and prosody does not use it",
            "remove PROSODY_AUTH_TYPE (it defaults to AUTH_TYPE) or set it to ldap",
        )


def _missing(ctx: LintContext, key: str, fid: str, what: str, unset_effect: str) -> Iterator[Finding]:
    value = ctx.get(key)
    if value is None:
        yield ctx.finding(
            fid,
            E,
            key,
            f"{key} is not set: saslauthd.conf gets `{what}: <no value>` ({unset_effect})",
            f"set {key} in .env",
        )
    elif value == "":
        yield ctx.finding(
            fid,
            E,
            key,
            f"{key} is empty: saslauthd.conf gets `{what}: ` with no value, and saslauthd then "
            "rejects its whole configuration (every login fails with reason=Unknown)",
            f"set {key} to a value, or remove the line",
        )


def rule_url_base(ctx: LintContext) -> Iterator[Finding]:
    """LDAP_URL / LDAP_BASE unset render `<no value>`; empty ones break the whole config (§3.8)."""
    if not ldap_on(ctx):
        return
    yield from _missing(ctx, "LDAP_URL", ids.LINT_URL_MISSING, "ldap_servers", "not a server")
    yield from _missing(ctx, "LDAP_BASE", ids.LINT_BASE_MISSING, "ldap_search_base", "no user is ever found")


def rule_bind_account(ctx: LintContext) -> Iterator[Finding]:
    """A bind DN needs a password; a password without a bind DN is ignored."""
    if not ldap_in_use(ctx):
        return
    dn, pw = ctx.get("LDAP_BINDDN"), ctx.get("LDAP_BINDPW")
    if dn:
        if pw is None:
            yield ctx.finding(
                ids.LINT_BINDPW_MISSING,
                E,
                "LDAP_BINDDN",
                "LDAP_BINDDN is set but LDAP_BINDPW is not: the service bind uses the literal text "
                "`<no value>` as its password",
                "set LDAP_BINDPW (single-quoted) or remove LDAP_BINDDN for an anonymous bind",
            )
        elif pw == "":
            yield ctx.finding(
                ids.LINT_BINDPW_MISSING,
                E,
                "LDAP_BINDPW",
                "LDAP_BINDPW is empty while LDAP_BINDDN is set: `ldap_bind_pw: ` has no value and saslauthd "
                "rejects its whole configuration",
                "set LDAP_BINDPW (single-quoted) or remove LDAP_BINDDN for an anonymous bind",
            )
    elif pw:
        yield ctx.finding(
            ids.SA_BINDPW_UNWRITTEN,
            W,
            "LDAP_BINDPW",
            "LDAP_BINDPW is set but LDAP_BINDDN is not: the password is ignored and saslauthd binds anonymously",
            "set LDAP_BINDDN to the service account's full DN, or remove LDAP_BINDPW",
        )


def login_gates(values: Mapping[str, str]) -> list[Finding]:
    """The lint findings about the gates in front of saslauthd, for the host chain's settings step.

    The gates apply to a docker-jitsi-meet `.env` that chooses an auth mode (sets AUTH_TYPE or
    PROSODY_AUTH_TYPE): ENABLE_AUTH is then read with its default (off) even when the file leaves it out.
    LDAP_USE_TLS's rule speaks when the file sets it. A bare --url has none of them.
    """
    ctx = values_context(values)
    found: list[Finding] = []
    if "AUTH_TYPE" in values or "PROSODY_AUTH_TYPE" in values:
        found += [f for f in rule_enable_auth(ctx) if f.id == ids.LINT_ENABLE_AUTH]
        found += [f for f in rule_auth_type(ctx) if f.id == ids.JM_AUTH_TYPE]
    if "LDAP_USE_TLS" in values:
        from ldapcheck.auth.ldap.lint.values import rule_tls_scheme  # the value rules' module only when needed

        found += [f for f in rule_tls_scheme(ctx) if f.id == ids.TLS_USE_TLS_SCHEME]
    return found
