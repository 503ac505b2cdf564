"""CLI: `testsasl` — the real login through saslauthd inside the prosody container, nothing else."""

from __future__ import annotations

import typer

from ldapcheck.cli.common import choose_format, emit, read_password

CONTAINER_OPT = typer.Option(
    None, "--container", help="Prosody container name or id (default: compose label service=prosody)."
)
PROJECT_OPT = typer.Option(None, "--project", help="Compose project of the prosody container.")
DOCKER_HOST_OPT = typer.Option(
    None, "--docker-host", help="Docker engine (unix://, tcp://, ssh://user@host); default DOCKER_HOST."
)
TESTSASLAUTHD_OPT = typer.Option(
    False,
    "--testsaslauthd",
    help="Also run testsaslauthd (it puts the password in a process's arguments inside the container).",
)


def register(app: typer.Typer) -> None:
    """Add `testsasl` to `app`."""

    @app.command()
    def testsasl(
        login: str = typer.Argument(..., help="The login as typed in Jitsi (prosody strips @domain)."),
        password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
        container: str | None = CONTAINER_OPT,
        project: str | None = PROJECT_OPT,
        docker_host: str | None = DOCKER_HOST_OPT,
        run_testsaslauthd: bool = TESTSASLAUTHD_OPT,
        json_out: bool = typer.Option(False, "--json", help="JSON output."),
        markdown: bool = typer.Option(False, "--markdown", help="Markdown output (secrets masked)."),
        verbose: bool = typer.Option(False, "-v", "--verbose", help="Details of every step."),
    ) -> None:
        """Ask saslauthd inside the prosody container exactly what prosody asks (service xmpp, realm XMPP_DOMAIN)."""
        from ldapcheck.commands import testsasl as command
        from ldapcheck.commands.diagnose import ContainerOptions

        fmt = choose_format(json_out, markdown)
        password = read_password(from_stdin=password_stdin, prompt=f"Password for {login}: ")
        options = ContainerOptions(
            container=container, project=project, docker_host=docker_host, testsaslauthd=run_testsaslauthd
        )
        report = command.run(options, login, password)
        emit(report, fmt, verbose=verbose)
