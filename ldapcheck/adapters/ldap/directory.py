"""ldap3 behind a small API: connect (ldaps / StartTLS) with timeouts, bind, root DSE, base read, searches.

Every ldap3 exception is translated into CheckFailed with a catalogue id and what to do; result codes of
binds and searches are returned as data, not raised, so checks can explain them.
"""

from __future__ import annotations

import contextlib
import math
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ldapcheck.auth.ldap.settings import ServerUrl
from ldapcheck.core.step import CheckFailed


@dataclass(frozen=True)
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


def _ldap3_error(exc: Exception, server: ServerUrl, timeout: float) -> CheckFailed:
    from ldap3.core import exceptions as e

    text = str(exc)
    if isinstance(exc, e.LDAPStartTLSError):
        return CheckFailed(
            "TLS-STARTTLS-UNSUPPORTED",
            f"StartTLS on {server.url} failed: {text}",
            hint="The server doesn't offer StartTLS. Configure TLS on the server, or use ldaps:// if port 636 works.",
        )
    if isinstance(exc, e.LDAPInvalidFilterError):
        return CheckFailed("CL-FILTER", f"invalid search filter: {text}", hint="Fix LDAP_FILTER's syntax.")
    if isinstance(exc, e.LDAPCertificateError):
        return CheckFailed("TLS-HOSTNAME", f"certificate name check failed for {server.host}: {text}")
    if isinstance(exc, e.LDAPResponseTimeoutError | e.LDAPSocketReceiveError) or "timed out" in text:
        return CheckFailed(
            "NET-TIMEOUT",
            f"{server.url} did not answer within {timeout:g} s",
            hint="The server hangs or is overloaded; saslauthd gives up after 5 s. Check the server's health.",
        )
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return CheckFailed(
            "TLS-SELF-SIGNED",
            f"certificate of {server.url} is not trusted: {text}",
            hint="Pass the directory's CA with --ca-file (and mount it into prosody as LDAP_TLS_CACERT_FILE).",
        )
    if "refused" in text:
        return CheckFailed("NET-REFUSED", f"{server.hostport} refused the connection", hint="Is the server running?")
    return CheckFailed(
        "LDAP-SERVER-DOWN",
        f"LDAP connection to {server.url} failed: {text}",
        hint="Check the server, the port and the scheme (ldap:// vs ldaps://).",
    )


class Directory:
    """One ldap3 connection to one server; use as a context manager."""

    def __init__(
        self,
        server: ServerUrl,
        *,
        timeout: float,
        start_tls: bool = False,
    ) -> None:
        self.server = server
        self.timeout = timeout
        self.start_tls = start_tls
        self._conn: Any = None

    def __enter__(self) -> Directory:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _tls(self) -> Any:
        from ldap3 import Tls

        # The tls.handshake step has already verified this server's chain and name against the right trust
        # anchors and reported it; here we connect as saslauthd with `TLS_REQCERT allow` would. (ldap3's own
        # name check also relies on ssl.match_hostname, deprecated since Python 3.7.)
        return Tls(validate=ssl.CERT_NONE)

    def open(self) -> None:
        """Open the connection (and StartTLS); no bind yet."""
        import ldap3
        from ldap3.core.exceptions import LDAPException

        use_tls = self.server.tls or self.start_tls
        server = ldap3.Server(
            self.server.host,
            port=self.server.port,
            use_ssl=self.server.tls,
            tls=self._tls() if use_tls else None,
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
            if self.start_tls and not self.server.tls and not self._conn.start_tls():
                raise CheckFailed(
                    "TLS-STARTTLS-UNSUPPORTED",
                    f"StartTLS refused by {self.server.url}: {self._conn.result.get('description')} "
                    f"{self._conn.result.get('message', '')}".strip(),
                    hint="Configure TLS on the server, or use ldaps:// if port 636 works.",
                )
        except LDAPException as exc:
            raise _ldap3_error(exc, self.server, self.timeout) from None

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
        except LDAPException as exc:
            raise _ldap3_error(exc, self.server, self.timeout) from None

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
