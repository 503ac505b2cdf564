"""The context the host chain's steps share: settings, options, the chosen server and open connections."""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from ldapcheck.adapters.ldap.client import DEFAULT_PAGE
from ldapcheck.auth.ldap.saslfilter import expand
from ldapcheck.auth.ldap.settings import ServerUrl, Settings
from ldapcheck.core.record import field, record
from ldapcheck.core.secrets import Secret

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ldapcheck.adapters.ldap.directory import Result


class DirectoryLike(Protocol):
    """What the checks need from a connection: `adapters.ldap.directory.Directory` (ldap3) or `.wire.WireDirectory`."""

    def close(self) -> None: ...
    def bind(self, dn: str, password: str, controls: Sequence[tuple[str, bool, Any]] | None = None) -> Result: ...
    def read_entry(self, dn: str, attributes: Sequence[str] = ...) -> tuple[Result, dict[str, list[str]]]: ...
    def search_dns(self, base: str, filter_text: str, *, limit: int = ...) -> tuple[Result, list[str]]: ...


@record(kw_only=True)
class ChainOptions:
    """What the command asked for."""

    user: str | None = None
    password: Secret | None = field(default=None, repr=False)
    bind_user: bool = True
    count: bool = True
    page_size: int = DEFAULT_PAGE  # the largest: one page where the identity has no limit (client.DEFAULT_PAGE)
    wire: bool = False  # use the raw-socket client instead of ldap3 (count: less memory, faster start)


@record(frozen=False)
class HostContext:
    """Shared state of one run; `values` is the runner's hand-over between steps."""

    settings: Settings
    options: ChainOptions = field(default_factory=ChainOptions)
    values: dict[str, object] = field(default_factory=dict)
    progress: Callable[[int], None] | None = None
    server: ServerUrl | None = None
    # Whether the certificate of each server verified (key: ServerUrl.url); False = we connect like saslauthd.
    tls_ok: dict[str, bool] = field(default_factory=dict)
    # How the last network step of each server failed (key: ServerUrl.url; value: facts[NET]), for net.select.
    net_failed: dict[str, str] = field(default_factory=dict)
    directory: DirectoryLike | None = None
    user_dn: str | None = None
    is_ad: bool = False
    naming_contexts: tuple[str, ...] = ()  # from the root DSE (empty: not readable or none listed)

    def __post_init__(self) -> None:
        if self.server is None and len(self.settings.servers) == 1:
            self.server = self.settings.servers[0]

    def close(self) -> None:
        """Close the shared connection (never raises)."""
        if self.directory is not None:
            with contextlib.suppress(Exception):
                self.directory.close()
            self.directory = None

    def search_base(self) -> str:
        """LDAP_BASE as saslauthd searches it: lak expands %-tokens in the base too (login, realm)."""
        from ldapcheck.auth.ldap.saslfilter import prosody_login

        if "%" not in self.settings.base:
            return self.settings.base
        return expand(self.settings.base, prosody_login(self.options.user or ""), realm=self.settings.xmpp_domain)

    def outside_naming_contexts(self) -> bool:
        """Whether the search base lies under none of the server's naming contexts (unknown contexts: False)."""
        base = _squeezed(self.search_base())
        contexts = [_squeezed(c) for c in self.naming_contexts]
        return bool(base and contexts) and not any(base == c or base.endswith("," + c) or not c for c in contexts)

    # --- reproduce helpers: standard tools, never a password (-W prompts) -------------------

    def env_prefix(self) -> str:
        """`LDAPTLS_CACERT=…` when a CA file is in play, and `LDAPTLS_REQCERT=allow` when the certificate is bad
        but saslauthd accepts it anyway (so that ldapsearch gets as far as saslauthd does)."""
        srv = self.server or self.settings.servers[0]
        if not (srv.tls or self.settings.start_tls):
            return ""
        prefix = f"LDAPTLS_CACERT={shlex.quote(self.settings.ca_file)} " if self.settings.ca_file else ""
        if self.tls_ok.get(srv.url) is False and not self.settings.saslauthd_verifies_peer:
            prefix += "LDAPTLS_REQCERT=allow "
        return prefix

    def ldap_args(self, server: ServerUrl | None = None) -> str:
        """`-x -H url [-ZZ]` for the chosen (or given) server."""
        srv = server or self.server or self.settings.servers[0]
        zz = " -ZZ" if self.settings.start_tls and not srv.tls else ""
        return f"-x -H {shlex.quote(srv.url)}{zz}"

    def bind_args(self) -> str:
        """`-D dn -W` for the service account (nothing when anonymous)."""
        if self.settings.anonymous:
            return ""
        return f" -D {shlex.quote(self.settings.bind_dn)} -W"

    def ldapsearch(self, base: str, filter_text: str, *attrs: str, scope: str = "", extra: str = "") -> str:
        """An ldapsearch command line as the service account."""
        scope_arg = f" -s {scope}" if scope else ""
        tail = " ".join(shlex.quote(a) for a in attrs) or "1.1"
        return (
            f"{self.env_prefix()}ldapsearch {self.ldap_args()}{self.bind_args()}{extra}{scope_arg} "
            f"-b {shlex.quote(base)} {shlex.quote(filter_text)} {tail}"
        )


def _squeezed(dn: str) -> str:
    """A DN compared loosely: lower case, no spaces."""
    return dn.lower().replace(" ", "")
