"""The `Directory` API on the raw-socket client: for `count`, where importing ldap3 would cost 12 MB and 0.1 s."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ldapcheck.adapters.ldap import ber as w
from ldapcheck.adapters.ldap.client import WireClient, WireError
from ldapcheck.adapters.ldap.directory import Endpoint, Result
from ldapcheck.adapters.ldap.stream import decode_entry
from ldapcheck.adapters.tls import client_context


class WireDirectory(Endpoint):
    """Same methods as `adapters.ldap.directory.Directory`, without ldap3; errors are NetError/LdapProtocolError."""

    _client: WireClient | None = None

    def open(self) -> None:
        """Connect (TLS for ldaps://, StartTLS if asked), without verifying the certificate (as saslauthd with
        `TLS_REQCERT allow`: the TLS step verified and reported it)."""
        encrypted = self.tls or self.start_tls
        tls = client_context(verify=False) if encrypted else None  # plain LDAP: no ssl import (start-up)
        client = WireClient.connect(self.host, self.port, timeout=self.timeout, tls=tls if self.tls else None)
        if self.start_tls and not self.tls:
            assert tls is not None
            try:
                client.start_tls(tls, self.host)
            except BaseException:
                client.close()
                raise
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
        r = self.client.simple_bind(dn, password, ctrls)
        return Result(code=r.code, description=w.result_name(r.code), message=r.message, matched_dn=r.matched_dn)

    def _search(
        self, base: str, filter_text: str, attributes: Sequence[str], scope: int, limit: int
    ) -> tuple[Result, list[tuple[str, dict[str, list[bytes]]]]]:
        entries: list[tuple[str, dict[str, list[bytes]]]] = []
        self.client.send(w.search_request(base, filter_text, attributes, scope=scope, size_limit=limit, time_limit=5))
        while True:
            pdu = self.client.read_pdu()
            if pdu.tag == w.SEARCH_ENTRY:
                entries.append(decode_entry(pdu.data, pdu.op_at))
            elif pdu.tag == w.SEARCH_DONE:
                done = w.decode_result(pdu.data, pdu.start, pdu.end, pdu.msg_end)
                break
            elif pdu.tag != w.SEARCH_REFERENCE:
                raise WireError(f"unexpected operation 0x{pdu.tag:02x} in a search response")
        result = Result(
            code=done.code, description=w.result_name(done.code), message=done.message, matched_dn=done.matched_dn
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
