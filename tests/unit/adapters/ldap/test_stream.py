"""The pipelined paged search (adapters/stream.py) against a scripted LDAP peer on a real socket pair."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any

from ldapcheck.adapters.ldap import ber as w
from ldapcheck.adapters.ldap.client import CountResult, WireClient
from ldapcheck.adapters.ldap.stream import decode_entry, stream_entries


def _entry(msgid: int, dn: str, attrs: dict[str, list[bytes]]) -> bytes:
    parts = [
        w.sequence(w.octets(name), w.sequence(*(w.octets(v) for v in vals), tag=0x31)) for name, vals in attrs.items()
    ]
    return w.message(msgid, w.sequence(w.octets(dn), w.sequence(*parts), tag=w.SEARCH_ENTRY))


def _done(msgid: int, code: int, cookie: bytes) -> bytes:
    op = w.sequence(w.integer(code, tag=0x0A), w.octets(""), w.octets(""), tag=w.SEARCH_DONE)
    ctrl = w.control(w.PAGED_RESULTS_OID, w.sequence(w.integer(0), w.octets(cookie)))
    return w.message(msgid, op, [ctrl])


class Peer:
    """The server end of the socket pair: reads whole LDAP messages, keeping any bytes after one for the next."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.data = b""

    def read(self) -> bytes:
        while True:
            h = w.header(self.data, 0, len(self.data))
            if h is not None and h[2] <= len(self.data):
                message, self.data = self.data[: h[2]], self.data[h[2] :]
                return message
            chunk = self.sock.recv(4096)
            assert chunk, "client closed"
            self.data += chunk


PAGES = [
    [("uid=a,dc=x", {"uid": [b"a"]}), ("cn=long,dc=x", {"cn": [b"x" * 300], "uid": [b"l1", b"l2"]})],
    [("uid=b,dc=x", {"uid": [b"b"]}), ("cn=none,dc=x", {})],
    [("uid=c,dc=x", {"UID": [b"c"]})],
]


def _page_end(number: int) -> bytes:
    """Page `number`'s SearchResultDone: a cookie while pages follow, sizeLimitExceeded on the last."""
    last = number == len(PAGES) - 1
    return _done(number + 1, 4 if last else 0, b"" if last else f"c{number}".encode())


def _serve_pages(peer: socket.socket, write_page: Callable[[int, list[Any]], bool]) -> list[threading.Event]:
    """Answer each page request with `write_page(number, entries)` (False: stop); returns "request k was read"."""
    request_seen = [threading.Event() for _ in PAGES]

    def serve() -> None:
        reader = Peer(peer)
        for number, page in enumerate(PAGES):
            reader.read()
            request_seen[number].set()
            if not write_page(number, page):
                return

    threading.Thread(target=serve, daemon=True).start()
    return request_seen


def test_stream_entries_hands_on_entries_as_they_arrive_and_keeps_every_entry() -> None:
    server, peer = socket.socketpair()
    first_taken = [threading.Event() for _ in PAGES]

    def write_page(number: int, page: list[Any]) -> bool:
        (dn, attrs), *rest = page
        peer.sendall(_entry(number + 1, dn, attrs))
        # The rest of the page (and its Done) only once the client holds the first entry: entries are
        # handed on as they arrive, not when the page is complete (memory stays flat on a one-page result).
        if not first_taken[number].wait(timeout=5):
            return False
        peer.sendall(b"".join(_entry(number + 1, dn, attrs) for dn, attrs in rest) + _page_end(number))
        return True

    request_seen = _serve_pages(peer, write_page)
    client = WireClient(server, timeout=5)
    client._chunk = bytearray(7)  # tiny reads: every PDU straddles refills of the buffer
    done: list[CountResult] = []
    got = []
    first_of_page = {sum(len(p) for p in PAGES[:k]): k for k in range(len(PAGES))}
    for entry in stream_entries(client, "dc=x", "(uid=*)", ["uid"], page_size=2, on_done=done.append):
        if (page := first_of_page.get(len(got))) is not None:
            first_taken[page].set()
        got.append(entry)
    assert got == [e for page in PAGES for e in page]
    assert all(e.is_set() for e in request_seen)
    assert done == [CountResult(count=5, references=0, pages=3, result_code=4, message="", page_size=2)]
    server.close()
    peer.close()


def test_the_next_page_is_asked_for_before_the_last_part_of_a_page_is_decoded() -> None:
    server, peer = socket.socketpair()

    def write_page(number: int, page: list[Any]) -> bool:
        peer.sendall(b"".join(_entry(number + 1, dn, attrs) for dn, attrs in page) + _page_end(number))  # one write
        return True

    request_seen = _serve_pages(peer, write_page)
    client = WireClient(server, timeout=5)
    got = []
    last_of_page = {sum(len(p) for p in PAGES[: k + 1]) - 1: k for k in range(len(PAGES))}
    for entry in stream_entries(client, "dc=x", "(uid=*)", ["uid"], page_size=2):
        if (page := last_of_page.get(len(got))) is not None and page + 1 < len(PAGES):
            # Still holding page k's last entry (it came with the Done), page k+1 must already be asked for.
            assert request_seen[page + 1].wait(timeout=5), f"page {page + 1} was not requested in advance"
        got.append(entry)
    assert got == [e for page in PAGES for e in page]
    server.close()
    peer.close()


def test_decode_entry_long_form_lengths() -> None:
    big = [b"v" * 70_000]
    pdu = _entry(1, "cn=" + "x" * 200, {"description": big, "uid": [b"u"]})
    h = w.header(pdu, 0, len(pdu))
    assert h is not None
    msgid = w.header(pdu, h[1], h[2])
    assert msgid is not None
    dn, attrs = decode_entry(pdu, msgid[2])
    assert dn == "cn=" + "x" * 200
    assert attrs == {"description": big, "uid": [b"u"]}


def _message_id_of(request: bytes) -> int:
    outer = w.header(request, 0, len(request))
    assert outer is not None
    inner = w.header(request, outer[1], outer[2])
    assert inner is not None
    return w.decode_int(request[inner[1] : inner[2]])


def test_search_many_keeps_several_requests_in_flight_and_answers_in_order() -> None:
    from ldapcheck.adapters.ldap.stream import search_many

    server, peer = socket.socketpair()
    answers = {0: ["uid=a,dc=x"], 1: [], 2: ["uid=d,ou=1,dc=x", "uid=d,ou=2,dc=x"]}

    def serve() -> None:
        reader = Peer(peer)
        ids = [_message_id_of(reader.read()) for _ in answers]  # all three arrive before any answer
        for number, msgid in reversed(list(enumerate(ids))):  # answer the last request first
            for dn in answers[number]:
                peer.sendall(_entry(msgid, dn, {}))
            peer.sendall(_done(msgid, 0, b""))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client = WireClient(server, timeout=5)
    searches = [("dc=x", "(uid=a)"), ("dc=x", "(uid=nobody)"), ("dc=x", "(uid=d)"), ("dc=x", "(uid=broken")]
    results = search_many(client, searches, window=8)
    thread.join(timeout=5)
    assert results == [(answers[0], 0), ([], 0), (answers[2], 0), ([], 87)]
    server.close()
    peer.close()
