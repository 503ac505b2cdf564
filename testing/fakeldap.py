"""A small fake LDAP server that answers correctly up to a chosen protocol step and then goes silent.

For tests of bounded waits (every network operation has a timeout) and as something observable to synchronise on:
`reached` is set when the client has sent the request the server will never answer, i.e. while ldapcheck is
blocked waiting for it.

Steps (`silent_at`):
- "rootdse": the first search for the root DSE is never answered;
- "bind": the root DSE and anonymous binds are answered, the first bind with a DN never is;
- "search": binds and the root DSE are answered, the first other search never is;
- "page2": the first page of a paged search is answered (with a cookie), the request for the second page never is;
- "starttls": the StartTLS extended request is never answered;
- "handshake": StartTLS is accepted, the TLS ClientHello that follows never gets a ServerHello;
- "never": everything is answered (a tiny directory).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from ldapcheck.adapters.ldap import ber
from testing.servers import accepting

STEPS = ("rootdse", "bind", "search", "page2", "starttls", "handshake", "never")
BASE = "dc=fake,dc=test"
COOKIE = b"fake-ldap-cookie"


@dataclass
class FakeLdap:
    port: int
    silent_at: str
    base: str = BASE
    entries: int = 3  # entries each (subtree) search returns
    reached: threading.Event = field(default_factory=threading.Event)
    requests: list[int] = field(default_factory=list)  # the op tags received, in order

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"


def _result(tag: int, code: int = 0, extra: bytes = b"") -> bytes:
    return ber.sequence(ber.integer(code, tag=0x0A), ber.octets(""), ber.octets(""), extra, tag=tag)


def _entry(dn: str, attrs: dict[str, list[str]]) -> bytes:
    parts = [
        ber.sequence(ber.octets(k), ber.sequence(*(ber.octets(v) for v in vs), tag=0x31)) for k, vs in attrs.items()
    ]
    return ber.sequence(ber.octets(dn), ber.sequence(*parts), tag=ber.SEARCH_ENTRY)


ROOT_DSE = {
    "namingContexts": [BASE],
    "supportedLDAPVersion": ["3"],
    "supportedExtension": [ber.STARTTLS_OID],
    "supportedControl": [ber.PAGED_RESULTS_OID],
    "objectClass": ["top"],
}


def _read_pdu(conn: socket.socket, buf: bytearray) -> bytes | None:
    while True:
        with contextlib.suppress(ber.BerError):
            h = ber.header(buf, 0, len(buf))
            if h is not None and h[2] <= len(buf):
                pdu = bytes(buf[: h[2]])
                del buf[: h[2]]
                return pdu
        chunk = conn.recv(65536)
        if not chunk:
            return None
        buf.extend(chunk)


def _answer(server: FakeLdap, pdu: bytes, searches: list[int]) -> list[bytes] | None:
    """The PDUs to send back, or None to go silent from here on."""
    _tag, start, end = ber.header(pdu, 0, len(pdu)) or (0, 0, 0)
    parts = ber.children(pdu, start, end)
    msgid = ber.decode_int(pdu[parts[0][1] : parts[0][2]])
    op_tag, op_start, op_end = parts[1]
    server.requests.append(op_tag)
    if op_tag == ber.UNBIND_REQUEST:
        return []
    if op_tag == ber.EXTENDED_REQUEST:
        if server.silent_at == "starttls":
            return None
        return [ber.message(msgid, _result(ber.EXTENDED_RESPONSE))]
    if op_tag == ber.BIND_REQUEST:
        fields = ber.children(pdu, op_start, op_end)
        if server.silent_at == "bind" and fields[1][2] > fields[1][1]:  # a bind with a DN
            return None
        return [ber.message(msgid, _result(ber.BIND_RESPONSE))]
    if op_tag == ber.SEARCH_REQUEST:
        fields = ber.children(pdu, op_start, op_end)
        base = pdu[fields[0][1] : fields[0][2]].decode("utf-8", "replace")
        if base == "":
            if server.silent_at == "rootdse":
                return None
            dse = {**ROOT_DSE, "namingContexts": [server.base]}
            return [ber.message(msgid, _entry("", dse)), ber.message(msgid, _result(ber.SEARCH_DONE))]
        searches.append(msgid)
        if server.silent_at == "search":
            return None
        paged = ber.PAGED_RESULTS_OID.encode() in pdu
        second = COOKIE in pdu
        if second and server.silent_at == "page2":
            return None
        entries = [
            ber.message(msgid, _entry(f"uid=user{i}-{msgid},{base}", {"uid": [f"user{i}"]}))
            for i in range(server.entries)
        ]
        scope = ber.decode_int(pdu[fields[1][1] : fields[1][2]])
        if scope == 0:  # scope base: the base entry itself
            entries = [ber.message(msgid, _entry(base, {"objectClass": ["top"]}))]
        controls = [ber.paged_control(0, b"" if second else COOKIE)] if paged else []
        return [*entries, ber.message(msgid, _result(ber.SEARCH_DONE), controls)]
    return [ber.message(msgid, _result(op_tag + 1, code=53))]


@contextlib.contextmanager
def fake_ldap(silent_at: str, *, base: str = BASE, entries: int = 3) -> Iterator[FakeLdap]:
    """Serve on 127.0.0.1 (a free port) until the block ends; yields the FakeLdap. `base`: its naming context;
    `entries`: how many entries a subtree search returns (1: a login that matches exactly one user)."""
    if silent_at not in STEPS:
        raise ValueError(silent_at)
    listener = socket.create_server(("127.0.0.1", 0))
    server = FakeLdap(port=int(listener.getsockname()[1]), silent_at=silent_at, base=base, entries=entries)

    def serve(conn: socket.socket, stop: threading.Event) -> None:
        buf = bytearray()
        searches: list[int] = []
        with contextlib.suppress(OSError, ber.BerError, IndexError):
            while not stop.is_set():
                pdu = _read_pdu(conn, buf)
                if pdu is None:
                    return
                answer = _answer(server, pdu, searches)
                if answer is None:
                    server.reached.set()
                    return  # silent: the connection stays open (held) until the block ends
                for out in answer:
                    conn.sendall(out)
                if server.requests[-1] == ber.EXTENDED_REQUEST and silent_at == "handshake":
                    conn.recv(65536)  # the ClientHello: never answered
                    server.reached.set()
                    return
                if server.requests[-1] == ber.EXTENDED_REQUEST:
                    return  # no TLS here: a client that goes on sees the connection die at the end of the test

    with accepting(listener, serve):
        yield server
