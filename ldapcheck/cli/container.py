"""CLI: `testsasl` — the real login through saslauthd inside the prosody container, nothing else."""

from __future__ import annotations

from typing import Annotated

import typer

from ldapcheck.cli.common import choose_format, emit, read_password
from ldapcheck.cli.options import Output, check_login, grouped

# For `Annotated[...]` parameters (no default inside the Option: the parameter's own default is used).
CONTAINER_OPT = typer.Option(
    "--container", help="Prosody container name or id (default: compose label service=prosody)."
)
PROJECT_OPT = typer.Option("--project", help="Compose project of the prosody container.")
DOCKER_HOST_OPT = typer.Option(
    "--docker-host", help="Docker engine (unix://, tcp://, ssh://user@host); default DOCKER_HOST."
)
DEPLOYMENT_OPT = typer.Option(
    "--deployment",
    help="host: Jitsi installed from Debian packages on this host (/etc/prosody, /etc/jitsi); docker: "
    "docker-jitsi-meet containers. Default: host when /etc/prosody/prosody.cfg.lua with conf.d is here and "
    "no prosody container runs.",
)
TESTSASLAUTHD_OPT = typer.Option(
    "--testsaslauthd",
    help="Also run testsaslauthd (it puts the password in a process's arguments inside the container).",
)


@grouped
def testsasl(
    out: Output,
    login: Annotated[
        str, typer.Argument(callback=check_login, help="The login as typed in Jitsi (prosody strips @domain).")
    ],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    container: Annotated[str | None, CONTAINER_OPT] = None,
    project: Annotated[str | None, PROJECT_OPT] = None,
    docker_host: Annotated[str | None, DOCKER_HOST_OPT] = None,
    run_testsaslauthd: Annotated[bool, TESTSASLAUTHD_OPT] = False,
) -> None:
    """Ask saslauthd inside the prosody container exactly what prosody asks (service xmpp, realm XMPP_DOMAIN).

    Only this one link is checked; `ldapcheck diagnose --user LOGIN` runs the whole chain and names the cause.
    """
    from ldapcheck.commands import testsasl as command
    from ldapcheck.commands.inside import ContainerOptions

    fmt = choose_format(out.json_out, out.markdown)
    password = read_password(from_stdin=password_stdin, prompt=f"Password for {login}: ")
    options = ContainerOptions(
        container=container, project=project, docker_host=docker_host, testsaslauthd=run_testsaslauthd
    )
    emit(command.run(options, login, password), fmt, verbose=out.verbose, sanitize=out.sanitize)


def register(app: typer.Typer) -> None:
    """Add `testsasl` to `app`."""
    app.command("testsasl")(testsasl)
