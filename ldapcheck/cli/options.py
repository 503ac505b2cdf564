"""Options shared by several commands, declared once.

A command names a group by a parameter typed with its dataclass (`ldap: LdapSource`, `out: Output`);
`@grouped` replaces that parameter with the group's options in the signature typer reads, and hands the
command one frozen dataclass. Checks every command wants (a bounded `--timeout`, a non-empty login) live here.
"""

from __future__ import annotations

import functools
import inspect
import math
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import typer

from ldapcheck.commands.source import BIND_PASSWORD_ENV, TIMEOUT_MAX, TIMEOUT_MIN, LdapSource
from ldapcheck.core.record import fields

F = TypeVar("F", bound=Callable[..., Any])


def check_timeout(value: float) -> float:
    """--timeout: seconds for every network operation, 0.1 to 300 (not inf, not nan)."""
    if math.isnan(value) or not TIMEOUT_MIN <= value <= TIMEOUT_MAX:
        raise typer.BadParameter(f"must be between {TIMEOUT_MIN:g} and {TIMEOUT_MAX:g} seconds, not {value!r}")
    return value


def check_login(value: str | None) -> str | None:
    """A login as typed in Jitsi: never empty (saslauthd would be asked about nobody)."""
    if value is not None and not value.strip():
        raise typer.BadParameter("a login cannot be empty")
    return value


@dataclass(frozen=True)
class Output:
    """How to print the report."""

    json_out: bool = False
    markdown: bool = False
    sanitize: bool = False
    verbose: bool = False


_GROUPS: dict[type, dict[str, Any]] = {
    LdapSource: {
        "env_file": Annotated[
            str | None,
            typer.Option(
                "--env-file",
                help="docker-jitsi-meet .env to read LDAP_* and XMPP_DOMAIN from [default: ./.env if it exists "
                "and no --url].",
            ),
        ],
        "url": Annotated[
            str | None, typer.Option("--url", help="LDAP_URL (space-separated URIs); overrides the .env.")
        ],
        "base": Annotated[str | None, typer.Option("--base", help="LDAP_BASE; overrides the .env.")],
        "bind_dn": Annotated[
            str | None,
            typer.Option("--bind-dn", help=f"LDAP_BINDDN (password from the .env or ${BIND_PASSWORD_ENV})."),
        ],
        "filter_text": Annotated[str | None, typer.Option("--filter", help="LDAP_FILTER, e.g. '(uid=%u)'.")],
        "start_tls": Annotated[bool | None, typer.Option("--start-tls/--no-start-tls", help="LDAP_START_TLS.")],
        "ca_file": Annotated[
            str | None, typer.Option("--ca-file", help="CA file (host path) to verify the server certificate with.")
        ],
        "xmpp_domain": Annotated[str | None, typer.Option("--xmpp-domain", help="XMPP_DOMAIN (saslauthd's realm).")],
        "timeout": Annotated[
            float,
            typer.Option(
                "--timeout",
                callback=check_timeout,
                help="Seconds for every network operation, 0.1 to 300 (saslauthd uses 5).",
            ),
        ],
    },
    Output: {
        "json_out": Annotated[bool, typer.Option("--json", help="JSON output (schema in the README).")],
        "markdown": Annotated[bool, typer.Option("--markdown", help="Markdown for a forum post (secrets masked).")],
        "sanitize": Annotated[bool, typer.Option("--sanitize", help="Also mask user DNs and e-mail addresses.")],
        "verbose": Annotated[bool, typer.Option("-v", "--verbose", help="Details of every step.")],
    },
}


def grouped(command: F) -> F:
    """Expand each parameter typed with an option group into that group's options (see the module docstring)."""
    hints = typing.get_type_hints(command, include_extras=True)
    signature = inspect.signature(command)
    params: list[inspect.Parameter] = []
    groups: dict[str, type] = {}
    for p in signature.parameters.values():
        kind = hints.get(p.name)
        if isinstance(kind, type) and kind in _GROUPS:
            groups[p.name] = kind
            defaults = {f.name: f.default for f in fields(kind)}
            params += [
                inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=defaults[name], annotation=hint)
                for name, hint in _GROUPS[kind].items()
            ]
        else:
            params.append(p.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=hints.get(p.name, p.annotation)))

    @functools.wraps(command)
    def run(**kwargs: Any) -> Any:
        for name, kind in groups.items():
            kwargs[name] = kind(**{k: kwargs.pop(k) for k in _GROUPS[kind]})
        return command(**kwargs)

    run.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in params}
    del run.__wrapped__  # typer must read the new signature, not the command's
    return typing.cast(F, run)
