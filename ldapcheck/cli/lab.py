"""CLI: `ldapcheck lab up | down | status` — the OpenLDAP → saslauthd → prosody lab on 127.0.0.1."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from ldapcheck.lab.manager import LabStatus

lab_app = typer.Typer(
    name="lab",
    help="A working copy of docker-jitsi-meet's LDAP login chain (OpenLDAP → saslauthd → prosody) in containers.",
    no_args_is_help=True,
)


def _progress_printer() -> Callable[[str], None]:
    started = time.monotonic()

    def progress(message: str) -> None:
        print(f"[{time.monotonic() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    return progress


def _describe(status: LabStatus) -> list[str]:
    state = status.state
    if state is None:
        return ["lab: down"]
    lines = [f"lab: {'up' if status.up else 'DEGRADED'} (project {state.project}, {state.n_users} generated users)"]
    for name, container_status in sorted(status.containers.items()):
        lines.append(f"  container {name}: {container_status}")
    silent = [name for name, ok in status.answering.items() if not ok]
    if silent:
        lines.append(f"  not answering on 127.0.0.1: {', '.join(silent)}")
    lines += [
        f"  LDAP     ldap://127.0.0.1:{state.ldap_port} (StartTLS)  ldaps://127.0.0.1:{state.ldaps_port}",
        f"  base     {state.suffix}",
        f"  XMPP     c2s 127.0.0.1:{state.c2s_port}, domain {state.xmpp_domain}",
        f"  CA       {state.ca_cert}",
        f"  .env     {state.env_file} (0600; LAB_USER / LAB_PASSWORD inside)",
    ]
    return lines


@lab_app.command("up")
def up_command(
    users: Annotated[
        int, typer.Option("--users", min=0, max=1_000_000, help="How many generated users (user0001…).")
    ] = 1200,
    env_out: Annotated[
        Path | None,
        typer.Option("--env-out", help="Write the lab's docker-jitsi-meet .env here (mode 0600). Default: lab dir."),
    ] = None,
) -> None:
    """Build missing images, start the lab, wait until alice logs in through saslauthd, write the .env."""
    from ldapcheck.lab import manager

    progress = _progress_printer()
    status = manager.up(users, env_out, progress=progress)
    if not status.already_running:
        progress("lab ready")
    print("\n".join(_describe(status)))


@lab_app.command("down")
def down_command() -> None:
    """Remove the lab's containers and the files `lab up` wrote (including its .env)."""
    from ldapcheck.lab import manager

    manager.down(progress=_progress_printer())


@lab_app.command("status")
def status_command() -> None:
    """Show whether the lab runs, where it listens and where its .env is. Exit 1 when it is not up."""
    from ldapcheck.lab import manager

    status = manager.status()
    print("\n".join(_describe(status)))
    if not status.up:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.add_typer(lab_app, name="lab")
