"""CLI: `ldapcheck validate` — directory-wide checks before a rollout."""

from __future__ import annotations

from typing import Annotated

import typer

from ldapcheck.cli.common import choose_format, emit, read_password
from ldapcheck.cli.fastcount import PAGE_SIZE_DEFAULT, PAGE_SIZE_HELP, PAGE_SIZE_MAX
from ldapcheck.cli.options import Output, grouped
from ldapcheck.cli.terminal import progress_line
from ldapcheck.commands.source import LdapSource
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


@grouped
def validate(
    ldap: LdapSource,
    out: Output,
    sample: Annotated[
        int, typer.Option("--sample", min=0, max=10_000, help="Logins to look up as saslauthd does.")
    ] = 20,
    users_file: Annotated[
        str | None, typer.Option("--users-file", help="Look up these logins (one a line) instead of a sample.")
    ] = None,
    compare_bind_dn: Annotated[
        str | None,
        typer.Option(
            "--compare-bind-dn",
            help="Also count the users as this DN (e.g. an admin) to find entries ACLs hide; "
            f"password from ${COMPARE_PASSWORD_ENV} or a prompt.",
        ),
    ] = None,
    page_size: Annotated[
        int,
        typer.Option("--page-size", min=1, max=PAGE_SIZE_MAX, help=PAGE_SIZE_HELP, show_default="the largest"),
    ] = PAGE_SIZE_DEFAULT,
) -> None:
    """Scan the directory as saslauthd's service account: duplicates, unusable logins, locked accounts, security."""
    from ldapcheck.auth.ldap.validate import ValidateOptions
    from ldapcheck.commands.validate import validate as command

    fmt = choose_format(out.json_out, out.markdown)
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
        sanitize=out.sanitize,
        compare_bind_dn=compare_bind_dn or "",
        compare_password=compare_password,
    )
    with progress_line("scanning") as progress:
        report = command(ldap, options, progress=progress)
    emit(report, fmt, verbose=out.verbose, sanitize=out.sanitize)


def register(app: typer.Typer) -> None:
    """Add `validate` to `app`."""
    app.command("validate")(validate)
