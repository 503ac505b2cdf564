"""Lint rules for TLS settings, booleans, the filter and characters that Compose or saslauthd change.

Facts: docker-jitsi-meet.md §1.1 (nesting), §2.3 (toBool), §3.4 (filter tokens), §3.5 (GnuTLS vs
OpenSSL), §3.7 (USE_TLS is not encryption), §3.8 (value parsing), §4.4 (.env syntax).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ldapcheck.auth.ldap.lint.scope import ldap_in_use
from ldapcheck.core import catalogue as ids
from ldapcheck.jitsi.lint.model import Finding, LintContext, Severity
from ldapcheck.jitsi.tpl import to_bool

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

BOOL_KEYS = ("ENABLE_AUTH", "LDAP_USE_TLS", "LDAP_TLS_CHECK_PEER", "LDAP_START_TLS")
_GO_BOOL_WORDS = frozenset({"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"})
_NEGATIVE_WORDS = frozenset({"no", "n", "off", "none", "never", "disable", "disabled", "nein", "non", "null", "nil"})


def _flag(ctx: LintContext, key: str) -> bool:
    value = ctx.get(key)
    return to_bool(value) if value else False


def _urls(ctx: LintContext) -> list[str]:
    return (ctx.get("LDAP_URL") or "").split()


def rule_url_scheme(ctx: LintContext) -> Iterator[Finding]:
    """Every entry of LDAP_URL must be ldap://, ldaps:// or ldapi://; several are separated by spaces."""
    url = ctx.get("LDAP_URL")
    if not url:
        return
    if "," in url and "://" in url.split(",", 1)[1]:
        yield ctx.finding(
            ids.LINT_URL_SCHEME,
            E,
            "LDAP_URL",
            "LDAP_URL separates servers with commas; saslauthd expects spaces",
            "write LDAP_URL='ldaps://dc1.example.org ldaps://dc2.example.org' (single-quoted, space-separated)",
        )
        return
    for item in _urls(ctx):
        if not re.match(r"(?i)ldaps?://|ldapi://", item):
            yield ctx.finding(
                ids.LINT_URL_SCHEME,
                E,
                "LDAP_URL",
                f"LDAP_URL entry {item!r} is not an ldap://, ldaps:// or ldapi:// URL",
                "write LDAP_URL=ldaps://host:636 or LDAP_URL=ldap://host:389 (with LDAP_START_TLS=1)",
            )


def rule_tls_scheme(ctx: LintContext) -> Iterator[Finding]:
    """LDAP_USE_TLS does not encrypt; StartTLS and ldaps:// exclude each other (TLS-USE-TLS-SCHEME, …)."""
    urls = _urls(ctx)
    use_tls, start_tls = _flag(ctx, "LDAP_USE_TLS"), _flag(ctx, "LDAP_START_TLS")
    plain = [u for u in urls if u.lower().startswith("ldap://")]
    ldaps = [u for u in urls if u.lower().startswith("ldaps://")]
    if use_tls and plain and not start_tls:
        yield ctx.finding(
            ids.TLS_USE_TLS_SCHEME,
            E,
            "LDAP_USE_TLS",
            "LDAP_USE_TLS=1 with an ldap:// URL is NOT encryption: it only adds a client certificate, "
            "the bind password still travels in clear text",
            "use LDAP_URL=ldaps://host:636, or keep ldap:// and set LDAP_START_TLS=1",
        )
    if start_tls and ldaps:
        yield ctx.finding(
            ids.TLS_STARTTLS_ON_LDAPS,
            E,
            "LDAP_START_TLS",
            "LDAP_START_TLS=1 with an ldaps:// URL: StartTLS on an already encrypted connection fails",
            "use either ldaps:// with LDAP_START_TLS=0, or ldap:// with LDAP_START_TLS=1",
        )
    if (ldaps or start_tls) and not (use_tls and _flag(ctx, "LDAP_TLS_CHECK_PEER")) and ldap_in_use(ctx):
        yield ctx.finding(
            ids.TLS_PEER_UNCHECKED,
            INFO,
            "LDAP_URL",
            "the server certificate is not verified: the image sets TLS_REQCERT allow and "
            + ("LDAP_TLS_CHECK_PEER is off" if use_tls else "ldap_tls_check_peer is only written with LDAP_USE_TLS=1"),
            "set LDAP_USE_TLS=1, LDAP_TLS_CHECK_PEER=1 and LDAP_TLS_CACERT_FILE (a CA mounted into prosody)",
        )


