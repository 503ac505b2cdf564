"""Token authentication (`AUTH_TYPE=jwt`): what this mode provides to the commands (see `auth.base.AuthMode`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ldapcheck.auth.jwt.lint import RULES as LINT_RULES
from ldapcheck.core.verdict import Rule
from ldapcheck.jitsi.lint.model import LintRule

if TYPE_CHECKING:
    from ldapcheck.auth.jwt.model import TokenConfig
    from ldapcheck.core.step import Step
    from ldapcheck.jitsi.deployment import JitsiView

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

    @property
    def verdict_rules(self) -> Sequence[Rule]:
        """Shared Jitsi rules around the token rules (`auth.jwt.verdict.RULES`), imported when asked."""
        from ldapcheck.auth.jwt.verdict import RULES

        return RULES

    def settings(self, env: Mapping[str, str]) -> TokenConfig:
        """The token settings prosody's template renders from `env` (`auth.jwt.model.TokenConfig.from_env`)."""
        from ldapcheck.auth.jwt.model import TokenConfig

        return TokenConfig.from_env(env)

    def host_steps(self, settings: TokenConfig, options: Any) -> list[Step[Any]]:
        """None: `ldapcheck token check` judges a token against these settings itself (`commands.token`)."""
        return []

    def container_steps(self, servers: Sequence[tuple[str, int]] = ()) -> list[Step[JitsiView]]:
        """The rendered token settings, the module, the clock, rooms, moderators, the token and its login."""
        from ldapcheck.auth.jwt.steps import container_steps

        return container_steps()


MODE = JwtMode()
