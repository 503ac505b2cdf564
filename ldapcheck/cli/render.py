"""CLI: `ldapcheck render saslauthd` — the exact bytes the prosody container writes to saslauthd.conf."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Annotated

import typer

render_app = typer.Typer(
    help="Render configuration files exactly as the docker-jitsi-meet images do.",
    no_args_is_help=True,
    add_completion=False,
)

_BIND_PW = re.compile(r"^(ldap_bind_pw:[ \t]*)(.+)$", re.MULTILINE)


def redact(text: str) -> str:
    """Mask the value after `ldap_bind_pw:` (an empty value and `<no value>` stay: they are diagnoses)."""
    from ldapcheck.auth.ldap.render import NO_VALUE
    from ldapcheck.core.secrets import MASK

    return _BIND_PW.sub(lambda m: m.group(0) if m.group(2) == NO_VALUE else m.group(1) + MASK, text)


@render_app.command("saslauthd")
def saslauthd(
    env_file: Annotated[
        Path | None,
        typer.Option("--env-file", help="Read this .env (Compose rules) instead of this process's environment."),
    ] = None,
    generation: Annotated[
        str, typer.Option("--generation", help="current (stable-11146+) or legacy (stable-8922 … stable-11031).")
    ] = "current",
    output: Annotated[
        Path | None, typer.Option("--output", help="Write the file here (atomically, mode 0600) instead of stdout.")
    ] = None,
    redact_pw: Annotated[bool, typer.Option("--redact", help="Mask the bind password.")] = False,
) -> None:
    """Print saslauthd.conf byte for byte as the prosody image renders it from the environment or a .env."""
    from ldapcheck.auth.ldap.render import TEMPLATE_VARIABLES, Generation, render, rendered_gate
    from ldapcheck.core.errors import ConfigError

    if generation not in {g.value for g in Generation}:
        raise ConfigError(f"--generation must be current or legacy, not {generation!r}")
    if env_file is None:
        environ: dict[str, str] = dict(os.environ)
    else:
        from ldapcheck.jitsi.env.parse import read_env_file

        environ = read_env_file(env_file, environ=os.environ).values()
        shell = sorted(k for k in TEMPLATE_VARIABLES if k in os.environ and os.environ[k] != environ.get(k))
        for key in shell:
            environ[key] = os.environ[key]
        if shell:
            sys.stderr.write(
                f"ldapcheck: note: {', '.join(shell)} taken from this shell "
                "(docker compose run here would do the same)\n"
            )
    text = render(environ, generation)
    if redact_pw:
        text = redact(text)
    if not rendered_gate(environ):
        shown = repr(environ["AUTH_TYPE"]) if "AUTH_TYPE" in environ else "unset"
        since = "" if generation == Generation.CURRENT else " (images from stable-9753 on; older ones write it anyway)"
        sys.stderr.write(
            f"ldapcheck: warning: AUTH_TYPE is {shown}, not exactly 'ldap': the container would not write "
            f"saslauthd.conf at all and would not start saslauthd{since}\n"
        )
    data = text.encode("utf-8", "surrogateescape")
    if output is not None:
        from ldapcheck.jitsi.env.write import atomic_write

        atomic_write(output, data, mode=0o600)
        sys.stderr.write(f"ldapcheck: wrote {len(data)} bytes to {output} (mode 0600)\n")
        return
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def register(app: typer.Typer) -> None:
    """Add `render` to `app`."""
    app.add_typer(render_app, name="render")