def rule_tls_ignored(ctx: LintContext) -> Iterator[Finding]:
    """CHECK_PEER, CIPHERS and CACERT_* are nested inside LDAP_USE_TLS in the template."""
    if _flag(ctx, "LDAP_USE_TLS"):
        cacert = ctx.get("LDAP_TLS_CACERT_FILE") or ctx.get("LDAP_TLS_CACERT_DIR")
        if cacert and not _flag(ctx, "LDAP_TLS_CHECK_PEER"):
            yield ctx.finding(
                ids.LINT_TLS_IGNORED,
                W,
                "LDAP_TLS_CACERT_FILE" if ctx.get("LDAP_TLS_CACERT_FILE") else "LDAP_TLS_CACERT_DIR",
                "LDAP_TLS_CACERT_* is set but LDAP_TLS_CHECK_PEER is off, so it is not written",
                "set LDAP_TLS_CHECK_PEER=1",
            )
        return
    if _flag(ctx, "LDAP_TLS_CHECK_PEER"):
        yield ctx.finding(
            ids.TLS_PEER_UNCHECKED,
            W,
            "LDAP_TLS_CHECK_PEER",
            "LDAP_TLS_CHECK_PEER is ignored without LDAP_USE_TLS=1: the certificate is not verified",
            "set LDAP_USE_TLS=1 as well (and LDAP_TLS_CACERT_FILE for a private CA)",
        )
    for key in ("LDAP_TLS_CIPHERS", "LDAP_TLS_CACERT_FILE", "LDAP_TLS_CACERT_DIR"):
        if ctx.get(key):
            yield ctx.finding(
                ids.LINT_TLS_IGNORED,
                W,
                key,
                f"{key} is ignored without LDAP_USE_TLS=1 (the template nests it inside LDAP_USE_TLS)",
                f"set LDAP_USE_TLS=1, or remove {key}",
            )


def rule_bool_words(ctx: LintContext) -> Iterator[Finding]:
    """toBool (tpl ≥1.2) reads any non-empty word that is not a Go bool as TRUE: `no` means yes."""
    for key in BOOL_KEYS:
        value = ctx.get(key)
        if not value:
            continue
        word = value.replace('"', "").replace("'", "")
        if word in _GO_BOOL_WORDS:
            continue
        if word.strip().lower() in _NEGATIVE_WORDS or word.strip() in _GO_BOOL_WORDS:
            yield ctx.finding(
                ids.LINT_BOOL_WORD,
                E,
                key,
                f"{key}={value!r} reads as TRUE: the image's toBool treats every non-empty word that is not "
                "0/f/false/1/t/true as true",
                f"write {key}=0 (or remove it) to turn it off",
            )
        else:
            yield ctx.finding(
                ids.LINT_BOOL_WORD,
                W,
                key,
                f"{key}={value!r} is not a boolean word: current images read it as TRUE, images from "
                "stable-7001 to stable-9457 fail to render the whole file",
                f"write {key}=1 or {key}=0",
            )


def rule_filter(ctx: LintContext) -> Iterator[Finding]:
    """The filter needs %u/%U; %d is always empty for prosody logins; parentheses must balance."""
    if not ldap_in_use(ctx):
        return
    raw = ctx.get("LDAP_FILTER")
    flt = raw or "uid=%u"
    tokens = flt.replace("%%", "")
    if "%u" not in tokens and "%U" not in tokens:
        yield ctx.finding(
            ids.LINT_FILTER_TOKEN,
            E,
            "LDAP_FILTER",
            f"LDAP_FILTER {flt!r} has no %u or %U: the login name never reaches the search",
            "put %u where the user name goes, e.g. LDAP_FILTER=(uid=%u)",
        )
    if "%d" in tokens:
        yield ctx.finding(
            ids.LINT_FILTER_TOKEN,
            E,
            "LDAP_FILTER",
            f"LDAP_FILTER {flt!r} uses %d, which is always empty for prosody logins (the login has no @domain)",
            "drop %d; use %u (the local part) or %r (the XMPP domain)",
        )
    depth = 0
    for ch in flt.replace("\\(", "").replace("\\)", ""):
        depth += 1 if ch == "(" else -1 if ch == ")" else 0
        if depth < 0:
            break
    if depth != 0:
        yield ctx.finding(
            ids.CL_FILTER,
            E,
            "LDAP_FILTER",
            f"LDAP_FILTER {flt!r} has unbalanced parentheses",
            "fix the parentheses, e.g. (&(objectClass=person)(uid=%u))",
        )
    base = (ctx.get("LDAP_BASE") or "") + "," + (ctx.get("LDAP_BINDDN") or "")
    ad_style = re.search(r"\bDC=", base) is not None or "cn=users," in base.lower()
    if ad_style and re.search(r"(?i)(^|\()uid=", flt):
        yield ctx.finding(
            ids.AD_FILTER_UID,
            W,
            "LDAP_FILTER" if raw else "LDAP_BASE",
            f"LDAP_FILTER is {flt!r} but the base looks like Active Directory (DC=…/CN=Users): "
            "AD users have no uid attribute",
            "use LDAP_FILTER=(sAMAccountName=%u) for Active Directory",
        )


