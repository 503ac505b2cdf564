"""ldap3 behind a small API: connect (ldaps / StartTLS) with timeouts, bind, root DSE, base read, searches.

Every ldap3 exception is translated into a `NetError` (what failed, and how) or a `FilterError`; result codes of
binds and searches are returned as data, not raised, so checks can explain them.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from typing import Any, Self

from ldapcheck.adapters.errors import (
    AdapterError,
    DnSyntaxError,
    FilterError,
    NetError,
    NetKind,
    Operation,
    PasswordPrepError,
    hostport,
)
from ldapcheck.adapters.tls import ldap3_tls
from ldapcheck.core.record import field, record


@record
class Result:
    """An LDAP result as the server sent it."""

    code: int
    description: str = ""
    message: str = ""
    matched_dn: str = ""
    controls: dict[str, object] = field(default_factory=dict)


def load_library() -> None:
    """Import ldap3 (~0.1 s) before the steps run, so a step's time is the server's, not the import's."""
    import ldap3  # noqa: F401


def ldap3_error(exc: Exception, host: str, port: int, timeout: float, operation: Operation) -> AdapterError:
    """An ldap3 exception (or the socket/ssl error it re-raised) as an adapter error."""
    from ldap3.core import exceptions as e

    text = str(exc)
    low = text.lower()
    where: dict[str, Any] = {"operation": operation, "host": host, "port": port, "timeout": timeout}
    if isinstance(exc, e.LDAPInvalidFilterError):
        return FilterError(text)
    if isinstance(exc, e.LDAPInvalidDnError):
        return DnSyntaxError(text)
    if isinstance(exc, e.LDAPSASLPrepError):
        return PasswordPrepError(text)
    if isinstance(exc, e.LDAPStartTLSError):
        return NetError(NetKind.STARTTLS_REFUSED, text, **{**where, "operation": Operation.STARTTLS})
    if isinstance(exc, e.LDAPCertificateError):
        return NetError(NetKind.TLS_HOSTNAME, text, **where)
    if "name or service not known" in low or "nodename nor servname" in low or "gaierror" in low:
        return NetError(NetKind.DNS, text, **where)
    if "refused" in low:
        return NetError(NetKind.REFUSED, text, **where)
    if "certificate_verify_failed" in low:
        return NetError(NetKind.TLS_UNTRUSTED, text, **where)
    if "wrong version number" in low or "unexpected eof" in low:  # TLS spoken to a plain port, or the reverse
        return NetError(NetKind.PROTO_MISMATCH, f"{text} ({type(exc).__name__})", **where)
    if isinstance(exc, e.LDAPResponseTimeoutError | TimeoutError) or "timed out" in low or "timeout" in low:
        return NetError(NetKind.TIMEOUT, text, **where)
    if operation is Operation.CONNECT and ("socket receive error" in low or "ssl" in low):
        # A server that drops the connection at the first exchange does not speak what we sent.
        return NetError(NetKind.PROTO_MISMATCH, f"{text} ({type(exc).__name__})", **where)
    if isinstance(exc, e.LDAPSocketReceiveError):
        return NetError(NetKind.TIMEOUT, text, **where)
    return NetError(NetKind.UNREACHABLE if operation is Operation.CONNECT else NetKind.CLOSED, text, **where)


class Endpoint:
    """One LDAP server and how to reach it; `open`/`close` around a `with` block (ldap3 and the wire client)."""

    def __init__(self, host: str, port: int, *, tls: bool, timeout: float, start_tls: bool = False) -> None:
        self.host = host
        self.port = port
        self.tls = tls  # TLS from the first byte (ldaps://)
        self.timeout = timeout
        self.start_tls = start_tls

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def hostport(self) -> str:
        """`host:port` of the server."""
        return hostport(self.host, self.port)

    def open(self) -> None:
        """Connect (and StartTLS); no bind yet."""
        raise NotImplementedError

    def close(self) -> None:
        """Unbind and close (never raises)."""
        raise NotImplementedError


