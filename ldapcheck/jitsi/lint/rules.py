"""Lint rules every auth mode shares: ENABLE_AUTH, keys defined twice, keys the shell overrides.

Each rule is a small function `LintContext -> Iterable[Finding]`; the keys they look at come from the active
auth modes (`LintContext.keys`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from ldapcheck.core import catalogue as ids
from ldapcheck.jitsi.lint.model import Finding, LintContext, Severity
from ldapcheck.jitsi.tpl import to_bool

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

Rule = Callable[[LintContext], Iterable[Finding]]


def auth_configured(ctx: LintContext) -> bool:
    """Whether the file means to use authentication at all (an AUTH_TYPE, or any auth mode's own keys)."""
    v = ctx.values
    if (v.get("AUTH_TYPE") or v.get("PROSODY_AUTH_TYPE") or "").strip():
        return True
    return any(v.get(k) for k in ctx.keys.mode)


def rule_enable_auth(ctx: LintContext) -> Iterator[Finding]:
    """Without ENABLE_AUTH prosody keeps anonymous login and never asks for a password."""
    if not auth_configured(ctx):
        return
    value = ctx.get("ENABLE_AUTH")
    if value is None or not to_bool(value or "0"):
        shown = "unset" if value is None else f"{value!r}"
        yield ctx.finding(
            ids.LINT_ENABLE_AUTH,
            E,
            "ENABLE_AUTH",
            f"ENABLE_AUTH is {shown}: prosody keeps anonymous login and never asks for a password",
            "set ENABLE_AUTH=1 and recreate the containers (docker compose up -d)",
        )


def rule_duplicates(ctx: LintContext) -> Iterator[Finding]:
    """A key defined twice: Compose silently takes the last one."""
    for key, lines in ctx.env.duplicates().items():
        yield ctx.finding(
            ids.LINT_DUPLICATE_KEY,
            W,
            key,
            f"{key} is defined {len(lines)} times (lines {', '.join(map(str, lines))}); Compose uses the last one",
            "keep one definition",
        )


def rule_shell_override(ctx: LintContext) -> Iterator[Finding]:
    """Variables also set in the shell: `docker compose` takes the shell's value, not the file's."""
    for key in ctx.keys.watched:
        if key in ctx.shell and key in ctx.values and ctx.shell[key] != ctx.values[key]:
            yield ctx.finding(
                ids.LINT_SHELL_OVERRIDE,
                INFO,
                key,
                f"{key} is also set in this shell with a different value; docker compose run from this shell "
                "passes the shell's value, not the file's",
                f"unset {key} in the shell before `docker compose up`",
            )
