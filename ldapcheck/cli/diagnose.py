"""CLI: `diagnose`, `count` and `user` — flags to options, options to a command, the report to stdout."""

from __future__ import annotations

from typing import Annotated

import typer

from ldapcheck.cli import container as container_cli
from ldapcheck.cli.common import choose_format, emit, read_password
from ldapcheck.cli.fastcount import PAGE_SIZE_DEFAULT, PAGE_SIZE_HELP, PAGE_SIZE_MAX
from ldapcheck.cli.options import Output, check_login, grouped
from ldapcheck.cli.terminal import progress_line
from ldapcheck.commands.source import LdapSource

_PW_STDIN = typer.Option(
    "--password-stdin",
    help="Read the user's password from the first line of stdin (else $LDAPCHECK_PASSWORD, else a hidden prompt; "
    "never an argument).",
)


@grouped
def diagnose(
    ldap: LdapSource,
    out: Output,
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            callback=check_login,
            help="Also check this login (LDAP: search, state, password; internal: the account and one real login).",
        ),
    ] = None,
    password_stdin: Annotated[bool, _PW_STDIN] = False,
    no_bind: Annotated[bool, typer.Option("--no-bind", help="With --user: don't try the password.")] = False,
    no_container: Annotated[
        bool, typer.Option("--no-container", help="Skip the steps inside the prosody container.")
    ] = False,
    container: Annotated[str | None, container_cli.CONTAINER_OPT] = None,
    project: Annotated[str | None, container_cli.PROJECT_OPT] = None,
    docker_host: Annotated[str | None, container_cli.DOCKER_HOST_OPT] = None,
    run_testsaslauthd: Annotated[bool, container_cli.TESTSASLAUTHD_OPT] = False,
    token: Annotated[
        bool,
        typer.Option(
            "--token",
            help="jwt: also check a token and log in with it (read from $LDAPCHECK_TOKEN or a hidden prompt).",
        ),
    ] = False,
    token_stdin: Annotated[
        bool, typer.Option("--token-stdin", help="jwt: read the token from stdin (implies --token).")
    ] = False,
    room: Annotated[
        str | None, typer.Option("--room", help="jwt: the room the token is for (the join rules; &room= on BOSH).")
    ] = None,
    deployment: Annotated[str | None, container_cli.DEPLOYMENT_OPT] = None,
) -> None:
    """Walk the login path of the modes the .env turns on and name what breaks: LDAP through saslauthd (DNS, TCP,
    TLS, bind, base, count, user), or internal accounts, guests, jicofo and web with a real BOSH/WebSocket login, or
    jwt: the rendered token settings, the token module, the clock and, with --token-stdin, the token's login."""
    from ldapcheck.commands import diagnose as command
    from ldapcheck.jitsi.deploy.detect import KINDS, choose

    if deployment is not None and deployment not in KINDS:
        raise typer.BadParameter(f"{deployment!r}: choose one of {', '.join(KINDS)}", param_hint="--deployment")
    choice = None
    if not no_container:
        choice = choose(deployment, names_container=bool(container or project or docker_host), env_file=ldap.env_file)
    inside = None
    if (
        not no_container and choice is not None and choice.kind == "docker"
    ):  # the engine lookup starts now, in the background, while the .env is read
        from ldapcheck.commands.inside import ContainerOptions, start_container

        inside = start_container(
            ContainerOptions(
                container=container, project=project, docker_host=docker_host, testsaslauthd=run_testsaslauthd
            )
        )
        inside.session.values["deployment.reason"] = choice.reason
    fmt = choose_format(out.json_out, out.markdown)
    if token_stdin and password_stdin:
        raise typer.BadParameter("--token-stdin and --password-stdin cannot both read stdin")
    the_token = None
    if token or token_stdin:
        from ldapcheck.cli.token import read_token
        from ldapcheck.core.secrets import Secret

        text = read_token(from_stdin=token_stdin)
        the_token = Secret(text) if text.strip() else None
    password = None
    if user and not no_bind:
        password = read_password(from_stdin=password_stdin, prompt=f"Password for {user}: ")
    if choice is not None and choice.kind == "host":
        from ldapcheck.commands import diagnose_host

        report = diagnose_host.run(
            ldap,
            user=user,
            password=password,
            bind_user=not no_bind,
            session=diagnose_host.open_host(timeout=ldap.timeout, reason=choice.reason),
            token=the_token,
            room=room,
            testsaslauthd=run_testsaslauthd,
        )
        emit(report, fmt, verbose=out.verbose, sanitize=out.sanitize)
        return
    with progress_line("counting") as progress:
        report = command.run(
            ldap,
            user=user,
            password=password,
            bind_user=not no_bind,
            inside=inside,
            progress=progress,
            token=the_token,
            room=room,
        )
    emit(report, fmt, verbose=out.verbose, sanitize=out.sanitize)


@grouped
def count(
    ldap: LdapSource,
    out: Output,
    page_size: Annotated[
        int,
        typer.Option("--page-size", min=1, max=PAGE_SIZE_MAX, help=PAGE_SIZE_HELP, show_default="the largest"),
    ] = PAGE_SIZE_DEFAULT,
) -> None:
    """Count the entries LDAP_FILTER could match under LDAP_BASE (paged; a server limit is reported)."""
    from ldapcheck.commands.count import count as command

    fmt = choose_format(out.json_out, out.markdown)
    with progress_line("counting") as progress:
        report = command(ldap, page_size=page_size, progress=progress)
    emit(report, fmt, verbose=out.verbose, sanitize=out.sanitize)


@grouped
def user(
    ldap: LdapSource,
    out: Output,
    login: Annotated[str, typer.Argument(callback=check_login, help="The login as typed in Jitsi.")],
    password_stdin: Annotated[bool, _PW_STDIN] = False,
    no_bind: Annotated[bool, typer.Option("--no-bind", help="Only search; don't try the password.")] = False,
) -> None:
    """Check one login: saslauthd's search (exact filter expansion), account state, the password bind."""
    from ldapcheck.commands.user import user as command

    fmt = choose_format(out.json_out, out.markdown)
    password = None if no_bind else read_password(from_stdin=password_stdin, prompt=f"Password for {login}: ")
    emit(command(ldap, login, password), fmt, verbose=out.verbose, sanitize=out.sanitize)


def register(app: typer.Typer) -> None:
    """Add `diagnose`, `count` and `user` to `app`."""
    app.command("diagnose")(diagnose)
    app.command("count")(count)
    app.command("user")(user)
