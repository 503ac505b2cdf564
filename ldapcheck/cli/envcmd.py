"""CLI: `ldapcheck env generate` — write docker-jitsi-meet's LDAP block, optionally discovered from the server."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ldapcheck.commands.source import BIND_PASSWORD_ENV

if TYPE_CHECKING:
    from ldapcheck.auth.ldap.envgen import Discovery

env_app = typer.Typer(help="Generate and merge the .env LDAP or JWT block.", no_args_is_help=True, add_completion=False)
JWT_SECRET_ENV = "LDAPCHECK_JWT_SECRET"


def _ask(value: str | None, prompt: str, *, required: bool, default: str = "") -> str:
    if value is not None:
        return value
    if sys.stdin.isatty():
        answer: str = typer.prompt(prompt, default=default, show_default=bool(default))
        return answer
    if required:
        from ldapcheck.core.errors import ConfigError

        raise ConfigError(f"missing {prompt.lower()}: pass it as an option (stdin is not a terminal, so no prompt)")
    return default


def _discover(url: str, ldaps_port: int | None, timeout: float) -> Discovery:
    from ldapcheck.auth.ldap.discovery import read_root_dse
    from ldapcheck.auth.ldap.envgen import Discovery, ldaps_candidate
    from ldapcheck.auth.ldap.settings import first_server
    from ldapcheck.core.step import CheckFailed

    # Discovery only learns what the server offers; certificates are checked by `ldapcheck diagnose`.
    dse = read_root_dse(url, timeout=timeout, verify=False)
    candidate = ldaps_candidate(url, ldaps_port)
    if first_server(url).tls:
        return Discovery(dse, ldaps_answers=True, ldaps_url=url)
    try:
        read_root_dse(candidate, timeout=timeout, verify=False)
        answers = True
    except CheckFailed:
        answers = False
    return Discovery(dse, ldaps_answers=answers, ldaps_url=candidate)


@env_app.command("generate")
def generate(
    auth: Annotated[str, typer.Option("--auth", help="Which block: ldap or jwt.")] = "ldap",
    app_id: Annotated[str | None, typer.Option("--app-id", help="JWT_APP_ID (--auth jwt): your tokens' iss.")] = None,
    app_secret_stdin: Annotated[
        bool,
        typer.Option(
            "--app-secret-stdin",
            help=f"--auth jwt: read JWT_APP_SECRET from stdin (or set {JWT_SECRET_ENV}); default: a random one.",
        ),
    ] = False,
    show_secret: Annotated[
        bool, typer.Option("--show-secret", help="--auth jwt: also print JWT_APP_SECRET on stdout.")
    ] = False,
    url: Annotated[str | None, typer.Option("--url", help="LDAP_URL, e.g. ldaps://ldap.example.org:636")] = None,
    base: Annotated[str | None, typer.Option("--base", help="LDAP_BASE (search base DN).")] = None,
    bind_dn: Annotated[str | None, typer.Option("--bind-dn", help="LDAP_BINDDN (empty: anonymous).")] = None,
    user_filter: Annotated[str | None, typer.Option("--filter", help="LDAP_FILTER, e.g. (uid=%u).")] = None,
    start_tls: Annotated[bool | None, typer.Option("--start-tls/--no-start-tls", help="LDAP_START_TLS.")] = None,
    use_tls: Annotated[
        bool | None, typer.Option("--use-tls/--no-use-tls", help="LDAP_USE_TLS (client cert + peer check).")
    ] = None,
    check_peer: Annotated[bool, typer.Option("--check-peer", help="LDAP_TLS_CHECK_PEER=1 (needs --use-tls).")] = False,
    cacert_file: Annotated[str, typer.Option("--cacert-file", help="LDAP_TLS_CACERT_FILE (path inside prosody).")] = "",
    xmpp_domain: Annotated[str, typer.Option("--xmpp-domain", help="XMPP_DOMAIN (the SASL realm).")] = "",
    discover: Annotated[
        bool, typer.Option("--discover", help="Read the root DSE to propose base, filter, TLS.")
    ] = False,
    ldaps_port: Annotated[int | None, typer.Option("--ldaps-port", help="LDAPS port probed by --discover.")] = None,
    bind_password_stdin: Annotated[
        bool,
        typer.Option("--bind-password-stdin", help=f"Read the bind password from stdin (or set {BIND_PASSWORD_ENV})."),
    ] = False,
    write: Annotated[
        Path | None, typer.Option("--write", help="Merge the block into this .env (atomic, backup).")
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Network timeout in seconds.")] = 5.0,
) -> None:
    """Print docker-jitsi-meet's LDAP block (ENABLE_AUTH, AUTH_TYPE, LDAP_*) or JWT block, or merge it into a .env."""
    if auth == "jwt":
        ldap_given = [url, base, bind_dn, user_filter, start_tls, use_tls] != [None] * 6 or discover
        if ldap_given:
            raise typer.BadParameter("LDAP options do not apply to --auth jwt")
        _generate_jwt(app_id, from_stdin=app_secret_stdin, show_secret=show_secret, write=write)
        return
    if auth != "ldap":
        raise typer.BadParameter(f"--auth must be ldap or jwt, not {auth!r}")
    if app_id is not None or app_secret_stdin or show_secret:
        raise typer.BadParameter("--app-id, --app-secret-stdin and --show-secret are for --auth jwt")
    from ldapcheck.auth.ldap.envgen import LdapSettings, block_values, format_block, propose
    from ldapcheck.cli.common import read_password
    from ldapcheck.core.secrets import Secret

    the_url = _ask(url, "LDAP URL", required=True)
    found = _discover(the_url, ldaps_port, timeout) if discover else None
    the_base = base if base is not None else ("" if found else _ask(None, "Search base DN", required=True))
    dn = _ask(bind_dn, "Bind DN (empty for anonymous bind)", required=False)
    password = Secret("")
    if dn:
        password = read_password(
            from_stdin=bind_password_stdin, prompt=f"Bind password for {dn}: ", env_var=BIND_PASSWORD_ENV
        )
    settings = LdapSettings(
        url=the_url,
        base=the_base,
        filter=user_filter or "(uid=%u)",
        bind_dn=dn,
        bind_password=password,
        start_tls=bool(start_tls),
        use_tls=bool(use_tls),
        check_peer=check_peer,
        cacert_file=cacert_file,
        xmpp_domain=xmpp_domain,
    )
    if found is not None:
        settings, notes = propose(
            settings,
            found,
            base_given=base is not None,
            filter_given=user_filter is not None,
            tls_given=start_tls is not None,
        )
        for note in notes:
            sys.stderr.write(f"ldapcheck: discover: {note}\n")
        if not settings.base:
            settings = LdapSettings(**{**settings.__dict__, "base": _ask(None, "Search base DN", required=True)})
    values = block_values(settings)
    if write is not None:
        _write(write, values)  # first: the block printed below says where the password went
    sys.stdout.write(format_block(settings, written_to=str(write) if write is not None else None))
    sys.stdout.flush()
    if write is None and dn:
        sys.stderr.write("ldapcheck: the bind password is not printed; use --write PATH to store it in the .env\n")
    _self_check(write, values)


