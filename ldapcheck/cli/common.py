"""Helpers shared by commands: output format, colour, printing a report, reading passwords safely."""

from __future__ import annotations

import os
import sys

import typer

from ldapcheck.cli.terminal import use_color
from ldapcheck.core.model import Report
from ldapcheck.core.secrets import Secret
from ldapcheck.report import Format, render

PASSWORD_ENV = "LDAPCHECK_PASSWORD"


def choose_format(json_out: bool, markdown: bool) -> Format:
    """The output format from the mutually exclusive --json / --markdown flags."""
    if json_out and markdown:
        raise typer.BadParameter("--json and --markdown exclude each other")
    if json_out:
        return Format.JSON
    return Format.MARKDOWN if markdown else Format.TEXT


def emit(report: Report, fmt: Format, *, verbose: bool = False, sanitize: bool = False) -> None:
    """Print the report and exit with its exit code."""
    sys.stdout.write(render(report, fmt, color=use_color(), verbose=verbose, sanitize=sanitize))
    sys.stdout.flush()
    raise typer.Exit(int(report.exit_code()))


def read_password(*, from_stdin: bool, prompt: str, env_var: str = PASSWORD_ENV) -> Secret:
    """A password from stdin (first line), the environment, or a hidden prompt. Never from argv."""
    if from_stdin:
        line = sys.stdin.readline()
        return Secret(line.removesuffix("\n").removesuffix("\r") if line.endswith("\n") else line)
    if env_var in os.environ:
        return Secret(os.environ[env_var])
    if not sys.stdin.isatty():
        raise typer.BadParameter(
            f"no password: pass it on stdin with --password-stdin or set {env_var} (never on the command line)"
        )
    import getpass

    return Secret(getpass.getpass(prompt))
