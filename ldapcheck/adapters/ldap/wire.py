"""The `Directory` API on the raw-socket client: for `count`, where importing ldap3 would cost 12 MB and 0.1 s."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Sequence
from typing import Any

from ldapcheck.adapters.ldap import ber as w
from ldapcheck.adapters.ldap.client import WireClient, WireError, _decode_entry
from ldapcheck.adapters.ldap.directory import Result
from ldapcheck.auth.ldap.codes import result_name
from ldapcheck.auth.ldap.settings import ServerUrl
from ldapcheck.core.step import CheckFailed


def _unverified() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # tls.handshake verified and reported the certificate; connect like saslauthd
    return ctx


class WireDirectory:
    """Same methods as `adapters.ldap.Directory`, without ldap3."""

    def __init__(self, server: ServerUrl, *, timeout: float, start_tls: bool = False) -> None:
        self.server = server
        self.timeout = timeout
        self.start_tls = start_tls
        self._client: WireClient | None = None

    def __enter__(self) -> WireDirectory:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _error(self, exc: BaseException) -> CheckFailed:
        if isinstance(exc, TimeoutError | socket.timeout):
            return CheckFailed(
                "NET-TIMEOUT",
                f"{self.server.url} did not answer within {self.timeout:g} s",
                hint="The server hangs or is overloaded; saslauthd gives up after 5 s.",
            )
        if isinstance(exc, ConnectionRefusedError):
            return CheckFailed("NET-REFUSED", f"{self.server.hostport} refused the connection")
        return CheckFailed(
            "LDAP-SERVER-DOWN",
            f"LDAP connection to {self.server.url} failed: {exc}",
            hint="Check the server, the port and the scheme (ldap:// vs ldaps://).",
        )

    def open(self) -> None:
        """Connect (TLS for ldaps://, StartTLS if asked)."""
        tls = _unverified()
        try:
            client = WireClient.connect(
                self.server.host, self.server.port, timeout=self.timeout, tls=tls if self.server.tls else None
            )
            if self.start_tls and not self.server.tls:
                started = client.start_tls(tls, self.server.host)
                if started.code != 0:
                    client.close()
                    raise CheckFailed(
                        "TLS-STARTTLS-UNSUPPORTED",
                        f"StartTLS refused by {self.server.url}: {result_name(started.code)} {started.message}",
                        hint="Configure TLS on the server, or use ldaps:// if port 636 works.",
                    )
        except (OSError, WireError, w.BerError) as exc:
            raise self._error(exc) from None
        self._client = client

    def close(self) -> None:
        """Unbind and close (never raises)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    @property
    def client(self) -> WireClient:
        """The open client (after `open`)."""
        assert self._client is not None, "open() first"
        return self._client

    def bind(self, dn: str, password: str, controls: Sequence[tuple[str, bool, Any]] | None = None) -> Result:
        """Simple bind; the result code is returned, not raised."""
        ctrls = [w.control(oid, value, critical) for oid, critical, value in controls or ()]
        try:
            r = self.client.simple_bind(dn, password, ctrls)
        except (OSError, WireError, w.BerError) as exc:
            raise self._error(exc) from None
        return Result(code=r.code, description=result_name(r.code), message=r.message, matched_dn=r.matched_dn)

    def _search(self, base: str, filter_text: str, attributes: Sequence[str], scope: int, limit: int) -> Any:
        entries: list[tuple[str, dict[str, list[bytes]]]] = []
        try:
            self.client.send(
                w.search_request(base, filter_text, attributes, scope=scope, size_limit=limit, time_limit=5)
            )
            while True:
                pdu, tag, s, e, end = self.client.read_pdu()
                if tag == w.SEARCH_ENTRY:
                    entries.append(_decode_entry(pdu, s, e))
                elif tag == w.SEARCH_DONE:
                    done = w.decode_result(pdu, s, e, end)
                    break
        except (OSError, WireError, w.BerError) as exc:
            raise self._error(exc) from None
        result = Result(
            code=done.code, description=result_name(done.code), message=done.message, matched_dn=done.matched_dn
        )
        return result, entries

    def read_entry(self, dn: str, attributes: Sequence[str] = ("1.1",)) -> tuple[Result, dict[str, list[str]]]:
        """Base-scope read of one entry; noSuchObject comes back with matchedDN."""
        result, entries = self._search(dn, "(objectClass=*)", attributes, w.SCOPE_BASE, 0)
        attrs: dict[str, list[str]] = {}
        for _, values in entries[:1]:
            attrs = {k: [v.decode("utf-8", "replace") for v in vs] for k, vs in values.items()}
        return result, attrs

    def search_dns(self, base: str, filter_text: str, *, limit: int = 50) -> tuple[Result, list[str]]:
        """DNs of the entries matching `filter_text` under `base` (subtree, no attributes)."""
        result, entries = self._search(base, filter_text, ["1.1"], w.SCOPE_SUB, limit)
        return result, [dn for dn, _ in entries]
