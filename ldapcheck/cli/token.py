"""CLI: `ldapcheck token check` (would prosody accept this JWT?) and `token mint` (a short-lived test token).

The token is a credential: it is read from stdin, $LDAPCHECK_TOKEN or a hidden prompt, never from the command line,
and masked in every report. `token mint` prints its token on purpose (and says so on stderr).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from ldapcheck.cli import container as container_cli
from ldapcheck.cli.options import Output, check_timeout, grouped

TOKEN_ENV = "LDAPCHECK_TOKEN"

token_app = typer.Typer(
    help="Check a JWT as prosody's token module would, or mint a test token.",
    no_args_is_help=True,
    add_completion=False,
)

EnvFileOption = Annotated[
    Path, typer.Option("--env-file", help="docker-jitsi-meet .env with ENABLE_AUTH, AUTH_TYPE=jwt and JWT_*.")
]


def read_token(*, from_stdin: bool) -> str:
    """The token from stdin (--token-stdin, or piped), $LDAPCHECK_TOKEN, or a hidden prompt. Never from argv.

    One trailing line break is dropped; anything else (a 'Bearer ' prefix, spaces) is kept: prosody sees it too.
    """
    if not from_stdin and TOKEN_ENV in os.environ:
        return os.environ[TOKEN_ENV]
    if from_stdin or not sys.stdin.isatty():
        text = sys.stdin.read(1 << 20)
        return text[:-2] if text.endswith("\r\n") else text[:-1] if text.endswith("\n") else text
    import getpass

    return getpass.getpass("Token (input hidden): ")


@grouped
def check(
    out: Output,
    env_file: EnvFileOption = Path(".env"),
    token_stdin: Annotated[
        bool, typer.Option("--token-stdin", help=f"Read the token from stdin (else ${TOKEN_ENV} or a prompt).")
    ] = False,
    room: Annotated[str | None, typer.Option("--room", help="Also check the room rules for joining this room.")] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Judge exp/nbf at this time (ISO 8601 or epoch seconds) [default: now, by the prosody container's "
            "clock, else this host's].",
        ),
    ] = None,
    no_container: Annotated[
        bool,
        typer.Option("--no-container", help="Don't look for the prosody container: the .env and this host's clock."),
    ] = False,
    container: Annotated[str | None, container_cli.CONTAINER_OPT] = None,
    project: Annotated[str | None, container_cli.PROJECT_OPT] = None,
    docker_host: Annotated[str | None, container_cli.DOCKER_HOST_OPT] = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            callback=check_timeout,
            help="Seconds for every Docker engine operation (finding prosody, reading its settings and clock), "
            "0.1 to 300.",
        ),
    ] = 5.0,
) -> None:
    """Every rule of prosody's token check, in order, with the running prosody container's settings and clock
    (else the .env's and this host's). Exit 0 accepted, 1 refused, 2 unusable input."""
    from ldapcheck.cli.common import choose_format, emit
    from ldapcheck.commands.token import CheckOptions, parse_at
    from ldapcheck.commands.token import check as command

    if no_container and any((container, project, docker_host)):
        raise typer.BadParameter("--no-container cannot go with --container, --project or --docker-host")
    inside = None
    if not no_container:  # the engine lookup starts now, in the background, while the token and .env are read
        from ldapcheck.commands.inside import ContainerOptions, start_container

        inside = start_container(
            ContainerOptions(container=container, project=project, docker_host=docker_host, timeout=timeout)
        )
    fmt = choose_format(out.json_out, out.markdown)
    moment = parse_at(at) if at is not None else None
    token = read_token(from_stdin=token_stdin)
    report = command(token, CheckOptions(env_file=env_file, room=room, at=moment), inside)
    emit(report, fmt, verbose=out.verbose, sanitize=out.sanitize)


def mint(
    user: Annotated[str, typer.Option("--user", help="The user's id and display name (context.user).")],
    env_file: EnvFileOption = Path(".env"),
    room: Annotated[str, typer.Option("--room", help="The room claim: a room name, or * for any room.")] = "*",
    moderator: Annotated[
        bool, typer.Option("--moderator", help="Write moderator: true (read by token_affiliation-style plugins).")
    ] = False,
    ttl: Annotated[str, typer.Option("--ttl", help="Lifetime: seconds or 90m, 1h; at most 24h.")] = "1h",
) -> None:
    """Print a short-lived HS256 token signed with the .env's JWT_APP_SECRET, and the meeting URL that carries it."""
    from ldapcheck.auth.jwt.report import when
    from ldapcheck.commands.token import mint as command
    from ldapcheck.commands.token import parse_ttl

    minted = command(env_file=env_file, user=user, room=room, moderator=moderator, ttl=parse_ttl(ttl))
    sys.stderr.write(
        f"ldapcheck: this token is a credential: anyone holding it joins as {user!r} until {when(minted.expires)}; "
        "do not log or share it\n"
    )
    if room == "*":
        sys.stderr.write("ldapcheck: the token allows any room: replace ROOM in the URL with a room name\n")
    sys.stdout.write(f"{minted.token}\n{minted.url}\n")
    sys.stdout.flush()


def register(app: typer.Typer) -> None:
    """Add `token` to `app`."""
    token_app.command("check")(check)
    token_app.command("mint")(mint)
    app.add_typer(token_app, name="token")
