"""Internal accounts (`AUTH_TYPE=internal`): what this mode provides to the commands (see `auth.base.AuthMode`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ldapcheck.core.verdict import Rule
from ldapcheck.jitsi.lint.model import LintRule

if TYPE_CHECKING:
    from ldapcheck.core.step import Step
    from ldapcheck.jitsi.deployment import JitsiView

# What prosody renders the internal main host from (auth-modes.md §1.2): a difference means a stale container.
ENV_KEYS = (
    "ENABLE_AUTH",
    "AUTH_TYPE",
    "PROSODY_AUTH_TYPE",
    "ENABLE_GUESTS",
    "XMPP_DOMAIN",
    "XMPP_AUTH_DOMAIN",
    "XMPP_GUEST_DOMAIN",
    "XMPP_MUC_DOMAIN",
)


@dataclass(frozen=True)
class InternalMode:
    """The internal mode's registry entry."""

    name: str = "internal"
    env_keys: Sequence[str] = ENV_KEYS
    text_keys: Sequence[str] = ()
    secret_keys: frozenset[str] = frozenset()
    identifying_keys: Sequence[str] = ("XMPP_DOMAIN",)
    prosody_authentication: str = "internal_hashed"
    lint_rules: Sequence[LintRule] = ()

    @property
    def verdict_rules(self) -> Sequence[Rule]:
        """Shared Jitsi rules around the account rules (`auth.internal.verdict.RULES`), imported when asked."""
        from ldapcheck.auth.internal.verdict import RULES

        return RULES

    def settings(self, env: Mapping[str, str]) -> dict[str, str]:
        """The keys prosody renders the main host from, as `env` has them."""
        return {k: env[k] for k in ENV_KEYS if k in env}

    def host_steps(self, settings: Any, options: Any) -> list[Step[Any]]:
        """None: everything is judged in the containers and over XMPP."""
        return []

    def container_steps(self, servers: Sequence[tuple[str, int]] = ()) -> list[Step[JitsiView]]:
        """The main host's authentication and the account (`auth.internal.steps.container_steps`)."""
        from ldapcheck.auth.internal.steps import container_steps

        return container_steps()


MODE = InternalMode()