def _generate_jwt(app_id: str | None, *, from_stdin: bool, show_secret: bool, write: Path | None) -> None:
    import os

    from ldapcheck.auth.jwt.envgen import block_values, format_block, random_secret
    from ldapcheck.cli.common import read_password
    from ldapcheck.core.errors import ConfigError

    the_id = _ask(app_id, "JWT app id (the iss of your tokens)", required=True)
    if not the_id.strip():
        raise ConfigError("--app-id cannot be empty: tokens are checked against it (iss)")
    given = from_stdin or JWT_SECRET_ENV in os.environ
    secret = (
        read_password(from_stdin=from_stdin, prompt="JWT app secret: ", env_var=JWT_SECRET_ENV)
        if given
        else random_secret()
    )
    if not secret:
        raise ConfigError("the JWT app secret is empty")
    values = block_values(the_id, secret)
    sys.stdout.write(format_block(values, show_secret=show_secret))
    sys.stdout.flush()
    if write is not None:
        _write(write, values)
    elif not show_secret:
        what = "the random JWT_APP_SECRET is lost" if not given else "JWT_APP_SECRET is not printed"
        sys.stderr.write(f"ldapcheck: {what}: use --write PATH to store it in the .env, or --show-secret\n")
    _self_check(write, values)


def _write(path: Path, values: dict[str, str]) -> None:
    import stat

    from ldapcheck.jitsi.env.write import write_env

    result = write_env(path, values)
    what = f"the LDAP block ({len(values)} settings" + (", LDAP_BINDPW included)" if values.get("LDAP_BINDPW") else ")")
    if result.created:
        sys.stderr.write(f"ldapcheck: created {path} (mode 0600) with {what}\n")
    elif result.changed:
        sys.stderr.write(f"ldapcheck: wrote {what} to {path}; previous content in {result.backup}\n")
    else:
        sys.stderr.write(f"ldapcheck: {path} already has these values; not changed\n")
    mode = stat.S_IMODE(path.stat().st_mode)
    if (values.get("LDAP_BINDPW") or values.get("JWT_APP_SECRET")) and mode & 0o077:
        sys.stderr.write(f"ldapcheck: note: {path} holds a secret and has mode {mode:04o}; chmod 600 it\n")


def _self_check(path: Path | None, values: dict[str, str]) -> None:
    """Lint what was produced (the whole file after --write) and show errors and warnings on stderr."""
    from ldapcheck.commands.lint import rules_and_keys
    from ldapcheck.jitsi.env.parse import parse_env, read_env_file
    from ldapcheck.jitsi.env.write import quote_value
    from ldapcheck.jitsi.lint.model import Severity, lint_env

    if path is not None:
        env = read_env_file(path, environ={})
    else:
        env = parse_env("".join(f"{k}={quote_value(v)}\n" for k, v in values.items()), path="<block>", environ={})
    rules, keys = rules_and_keys()
    for f in lint_env(env, rules, keys=keys):
        if f.severity is not Severity.INFO:
            sys.stderr.write(f"ldapcheck: lint: {f.id} {f.severity.value} {f.message}\n")


def register(app: typer.Typer) -> None:
    """Add `env` to `app`."""
    app.add_typer(env_app, name="env")
