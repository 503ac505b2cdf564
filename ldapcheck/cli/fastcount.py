"""`ldapcheck count` without typer: the command line parsed by hand when it is plain, the rest left to typer.

On a small directory `count` is start-up bound: importing typer and click (~35 ms here) and building the app cost
as much as counting 10,000 entries. `parse` accepts only what it is sure to read exactly as typer would (count's
own options as `--opt value` with valid values, a repeated option's last value winning as in click); anything else
(`--help`, `--debug`, an unknown option, `--opt=value`, `-vv`, a value that looks like an option, a value out of
range, `--json` with `--markdown`) returns None and the full CLI runs, so help and error messages have one source.
tests/unit/cli/test_fastcount.py checks that both paths read the same command lines the same way;
tests/unit/commands/test_count_imports.py that this one imports neither typer nor any heavy library.
"""

from __future__ import annotations

import math
import os
import sys
from typing import NoReturn

from ldapcheck.adapters.ldap.client import DEFAULT_PAGE
from ldapcheck.commands.source import TIMEOUT_MAX, TIMEOUT_MIN, LdapSource
from ldapcheck.core.record import field, record

# The page size asked by default is the largest an LDAP INTEGER holds: one page where the identity has no limit.
PAGE_SIZE_DEFAULT = PAGE_SIZE_MAX = DEFAULT_PAGE
PAGE_SIZE_HELP = "Entries per page asked. Default: the largest; the server caps it at its own limit."

_TEXT_OPTIONS = {
    "--env-file": "env_file",
    "--url": "url",
    "--base": "base",
    "--bind-dn": "bind_dn",
    "--filter": "filter_text",
    "--ca-file": "ca_file",
    "--xmpp-domain": "xmpp_domain",
}
_OUTPUT_FLAGS = {
    "--json": "json",
    "--markdown": "markdown",
    "--sanitize": "sanitize",
    "-v": "verbose",
    "--verbose": "verbose",
}


@record
class CountArgs:
    """A parsed `ldapcheck count` command line."""

    source: LdapSource
    page_size: int = PAGE_SIZE_DEFAULT
    flags: frozenset[str] = field(default_factory=frozenset)  # json, markdown, sanitize, verbose


def _number(kind: type[int] | type[float], text: str) -> int | float | None:
    try:
        return kind(text)
    except ValueError:
        return None


def parse(argv: list[str]) -> CountArgs | None:
    """`ldapcheck count …` as typer would read it, or None when typer must read it (see the module docstring)."""
    if not argv or argv[0] != "count" or os.environ.get("LDAPCHECK_DEBUG"):
        return None
    source: dict[str, object] = {}
    flags: set[str] = set()
    page_size = PAGE_SIZE_DEFAULT
    args = iter(argv[1:])
    for arg in args:
        if arg in _OUTPUT_FLAGS:
            flags.add(_OUTPUT_FLAGS[arg])
            continue
        if arg in ("--start-tls", "--no-start-tls"):
            source["start_tls"] = arg == "--start-tls"
            continue
        value = next(args, None)
        if value is None or value.startswith("-"):  # click's rules for values that look like options: its call
            return None
        if arg in _TEXT_OPTIONS:
            source[_TEXT_OPTIONS[arg]] = value
        elif arg == "--timeout":
            timeout = _number(float, value)
            if timeout is None or math.isnan(timeout) or not TIMEOUT_MIN <= timeout <= TIMEOUT_MAX:
                return None
            source["timeout"] = float(timeout)
        elif arg == "--page-size":
            size = _number(int, value)
            if size is None or not 1 <= size <= PAGE_SIZE_MAX:
                return None
            page_size = int(size)
        else:
            return None
    if {"json", "markdown"} <= flags:
        return None
    return CountArgs(LdapSource(**source), page_size, frozenset(flags))  # type: ignore[arg-type]


def run(args: CountArgs) -> NoReturn:
    """Count, print the report, exit with its code (errors mapped as the full CLI maps them)."""
    from ldapcheck.cli import exits

    try:
        from ldapcheck.cli.terminal import progress_line, use_color
        from ldapcheck.commands.count import count
        from ldapcheck.report import Format, render

        fmt = Format.JSON if "json" in args.flags else Format.MARKDOWN if "markdown" in args.flags else Format.TEXT
        with progress_line("counting") as progress:
            report = count(args.source, page_size=args.page_size, progress=progress)
        text = render(
            report, fmt, color=use_color(), verbose="verbose" in args.flags, sanitize="sanitize" in args.flags
        )
        sys.stdout.write(text)
        sys.stdout.flush()
    except Exception as exc:
        exits.exit_for(exc)
    except KeyboardInterrupt:
        exits.exit_for(KeyboardInterrupt())
    _exit_now(int(report.exit_code()))


def _exit_now(code: int) -> NoReturn:
    """Exit without the interpreter's finalization: with ldapcheck's modules loaded it takes ~8 ms, a tenth of a
    small count. Nothing on count's path needs it: no atexit handler, no temporary file, connections closed, only
    daemon threads; the output is flushed first. If that flush fails (a closed pipe), exit the usual way."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        sys.exit(code)
    os._exit(code)
