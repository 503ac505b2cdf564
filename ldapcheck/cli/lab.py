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
    help=(
        "A working copy of docker-jitsi-meet's login chain in containers: LDAP (OpenLDAP → saslauthd → prosody) or "
        "internal accounts, with guests if asked, behind nginx (BOSH/WebSocket)."
    ),
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
    mode = f"AUTH_TYPE={state.auth}{', guests' if state.guests else ''}"
    users = f", {state.n_users} generated users" if state.auth == "ldap" else ""
    kind = ", Debian-package host" if state.deployment == "host" else ""
    lines = [f"lab: {'up' if status.up else 'DEGRADED'} (project {state.project}{kind}, {mode}{users})"]
    for name, container_status in sorted(status.containers.items()):
        role = status.roles.get(name, "")
        lines.append(f"  container {name}: {container_status}{f' ({role})' if role else ''}")
    silent = [name for name, ok in status.answering.items() if not ok]
    if silent:
        lines.append(f"  not answering on 127.0.0.1: {', '.join(silent)}")
    if state.auth == "ldap":
        lines += [
            f"  LDAP     ldap://127.0.0.1:{state.ldap_port} (StartTLS)  ldaps://127.0.0.1:{state.ldaps_port}",
            f"  base     {state.suffix}",
        ]
    lines.append(f"  XMPP     c2s 127.0.0.1:{state.c2s_port}, domain {state.xmpp_domain}")
    if state.deployment == "host":
        lines += [
            f"  web      {state.public_url} (nginx: config.js, /http-bind, /xmpp-websocket)"
            f" → prosody 127.0.0.1:{state.http_port}",
            f"  host     docker exec -it {state.host_name} bash   (then: ldapcheck diagnose; jicofo and the"
            " jitsi-meet web app are not in Debian: their files are there, nothing runs them)",
        ]
    elif state.web_port:
        lines += [
            f"  web      {state.public_url} (config.js, /http-bind, /xmpp-websocket)"
            f" → prosody 127.0.0.1:{state.http_port}",
        ]
    if state.ca_cert:
        lines.append(f"  CA       {state.ca_cert}")
    lines.append(f"  .env     {state.env_file} (0600; LAB_USER / LAB_PASSWORD inside)")
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
    auth: Annotated[
        str,
        typer.Option(
            "--auth",
            help="AUTH_TYPE the lab runs: ldap (OpenLDAP → saslauthd), internal (prosody accounts; alice) or jwt "
            "(token config rendered; Debian has no token module, so no token login).",
        ),
    ] = "ldap",
    guests: Annotated[
        bool, typer.Option("--guests", help="ENABLE_GUESTS=1: the anonymous guest host and config.js anonymousdomain.")
    ] = False,
    deployment: Annotated[
        str,
        typer.Option(
            "--deployment",
            help="docker: docker-jitsi-meet's services; host: one container that is a Jitsi host installed from "
            "Debian packages (prosody, saslauthd, nginx, the /etc files the guides leave; ldapcheck installed inside "
            "from this checkout's wheel). jicofo and jitsi-meet-web are not in Debian: their files are written, "
            "nothing runs them.",
        ),
    ] = "docker",
) -> None:
    """Build missing images, start the lab, wait until alice logs in through nginx, write the .env."""
    from ldapcheck.lab import manager
    from ldapcheck.lab.spec import AUTH_MODES, DEPLOYMENTS

    if auth not in AUTH_MODES:
        raise typer.BadParameter(f"choose one of {', '.join(AUTH_MODES)}", param_hint="--auth")
    if deployment not in DEPLOYMENTS:
        raise typer.BadParameter(f"choose one of {', '.join(DEPLOYMENTS)}", param_hint="--deployment")
    progress = _progress_printer()
    status = manager.up(users, env_out, progress=progress, auth=auth, guests=guests, deployment=deployment)
    if not status.already_running:
        progress("lab ready")
    print("\n".join(_describe(status)))


@lab_app.command("down")
def down_command() -> None:
    """Remove the lab's containers and the files `lab up` wrote (including its .env)."""
    from ldapcheck.lab import manager

    manager.down(progress=_progress_printer())


@lab_app.command("status")
def status_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="The lab's containers (role, name, status, ports) as JSON.")
    ] = False,
) -> None:
    """Show whether the lab runs, where it listens and where its .env is. Exit 1 when it is not up."""
    import json

    from ldapcheck.lab import manager

    status = manager.status()
    print(json.dumps(status.as_json(), indent=2) if as_json else "\n".join(_describe(status)))
    if not status.up:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.add_typer(lab_app, name="lab")