def rule_ldap_version(ctx: LintContext) -> Iterator[Finding]:
    """Anything but LDAPv3 breaks StartTLS and is refused by most servers."""
    value = ctx.get("LDAP_VERSION")
    if value and value != "3":
        yield ctx.finding(
            ids.RC_2,
            E if _flag(ctx, "LDAP_START_TLS") or value not in ("2",) else W,
            "LDAP_VERSION",
            f"LDAP_VERSION is {value!r}: StartTLS needs LDAPv3 and most servers refuse v2",
            "use LDAP_VERSION=3 (or remove it; 3 is the default)",
        )


def rule_auth_method(ctx: LintContext) -> Iterator[Finding]:
    """saslauthd knows bind, fastbind and custom."""
    value = ctx.get("LDAP_AUTH_METHOD")
    if value and value not in ("bind", "fastbind", "custom"):
        yield ctx.finding(
            ids.LINT_AUTH_METHOD,
            E,
            "LDAP_AUTH_METHOD",
            f"LDAP_AUTH_METHOD is {value!r}; saslauthd knows bind, fastbind and custom",
            "use LDAP_AUTH_METHOD=bind (the default)",
        )


_GNUTLS_KEYWORDS = frozenset(
    {"NORMAL", "SECURE", "SECURE128", "SECURE192", "SECURE256", "PERFORMANCE", "PFS", "NONE", "LEGACY"}
    | {"SUITEB128", "SUITEB192", "SYSTEM", "NO_TICKETS", "%COMPAT", "%SERVER_PRECEDENCE"}
)
_GNUTLS_PREFIX = re.compile(r"(VERS|CIPHER|MAC|KX|SIGN|CURVE|GROUP|COMP|CTYPE)-|%")
_GNUTLS_CIPHER = re.compile(r"(AES|CAMELLIA|ARCFOUR|3DES|CHACHA20|GOST28147|SALSA20)-\d*")
_OPENSSL_ONLY = re.compile(
    r"HIGH|MEDIUM|LOW|DEFAULT|ALL|COMPLEMENTOFALL|aNULL|eNULL|@SECLEVEL=\d|TLS_[A-Z0-9_]+|ECDHE-.*"
)


def rule_ciphers(ctx: LintContext) -> Iterator[Finding]:
    """Current images link libldap to OpenSSL (trixie); stable-9457…11031 to GnuTLS (bookworm)."""
    value = ctx.get("LDAP_TLS_CIPHERS")
    if not value:
        return
    tokens = [t.lstrip("+-!") for t in re.split(r"[:,\s]+", value) if t]
    gnutls = [t for t in tokens if t in _GNUTLS_KEYWORDS or _GNUTLS_PREFIX.match(t) or _GNUTLS_CIPHER.fullmatch(t)]
    openssl = [t for t in tokens if _OPENSSL_ONLY.fullmatch(t)]
    if ctx.generation == "current" and gnutls:
        yield ctx.finding(
            ids.TLS_CIPHERS,
            W,
            "LDAP_TLS_CIPHERS",
            f"LDAP_TLS_CIPHERS uses GnuTLS priority syntax ({', '.join(gnutls[:3])}); current images "
            "(Debian trixie) build libldap with OpenSSL, which expects an OpenSSL cipher list",
            "remove LDAP_TLS_CIPHERS (the library default is sane) or write an OpenSSL list such as HIGH:!aNULL",
        )
    elif ctx.generation == "legacy" and openssl and not gnutls:
        yield ctx.finding(
            ids.TLS_CIPHERS,
            W,
            "LDAP_TLS_CIPHERS",
            f"LDAP_TLS_CIPHERS uses OpenSSL syntax ({', '.join(openssl[:3])}); images up to stable-11031 "
            "(Debian bookworm) build libldap with GnuTLS, which expects a priority string",
            "remove LDAP_TLS_CIPHERS or write a GnuTLS priority string such as SECURE256:SECURE128",
        )