class Directory(Endpoint):
    """One ldap3 connection to one server; use as a context manager."""

    _conn: Any = None

    def open(self) -> None:
        """Open the connection (and StartTLS); no bind yet."""
        import ldap3
        from ldap3.core.exceptions import LDAPException

        # The TLS step has already verified this server's chain and name against the right trust anchors and
        # reported it; here we connect as saslauthd with `TLS_REQCERT allow` would.
        use_tls = self.tls or self.start_tls
        server = ldap3.Server(
            self.host,
            port=self.port,
            use_ssl=self.tls,
            tls=ldap3_tls(verify=False) if use_tls else None,
            connect_timeout=self.timeout,
            get_info=ldap3.NONE,
        )
        self._conn = ldap3.Connection(
            server,
            auto_bind=ldap3.AUTO_BIND_NONE,
            receive_timeout=max(1, math.ceil(self.timeout)),  # ldap3 packs it into SO_RCVTIMEO as an int
            raise_exceptions=False,
            read_only=True,
            auto_referrals=False,
            return_empty_attributes=False,
        )
        try:
            self._conn.open()
        except (LDAPException, OSError) as exc:
            raise ldap3_error(exc, self.host, self.port, self.timeout, Operation.CONNECT) from None
        try:
            started = not self.start_tls or self.tls or self._conn.start_tls()
        except (LDAPException, OSError) as exc:
            raise ldap3_error(exc, self.host, self.port, self.timeout, Operation.STARTTLS) from None
        if not started:
            result = self._conn.result or {}
            raise NetError(
                NetKind.STARTTLS_REFUSED,
                str(result.get("message", "") or ""),
                operation=Operation.STARTTLS,
                host=self.host,
                port=self.port,
                timeout=self.timeout,
                result_code=int(result.get("result", -1)),
                result_name=str(result.get("description", "")),
            )

    def close(self) -> None:
        """Unbind and close (never raises)."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.unbind()
            self._conn = None

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        from ldap3.core.exceptions import LDAPException

        try:
            yield
        except (LDAPException, OSError) as exc:
            raise ldap3_error(exc, self.host, self.port, self.timeout, Operation.LDAP) from None

    def _result(self) -> Result:
        r = self._conn.result or {}
        return Result(
            code=int(r.get("result", -1)),
            description=str(r.get("description", "")),
            message=str(r.get("message", "") or "").rstrip("\x00"),
            matched_dn=str(r.get("dn", "") or ""),
            controls=dict(r.get("controls") or {}),
        )

    def bind(self, dn: str, password: str, controls: Sequence[tuple[str, bool, Any]] | None = None) -> Result:
        """Simple bind (anonymous when dn is empty); the result code is returned, not raised."""
        import ldap3

        with self._guard():
            self._conn.user = dn or None
            self._conn.password = password or None
            self._conn.authentication = ldap3.SIMPLE if dn else ldap3.ANONYMOUS
            self._conn.bind(controls=list(controls) if controls else None)
        return self._result()

    def read_entry(self, dn: str, attributes: Sequence[str] = ("1.1",)) -> tuple[Result, dict[str, list[str]]]:
        """Base-scope read of one entry; noSuchObject comes back with matchedDN."""
        import ldap3

        with self._guard():
            self._conn.search(dn, "(objectClass=*)", search_scope=ldap3.BASE, attributes=list(attributes), time_limit=5)
        result = self._result()
        attrs: dict[str, list[str]] = {}
        for entry in self._conn.response or []:
            if entry.get("type") == "searchResEntry":
                for key, values in (entry.get("raw_attributes") or {}).items():
                    attrs[key] = [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in values]
        return result, attrs

    def search_dns(self, base: str, filter_text: str, *, limit: int = 50) -> tuple[Result, list[str]]:
        """DNs of the entries matching `filter_text` under `base` (subtree, no attributes, deref never)."""
        import ldap3

        with self._guard():
            self._conn.search(
                base,
                filter_text,
                search_scope=ldap3.SUBTREE,
                attributes=["1.1"],
                size_limit=limit,
                time_limit=5,
                dereference_aliases=ldap3.DEREF_NEVER,
            )
        dns = [e["dn"] for e in self._conn.response or [] if e.get("type") == "searchResEntry"]
        return self._result(), dns
