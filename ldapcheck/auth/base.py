"""What an auth mode provides to the commands: `.env` keys, secrets, prosody setting, lint and verdict rules, settings,
host and container steps.

An auth mode is one package under `ldapcheck.auth` (ldap today) exposing a `MODE` that satisfies `AuthMode`. The
commands compose the shared Jitsi steps and rules (`ldapcheck.jitsi`) with those of the active modes; no mode
imports another (an import contract checks it). The methods import their modules when called: loading a mode (and
the registry) pulls in neither the Docker SDK, ldap3 nor jinja2.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from ldapcheck.core.step import Step
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

    def settings(self, env: Mapping[str, str]) -> Any:
        """This mode's settings from a docker-jitsi-meet environment (its `.env` values)."""

    def host_steps(self, settings: Any, options: Any) -> list[Step[Any]]:
        """The checks run from the host, in order, for `settings` and the mode's chain options (none: empty)."""

    def container_steps(self, servers: Sequence[tuple[str, int]] = ()) -> list[Step[Any]]:
        """The checks run inside the prosody container, in order; `servers` are probed from there (none: empty)."""
