"""CLI: `ldapcheck lint` — explain what a docker-jitsi-meet `.env` turns into before anyone restarts prosody."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer


def lint(
    env_file: Annotated[Path, typer.Option("--env-file", help="The docker-jitsi-meet .env to check.")] = Path(".env"),
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable findings (documented shape).")] = False,
    generation: Annotated[
        str,
        typer.Option("--generation", help="Image generation: current (trixie/OpenSSL) or legacy (bookworm/GnuTLS)."),
    ] = "current",
) -> None:
    """Check the LDAP settings of a .env. Exit 0 clean or warnings only, 1 errors found, 2 unreadable file."""
    from ldapcheck.commands.lint import lint as run_lint
    from ldapcheck.core.model import ExitCode
    from ldapcheck.core.secrets import mask_secrets
    from ldapcheck.jitsi.lint.model import format_json, format_text, has_errors

    result = run_lint(env_file, generation=generation, shell=os.environ)
    findings = result.findings
    path = str(env_file)
    text = format_json(path, findings, generation) if json_out else format_text(path, findings)
    # Last line of defence: no rule prints a secret value, and this masks one should a rule ever do so.
    sys.stdout.write(mask_secrets(text, result.secrets))
    sys.stdout.flush()
    raise typer.Exit(int(ExitCode.FAILED if has_errors(findings) else ExitCode.OK))


def register(app: typer.Typer) -> None:
    """Add `lint` to `app`."""
    app.command("lint")(lint)
