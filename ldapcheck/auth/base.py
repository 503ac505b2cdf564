"""What an auth mode provides to the commands: its `.env` keys, secrets, prosody setting, lint and verdict rules.

An auth mode is one package under `ldapcheck.auth` (ldap today) exposing a `MODE` that satisfies `AuthMode`. The
commands compose the shared Jitsi steps and rules (`ldapcheck.jitsi`) with those of the active modes; no mode
imports another (an import contract checks it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ldapcheck.core.verdict import Rule
from ldapcheck.jitsi.lint.model import LintRule


class AuthMode(Protocol):
    """The contract of one auth mode (see `ldapcheck.auth.ldap.mode.MODE`)."""

    @property
    def name(self) -> str:
        """The AUTH_TYPE value that turns it on ("ldap")."""

    @property
    def env_keys(self) -> Sequence[str]:
        """`.env` keys this mode reads: compared between the `.env` and the running container."""

    @property
    def text_keys(self) -> Sequence[str]:
        """Keys whose free text reaches a config file (Compose's `$` and ` #` matter for them)."""

    @property
    def secret_keys(self) -> frozenset[str]:
        """Keys whose values are secrets: never printed, masked in every format."""

    @property
    def identifying_keys(self) -> Sequence[str]:
        """Keys that tell this deployment's prosody container from another one on the same engine."""

    @property
    def prosody_authentication(self) -> str:
        """What the main VirtualHost's `authentication` must be ("cyrus" for LDAP through saslauthd)."""

    @property
    def lint_rules(self) -> Sequence[LintRule]:
        """`ldapcheck lint` rules of this mode."""

    @property
    def verdict_rules(self) -> Sequence[Rule]:
        """Verdict rules of this mode, most specific first."""
