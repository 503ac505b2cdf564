"""The LDAP mode's lint rules, in the order `ldapcheck lint` reports them."""

from __future__ import annotations

from ldapcheck.auth.ldap.lint.chars import rule_saslauthd_chars
from ldapcheck.auth.ldap.lint.gate import rule_auth_type, rule_bind_account, rule_ldap_off, rule_url_base
from ldapcheck.auth.ldap.lint.values import (
    rule_auth_method,
    rule_bool_words,
    rule_ciphers,
    rule_filter,
    rule_ldap_version,
    rule_tls_ignored,
    rule_tls_scheme,
    rule_url_scheme,
)
from ldapcheck.jitsi.lint.model import LintRule

RULES: tuple[LintRule, ...] = (
    rule_ldap_off,
    rule_auth_type,
    rule_url_base,
    rule_bind_account,
    rule_url_scheme,
    rule_tls_scheme,
    rule_tls_ignored,
    rule_bool_words,
    rule_filter,
    rule_ldap_version,
    rule_auth_method,
    rule_ciphers,
    rule_saslauthd_chars,
)
