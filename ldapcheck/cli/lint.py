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
    from ldapcheck.core.errors import ConfigError
    from ldapcheck.core.model import ExitCode
    from ldapcheck.core.secrets import mask_secrets
    from ldapcheck.jitsi.env.parse import read_env_file
    from ldapcheck.jitsi.lint.model import format_json, format_text, has_errors, lint_env

    if generation not in ("current", "legacy"):
        raise ConfigError(f"--generation must be current or legacy, not {generation!r}")
    env = read_env_file(env_file, environ=os.environ)
    findings = lint_env(env, generation=generation, shell_env=os.environ)
    path = str(env_file)
    text = format_json(path, findings, generation) if json_out else format_text(path, findings)
    # Last line of defence: no rule prints the password, and this masks it should one ever do so.
    sys.stdout.write(mask_secrets(text, [env.values().get("LDAP_BINDPW", "")]))
    sys.stdout.flush()
    raise typer.Exit(int(ExitCode.FAILED if has_errors(findings) else ExitCode.OK))


def register(app: typer.Typer) -> None:
    """Add `lint` to `app`."""
    app.command("lint")(lint)
