"""CLI: `validate` — check a whole directory before rollout: who will be able to log in, and who not, and why."""

from __future__ import annotations

import sys
from collections.abc import Callable

import typer

from ldapcheck.cli.common import choose_format, emit, read_password
from ldapcheck.cli.diagnose import (
    _BASE,
    _BIND_DN,
    _CA_FILE,
    _ENV_FILE,
    _FILTER,
    _JSON,
    _MARKDOWN,
    _SANITIZE,
    _START_TLS,
    _TIMEOUT,
    _URL,
    _VERBOSE,
    _XMPP,
    load_settings,
    resolve_env_file,
)
from ldapcheck.core.errors import ConfigError

COMPARE_PASSWORD_ENV = "LDAPCHECK_COMPARE_PASSWORD"


def read_users_file(path: str) -> tuple[str, ...]:
    """Logins, one a line as typed in Jitsi (blank lines and `#` comments skipped; spaces kept, they matter)."""
    from ldapcheck.core.files import LIST_FILE_LIMIT, read_bounded

    try:
        text = read_bounded(path, limit=LIST_FILE_LIMIT, what=f"--users-file {path}").decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"--users-file {path}: not UTF-8 text") from None
    logins = tuple(line.rstrip("\r\n") for line in text.split("\n") if line.strip() and not line.startswith("#"))
    if not logins:
        raise ConfigError(f"--users-file {path}: no logins in it (one login a line)")
    return logins


def _progress() -> Callable[[int], None] | None:
    if not sys.stderr.isatty():
        return None

    def show(count: int) -> None:
        sys.stderr.write(f"\r  scanning… {count:,} entries")
        sys.stderr.flush()

    return show


def register(app: typer.Typer) -> None:
    """Add `validate` to `app`."""

    @app.command()
    def validate(
        env_file: str | None = _ENV_FILE,
        sample: int = typer.Option(20, "--sample", min=0, max=10_000, help="Logins to look up as saslauthd does."),
        users_file: str | None = typer.Option(
            None, "--users-file", help="Look up these logins (one a line) instead of a sample."
        ),
        url: str | None = _URL,
        base: str | None = _BASE,
        bind_dn: str | None = _BIND_DN,
        filter_text: str | None = _FILTER,
        start_tls: bool | None = _START_TLS,
        ca_file: str | None = _CA_FILE,
        xmpp_domain: str | None = _XMPP,
        timeout: float = _TIMEOUT,
        compare_bind_dn: str | None = typer.Option(
            None,
            "--compare-bind-dn",
            help="Also count the users as this DN (e.g. an admin) to find entries ACLs hide; "
            f"password from ${COMPARE_PASSWORD_ENV} or a prompt.",
        ),
        page_size: int = typer.Option(1000, "--page-size", min=1, max=100_000, help="Entries per page of the scan."),
        json_out: bool = _JSON,
        markdown: bool = _MARKDOWN,
        sanitize: bool = _SANITIZE,
        verbose: bool = _VERBOSE,
    ) -> None:
        """Scan the directory as saslauthd's service account: duplicates, unusable logins, locked accounts, security."""
        from ldapcheck.auth.ldap.validate import ValidateOptions, run_validate

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
        users = read_users_file(users_file) if users_file else None
        compare_password = (
            read_password(from_stdin=False, prompt=f"Password for {compare_bind_dn}: ", env_var=COMPARE_PASSWORD_ENV)
            if compare_bind_dn
            else None
        )
        options = ValidateOptions(
            sample=sample,
            users=users,
            page_size=page_size,
            sanitize=sanitize,
            compare_bind_dn=compare_bind_dn or "",
            compare_password=compare_password,
        )
        progress = _progress()
        try:
            report = run_validate(settings, options, progress=progress)
        finally:
            if progress is not None:
                sys.stderr.write("\r\033[K")
                sys.stderr.flush()
        emit(report, fmt, verbose=verbose, sanitize=sanitize)
