"""`ldapcheck lint`: the shared rules and those of every registered auth mode, over one `.env`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ldapcheck.auth import modes
from ldapcheck.core.errors import ConfigError
from ldapcheck.jitsi.env.parse import EnvFile, read_env_file
from ldapcheck.jitsi.lint.chars import rule_compose_chars
from ldapcheck.jitsi.lint.model import Finding, LintKeys, LintRule, lint_env
from ldapcheck.jitsi.lint.rules import rule_duplicates, rule_enable_auth, rule_shell_override

SHARED_RULES: tuple[LintRule, ...] = (rule_enable_auth, rule_compose_chars, rule_duplicates, rule_shell_override)


@dataclass(frozen=True)
class LintResult:
    """The file as read and what the rules found in it."""

    env: EnvFile
    findings: list[Finding]
    secrets: list[str]


def rules_and_keys() -> tuple[list[LintRule], LintKeys]:
    """Every rule to run, and the keys the shared rules look at, from the registered modes."""
    registered = list(modes().values())
    rules = [*SHARED_RULES, *(r for m in registered for r in m.lint_rules)]
    env_keys = tuple(dict.fromkeys(k for m in registered for k in m.env_keys))
    keys = LintKeys(
        text=tuple(dict.fromkeys(k for m in registered for k in m.text_keys)),
        secret=frozenset(k for m in registered for k in m.secret_keys),
        watched=env_keys,
        mode=tuple(k for k in env_keys if k not in ("ENABLE_AUTH", "AUTH_TYPE", "PROSODY_AUTH_TYPE", "XMPP_DOMAIN")),
    )
    return rules, keys


def lint(env_file: Path, *, generation: str, shell: Mapping[str, str]) -> LintResult:
    """Read `env_file` as Compose does (with `shell` for interpolation) and run every rule over it."""
    if generation not in ("current", "legacy"):
        raise ConfigError(f"--generation must be current or legacy, not {generation!r}")
    env = read_env_file(env_file, environ=shell)
    rules, keys = rules_and_keys()
    findings = lint_env(env, rules, keys=keys, generation=generation, shell_env=shell)
    values = env.values()
    return LintResult(env=env, findings=findings, secrets=[values[k] for k in keys.secret if values.get(k)])
