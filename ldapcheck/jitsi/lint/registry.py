"""The ordered registry of lint rules (add a rule here to make `ldapcheck lint` run it)."""

from __future__ import annotations

from ldapcheck.auth.ldap.lint_values import (
    rule_auth_method,
    rule_bool_words,
    rule_ciphers,
    rule_filter,
    rule_ldap_version,
    rule_tls_ignored,
    rule_tls_scheme,
    rule_url_scheme,
)
from ldapcheck.jitsi.lint import chars as rules_chars
from ldapcheck.jitsi.lint.rules import (
    Rule,
    rule_auth_type,
    rule_bind_account,
    rule_duplicates,
    rule_enable_auth,
    rule_ldap_off,
    rule_shell_override,
    rule_url_base,
)

RULES: tuple[Rule, ...] = (
    rule_ldap_off,
    rule_auth_type,
    rule_enable_auth,
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
    rules_chars.rule_compose_chars,
    rules_chars.rule_saslauthd_chars,
    rule_duplicates,
    rule_shell_override,
)
