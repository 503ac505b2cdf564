"""Static checks of a docker-jitsi-meet `.env`: the finding model, the rule runner and its formats.

The rules live with what they check: `ldapcheck.jitsi.lint.rules`/`chars` (every mode) and each auth mode's own
`lint` package; `ldapcheck.commands.lint` runs the shared ones plus those of every registered mode. Findings never
contain a secret value: messages name characters and variables, not passwords.

JSON format (`ldapcheck lint --json`), a stable, documented shape:

    {"path": ".env", "generation": "current",
     "summary": {"error": 1, "warning": 0, "info": 2},
     "findings": [{"id": "TLS-USE-TLS-SCHEME", "severity": "error", "line": 12, "key": "LDAP_USE_TLS",
                   "message": "...", "hint": "..."}]}

`line` is the 1-based line of the key's effective (last) definition in the file, or null when the
problem is a key that is missing. Finding ids are catalogue ids (`ldapcheck explain ID`).
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Iterable, Mapping

from ldapcheck.core.record import field, record
from ldapcheck.jitsi.env.parse import EnvEntry, EnvFile


class Severity(enum.StrEnum):
    """How bad a finding is; only errors make `ldapcheck lint` exit 1."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@record
class Finding:
    """One problem in the `.env`: a stable id, where, what, and the fix."""

    id: str
    severity: Severity
    message: str
    hint: str
    key: str | None = None
    line: int | None = None


@record
class LintKeys:
    """The `.env` keys the shared rules look at, gathered from the auth modes."""

    text: tuple[str, ...] = ()  # free-text values that reach a config file (Compose characters matter)
    secret: frozenset[str] = frozenset()  # never quoted in a message
    watched: tuple[str, ...] = ()  # a shell variable of that name overrides the file
    mode: tuple[str, ...] = ()  # a mode's own keys: one of them set means authentication is meant


@record
class LintContext:
    """What a rule sees: the parsed file, its values, the image generation, the caller's shell and the keys."""

    env: EnvFile
    generation: str = "current"
    shell: Mapping[str, str] = field(default_factory=dict)
    keys: LintKeys = field(default_factory=LintKeys)

    @functools.cached_property
    def values(self) -> dict[str, str]:
        """Key → value as Compose passes it on."""
        return self.env.values()

    def get(self, key: str) -> str | None:
        """The value, or None when the key is not defined."""
        return self.values.get(key)

    def line(self, key: str) -> int | None:
        """Line of the key's effective definition."""
        return self.env.line_of(key)

    def finding(self, fid: str, severity: Severity, key: str | None, message: str, hint: str) -> Finding:
        """A finding located at `key`'s line (if the key is in the file)."""
        return Finding(fid, severity, message, hint, key, self.line(key) if key else None)


LintRule = Callable[[LintContext], Iterable[Finding]]


def values_context(values: Mapping[str, str], keys: LintKeys | None = None) -> LintContext:
    """A context over values already resolved (no file: findings carry no line), for checks outside `lint`."""
    entries = tuple(
        EnvEntry(
            key=k,
            value=v,
            quote="",
            line=0,
            end_line=0,
            raw_value=v,
            value_start=0,
            value_end=0,
            line_start=0,
        )
        for k, v in values.items()
    )
    return LintContext(EnvFile(path="", text="", entries=entries), keys=keys or LintKeys())


def lint_env(
    env: EnvFile,
    rules: Iterable[LintRule],
    *,
    keys: LintKeys,
    generation: str = "current",
    shell_env: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Run `rules`; findings sorted by line (missing-key findings first), then severity."""
    ctx = LintContext(env, generation, dict(shell_env or {}), keys)
    findings = [f for rule in rules for f in rule(ctx)]
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    return sorted(findings, key=lambda f: (f.line or 0, order[f.severity], f.id))


def has_errors(findings: list[Finding]) -> bool:
    """Whether any finding is at error level (exit 1)."""
    return any(f.severity is Severity.ERROR for f in findings)


def format_text(path: str, findings: list[Finding]) -> str:
    """One finding per line, `path:line: ID severity message`, then an indented `fix:` line."""
    lines = []
    for f in findings:
        where = f"{path}:{f.line}" if f.line else path
        lines.append(f"{where}: {f.id} {f.severity.value} {f.message}")
        lines.append(f"    fix: {f.hint}")
    counts = {s: sum(1 for f in findings if f.severity is s) for s in Severity}
    errors, warnings, infos = counts[Severity.ERROR], counts[Severity.WARNING], counts[Severity.INFO]
    lines.append(f"{path}: {errors} error(s), {warnings} warning(s), {infos} info")
    return "\n".join(lines) + "\n"


def format_json(path: str, findings: list[Finding], generation: str) -> str:
    """The documented JSON shape (see the module docstring)."""
    doc = {
        "path": path,
        "generation": generation,
        "summary": {s.value: sum(1 for f in findings if f.severity is s) for s in Severity},
        "findings": [
            {
                "id": f.id,
                "severity": f.severity.value,
                "line": f.line,
                "key": f.key,
                "message": f.message,
                "hint": f.hint,
            }
            for f in findings
        ],
    }
    import json  # only here: the lint model is on every command's path, JSON output is not

    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
