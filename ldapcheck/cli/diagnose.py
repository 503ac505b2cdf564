"""CLI: `diagnose`, `count` and `user` — walk saslauthd's LDAP path from this host and name what breaks."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from ldapcheck.cli import container as container_cli
from ldapcheck.cli.common import choose_format, emit, read_password

if TYPE_CHECKING:
    from ldapcheck.auth.ldap.settings import Settings

BIND_PASSWORD_ENV = "LDAPCHECK_BIND_PASSWORD"
DEFAULT_ENV_FILE = ".env"

_ENV_FILE = typer.Option(
    None,
    "--env-file",
    help="docker-jitsi-meet .env to read LDAP_* and XMPP_DOMAIN from [default: ./.env if it exists and no --url].",
)
_URL = typer.Option(None, "--url", help="LDAP_URL (space-separated URIs); overrides the .env.")
_BASE = typer.Option(None, "--base", help="LDAP_BASE; overrides the .env.")
_BIND_DN = typer.Option(None, "--bind-dn", help=f"LDAP_BINDDN (password from the .env or ${BIND_PASSWORD_ENV}).")
_FILTER = typer.Option(None, "--filter", help="LDAP_FILTER, e.g. '(uid=%u)'.")
_START_TLS = typer.Option(None, "--start-tls/--no-start-tls", help="LDAP_START_TLS.")
_CA_FILE = typer.Option(None, "--ca-file", help="CA file (host path) to verify the server certificate with.")
_XMPP = typer.Option(None, "--xmpp-domain", help="XMPP_DOMAIN (saslauthd's realm).")
_TIMEOUT = typer.Option(5.0, "--timeout", help="Seconds for every network operation (saslauthd uses 5).")
_JSON = typer.Option(False, "--json", help="JSON output (schema in the README).")
_MARKDOWN = typer.Option(False, "--markdown", help="Markdown for a forum post (secrets masked).")
_SANITIZE = typer.Option(False, "--sanitize", help="Also mask user DNs and e-mail addresses.")
_VERBOSE = typer.Option(False, "-v", "--verbose", help="Details of every step.")
_PW_STDIN = typer.Option(False, "--password-stdin", help="Read the user's password from the first line of stdin.")


def resolve_env_file(env_file: str | None, url: str | None) -> str | None:
    """--env-file, else ./.env when there is one and no --url (admins run ldapcheck in their docker-jitsi-meet dir)."""
    if env_file is None and url is None and os.path.isfile(DEFAULT_ENV_FILE):
        return DEFAULT_ENV_FILE
    return env_file


def load_settings(
    env_file: str | None,
    *,
    url: str | None = None,
    base: str | None = None,
    bind_dn: str | None = None,
    filter_text: str | None = None,
    start_tls: bool | None = None,
    ca_file: str | None = None,
    xmpp_domain: str | None = None,
    timeout: float = 5.0,
) -> Settings:
    """Settings from the .env (if any) with command-line overrides; the bind password never from argv."""
    from ldapcheck.auth.ldap import settings as s
    from ldapcheck.core.errors import ConfigError

    env: dict[str, str] = s.read_env_file(env_file) if env_file else {}
    overrides = {
        "LDAP_URL": url,
        "LDAP_BASE": base,
        "LDAP_BINDDN": bind_dn,
        "LDAP_FILTER": filter_text,
        "XMPP_DOMAIN": xmpp_domain,
    }
    env.update({k: v for k, v in overrides.items() if v is not None})
    if start_tls is not None:
        env["LDAP_START_TLS"] = "1" if start_tls else "0"
    if BIND_PASSWORD_ENV in os.environ:
        env["LDAP_BINDPW"] = os.environ[BIND_PASSWORD_ENV]
    if not env.get("LDAP_URL"):
        where = f"{env_file} has no LDAP_URL" if env_file else "no LDAP_URL and no ./.env here"
        raise ConfigError(f"{where}: pass --env-file PATH (docker-jitsi-meet .env) or --url ldap://host:389")
    if ca_file and not os.path.isfile(ca_file):
        raise ConfigError(f"--ca-file {ca_file}: no such file")
    settings = s.from_env(env, source=env_file or "options", ca_file=ca_file or "")
    return settings.with_overrides(timeout=timeout) if timeout != settings.timeout else settings


def _progress() -> Callable[[int], None] | None:
    if not sys.stderr.isatty():
        return None

    def show(count: int) -> None:
        sys.stderr.write(f"\r  counting… {count:,} entries")
        sys.stderr.flush()

    return show


def _clear_progress(progress: Callable[[int], None] | None) -> None:
    if progress is not None:
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()


def register(app: typer.Typer) -> None:
    """Add `diagnose`, `count` and `user` to `app`."""

    @app.command()
    def diagnose(
        env_file: str | None = _ENV_FILE,
        user: str | None = typer.Option(None, "--user", help="Also check this login (search, state, password)."),
        password_stdin: bool = _PW_STDIN,
        no_bind: bool = typer.Option(False, "--no-bind", help="With --user: don't try the password."),
        url: str | None = _URL,
        base: str | None = _BASE,
        bind_dn: str | None = _BIND_DN,
        filter_text: str | None = _FILTER,
        start_tls: bool | None = _START_TLS,
        ca_file: str | None = _CA_FILE,
        xmpp_domain: str | None = _XMPP,
        timeout: float = _TIMEOUT,
        json_out: bool = _JSON,
        markdown: bool = _MARKDOWN,
        sanitize: bool = _SANITIZE,
        verbose: bool = _VERBOSE,
        no_container: bool = typer.Option(False, "--no-container", help="Skip the steps inside the prosody container."),
        container: str | None = container_cli.CONTAINER_OPT,
        project: str | None = container_cli.PROJECT_OPT,
        docker_host: str | None = container_cli.DOCKER_HOST_OPT,
        run_testsaslauthd: bool = container_cli.TESTSASLAUTHD_OPT,
    ) -> None:
        """Walk saslauthd's LDAP path (DNS, TCP, TLS, bind, base, count, user) and name what breaks."""
        from ldapcheck.commands import diagnose as command

        env_file = resolve_env_file(env_file, url)
        inside = None
        if not no_container:  # the engine lookup starts now, in the background, while the .env is read
            inside = command.start_container(
                command.ContainerOptions(
                    container=container, project=project, docker_host=docker_host, testsaslauthd=run_testsaslauthd
                )
            )
        from ldapcheck.auth.ldap import chain
        from ldapcheck.auth.ldap.settings import read_env_file

        fmt = choose_format(json_out, markdown)
        settings = load_settings(
            env_file,
            url=url,
            base=base,
            bind_dn=bind_dn,
            filter_text=filter_text,
            start_tls=start_tls,
            ca_file=ca_file,
            xmpp_domain=xmpp_domain,
            timeout=timeout,
        )
        password = None
        if user and not no_bind:
            password = read_password(from_stdin=password_stdin, prompt=f"Password for {user}: ")
        progress = _progress()
        report = command.diagnose(
            settings,
            chain.ChainOptions(user=user, password=password, bind_user=not no_bind),
            inside=inside,
            expected_env=read_env_file(env_file) if env_file and inside is not None else None,
            env_file=env_file,
            progress=progress,
        )
        _clear_progress(progress)
        emit(report, fmt, verbose=verbose, sanitize=sanitize)

    @app.command()
    def count(
        env_file: str | None = _ENV_FILE,
        url: str | None = _URL,
        base: str | None = _BASE,
        bind_dn: str | None = _BIND_DN,
        filter_text: str | None = _FILTER,
        start_tls: bool | None = _START_TLS,
        ca_file: str | None = _CA_FILE,
        xmpp_domain: str | None = _XMPP,
        timeout: float = _TIMEOUT,
        page_size: int = typer.Option(5000, "--page-size", min=1, max=100000, help="Entries per page (max asked)."),
        json_out: bool = _JSON,
        markdown: bool = _MARKDOWN,
        verbose: bool = _VERBOSE,
    ) -> None:
        """Count the entries LDAP_FILTER could match under LDAP_BASE (paged; a server limit is reported)."""
        from ldapcheck.auth.ldap import chain

        env_file = resolve_env_file(env_file, url)
        fmt = choose_format(json_out, markdown)
        settings = load_settings(
            env_file,
            url=url,
            base=base,
            bind_dn=bind_dn,
            filter_text=filter_text,
            start_tls=start_tls,
            ca_file=ca_file,
            xmpp_domain=xmpp_domain,
            timeout=timeout,
        )
        progress = _progress()
        options = chain.ChainOptions(page_size=page_size, wire=True)
        report = chain.run_chain("count", chain.count_steps, settings, options, progress=progress)
        _clear_progress(progress)
        emit(report, fmt, verbose=verbose)

    @app.command()
    def user(
        login: str = typer.Argument(..., help="The login as typed in Jitsi."),
        env_file: str | None = _ENV_FILE,
        password_stdin: bool = _PW_STDIN,
        no_bind: bool = typer.Option(False, "--no-bind", help="Only search; don't try the password."),
        url: str | None = _URL,
        base: str | None = _BASE,
        bind_dn: str | None = _BIND_DN,
        filter_text: str | None = _FILTER,
        start_tls: bool | None = _START_TLS,
        ca_file: str | None = _CA_FILE,
        xmpp_domain: str | None = _XMPP,
        timeout: float = _TIMEOUT,
        json_out: bool = _JSON,
        markdown: bool = _MARKDOWN,
        sanitize: bool = _SANITIZE,
        verbose: bool = _VERBOSE,
    ) -> None:
        """Check one login: saslauthd's search (exact filter expansion), account state, the password bind."""
        from ldapcheck.auth.ldap import chain

        env_file = resolve_env_file(env_file, url)
        fmt = choose_format(json_out, markdown)
        settings = load_settings(
            env_file,
            url=url,
            base=base,
            bind_dn=bind_dn,
            filter_text=filter_text,
            start_tls=start_tls,
            ca_file=ca_file,
            xmpp_domain=xmpp_domain,
            timeout=timeout,
        )
        password = None if no_bind else read_password(from_stdin=password_stdin, prompt=f"Password for {login}: ")
        options = chain.ChainOptions(user=login, password=password, bind_user=not no_bind)
        report = chain.run_chain("user", chain.user_steps, settings, options)
        emit(report, fmt, verbose=verbose, sanitize=sanitize)
