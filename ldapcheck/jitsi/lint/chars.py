"""Lint rule for characters that Compose interpolates or strips, in the free-text values of every auth mode.

These rules look at LDAP_BINDPW too, so their messages never quote a value or a variable name
taken from it: they name the character class only (a test proves it).
"""

from __future__ import annotations

from collections.abc import Iterator

from ldapcheck.core import catalogue as ids
from ldapcheck.jitsi.env.parse import EnvEntry
from ldapcheck.jitsi.lint.model import Finding, LintContext, Severity

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

_QUOTE_HINT = "single-quote the value in .env: KEY='value' (inside, write a single quote as \\')"


def _entries(ctx: LintContext) -> Iterator[EnvEntry]:
    for key in ctx.keys.text:
        entry = ctx.env.entry(key)
        if entry is not None and not entry.inherited:
            yield entry


def rule_compose_chars(ctx: LintContext) -> Iterator[Finding]:
    """`$` is interpolated in unquoted and double-quoted values; ` #` starts a comment (JM-ENV-ESCAPE)."""
    first_quoted = None
    for e in _entries(ctx):
        secret = e.key in ctx.keys.secret
        if e.references:
            names = "" if secret else f" ({', '.join('$' + n for n in e.references)})"
            unset = " and it is not set anywhere" if e.unresolved and not secret else ""
            yield ctx.finding(
                ids.JM_ENV_ESCAPE,
                E,
                e.key,
                f"{e.key} contains '$' followed by a name{names}: Compose substitutes it{unset}, so the "
                "container receives a different value than the one written",
                _QUOTE_HINT + " or write each literal $ as $$",
            )
        elif e.stray_dollar:
            yield ctx.finding(
                ids.JM_ENV_ESCAPE,
                W,
                e.key,
                f"{e.key} contains a '$' outside single quotes: current Compose keeps it, some Compose "
                "releases reject the file with 'Invalid template'",
                _QUOTE_HINT + " or write the $ as $$",
            )
        if e.quote != "'" and "$$" in e.raw_value:
            yield ctx.finding(
                ids.JM_ENV_ESCAPE,
                INFO,
                e.key,
                f"{e.key} uses $$ for a literal $: right for docker compose v2, but docker-compose 1.x "
                "(python-dotenv) passes both characters on",
                "single quotes work with both: KEY='value with $'",
            )
        if e.inline_comment:
            yield ctx.finding(
                ids.JM_ENV_ESCAPE,
                E if secret else W,
                e.key,
                f"{e.key} is unquoted and contains ' #': Compose drops everything from ' #' on as a comment",
                _QUOTE_HINT if secret else "quote the value if the text after ' #' belongs to it",
            )
        if not e.quote and e.value.startswith("#") and ctx.env.text[e.value_start - 1] in " \t":
            yield ctx.finding(
                ids.JM_ENV_ESCAPE,
                W,
                e.key,
                f"{e.key}= is followed by a space and '#': Compose reads the '#…' text as the value, not as a comment",
                f"remove the text, or write {e.key}= with nothing after it",
            )
        if e.quote and first_quoted is None:
            first_quoted = e
    if first_quoted is not None:
        yield ctx.finding(
            ids.JM_ENV_ESCAPE,
            INFO,
            first_quoted.key,
            "quoted values are unquoted by docker compose v2 and by docker-compose 1.29; early "
            "docker-compose 1.x releases passed the quotes on to saslauthd",
            "use `docker compose` (v2)",
        )
