"""Token authentication (`AUTH_TYPE=jwt`): what this mode provides to the commands (see `auth.base.AuthMode`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ldapcheck.auth.jwt.lint import RULES as LINT_RULES
from ldapcheck.core.verdict import Rule
from ldapcheck.jitsi.lint.model import LintRule

# The variables prosody's template renders the token settings from (auth-modes.md §1.2).
ENV_KEYS = (
    "ENABLE_AUTH",
    "AUTH_TYPE",
    "PROSODY_AUTH_TYPE",
    "XMPP_DOMAIN",
    "XMPP_MUC_DOMAIN",
    "ENABLE_GUESTS",
    "JWT_APP_ID",
    "JWT_APP_SECRET",
    "JWT_ACCEPTED_ISSUERS",
    "JWT_ACCEPTED_AUDIENCES",
    "JWT_ASAP_KEYSERVER",
    "JWT_ALLOW_EMPTY",
    "JWT_ENABLE_DOMAIN_VERIFICATION",
    "JWT_SIGN_TYPE",
    "JWT_AUTH_TYPE",
    "JWT_TOKEN_AUTH_MODULE",
)
# Written into prosody's Lua config as free text.
TEXT_KEYS = ("JWT_APP_ID", "JWT_APP_SECRET", "JWT_ACCEPTED_ISSUERS", "JWT_ACCEPTED_AUDIENCES", "JWT_ASAP_KEYSERVER")
SECRET_KEYS = frozenset({"JWT_APP_SECRET"})


@dataclass(frozen=True)
class JwtMode:
    """The JWT mode's registry entry."""

    name: str = "jwt"
    env_keys: Sequence[str] = ENV_KEYS
    text_keys: Sequence[str] = TEXT_KEYS
    secret_keys: frozenset[str] = SECRET_KEYS
    identifying_keys: Sequence[str] = ("JWT_APP_ID", "XMPP_DOMAIN")
    prosody_authentication: str = "token"
    lint_rules: Sequence[LintRule] = LINT_RULES
    # No verdict rules yet: `ldapcheck token check` names the first failing rule itself.
    verdict_rules: Sequence[Rule] = ()


MODE = JwtMode()
