"""Guard for slapd's CPU during `count` and `validate`: the reader must not be woken by every entry the server writes.

slapd writes each SearchResultEntry with its own write() (TCP_NODELAY). A reader parked in recv() with
SO_RCVLOWAT 1 is woken by each of them; on 1M entries that cost slapd twice the CPU of ldapsearch (a wake-up,
often a preemption, and one TCP segment per entry). `WireClient.read_page` (the framer under both `count_entries`
and `stream_entries`) asks the kernel to wake it only for BULK_LOWAT bytes while a page streams in, and falls back
to "whatever came" after BULK_WAIT at a page's end.

A fake server on 127.0.0.1 (TCP: only TCP's poll honours SO_RCVLOWAT) writes entry by entry; a proxy socket records
the SO_RCVLOWAT in force at each read.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ldapcheck.adapters.ldap import ber as w
from ldapcheck.adapters.ldap.client import BULK_LOWAT, WireClient, count_entries
from ldapcheck.adapters.ldap.stream import stream_entries


def _entry(msgid: int, i: int) -> bytes:
    dn = w.octets(f"uid=user{i:06d},ou=people,dc=example,dc=org")
    attrs = w.sequence(w.sequence(w.octets("uid"), w.sequence(w.octets(f"user{i:06d}"), tag=0x31)))
    return w.message(msgid, w.sequence(dn, attrs, tag=w.SEARCH_ENTRY))


def _done(msgid: int, cookie: bytes) -> bytes:
    op = w.sequence(w.integer(0, 0x0A), w.octets(""), w.octets(""), tag=w.SEARCH_DONE)
    return w.message(msgid, op, [w.control(w.PAGED_RESULTS_OID, w.sequence(w.integer(0), w.octets(cookie)))])


class Recording:
    """The client's socket, recording SO_RCVLOWAT at each read; `first_read` is set after the first one."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.lowats: list[int] = []
        self.first_read = threading.Event()

    def recv_into(self, buf: Any, *args: Any) -> int:
        self.lowats.append(self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT))
        try:
            return self._sock.recv_into(buf, *args)
        finally:
            self.first_read.set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


Page = Callable[[socket.socket, Recording, int], None]
Start = Callable[[list[Page]], tuple[WireClient, Recording]]


@pytest.fixture
def tcp_server() -> Iterator[Start]:
    """A one-connection server on 127.0.0.1 that answers each request with the next `Page` writer."""
    listener = socket.create_server(("127.0.0.1", 0))
    threads: list[threading.Thread] = []
    socks: list[socket.socket] = []

    def start(pages: list[Page]) -> tuple[WireClient, Recording]:
        client_sock = socket.create_connection(listener.getsockname(), timeout=5)
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as slapd
        socks.extend((client_sock, conn))
        recording = Recording(client_sock)

        def serve() -> None:
            for msgid, page in enumerate(pages, 1):
                if not conn.recv(65536):
                    return
                page(conn, recording, msgid)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        threads.append(thread)
        return WireClient(recording, timeout=5), recording  # type: ignore[arg-type]

    yield start
    for s in socks:
        s.close()
    listener.close()
    for t in threads:
        t.join(5)


def _entry_by_entry(first: int, total: int, cookie: bytes) -> Page:
    """`first` entries at once, then (after the client's first read) one write per entry, as slapd does."""

    def page(conn: socket.socket, recording: Recording, msgid: int) -> None:
        conn.sendall(b"".join(_entry(msgid, i) for i in range(first)))
        recording.first_read.wait(5)
        for i in range(first, total):
            conn.sendall(_entry(msgid, i))
        conn.sendall(_done(msgid, cookie))

    return page


def _bulk_then_normal(client: WireClient, recording: Recording) -> None:
    # The page still owed ~200 kB after the first read: the next read asked to be woken for BULK_LOWAT bytes.
    # (On the old read path every read ran with SO_RCVLOWAT 1 and the server woke the reader once per entry.)
    assert recording.lowats[0] == 1
    assert recording.lowats[1] >= 16 * 1024, recording.lowats[:5]
    assert recording.lowats[1] == BULK_LOWAT
    # Back to normal after the search: the client's own timeout and SO_RCVLOWAT 1 for any later read.
    assert client.sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT) == 1
    assert client.sock.gettimeout() == 5


def test_count_reads_a_streaming_page_in_bulk_not_per_entry(tcp_server: Start) -> None:
    client, recording = tcp_server([_entry_by_entry(20, 3000, b"more"), _entry_by_entry(3, 3, b"")])
    result = count_entries(client, "dc=example,dc=org", "(uid=*)", page_size=3000)
    assert (result.count, result.pages, result.result_code) == (3003, 2, 0)
    _bulk_then_normal(client, recording)


def test_the_streaming_scan_reads_a_page_in_bulk_not_per_entry(tcp_server: Start) -> None:
    client, recording = tcp_server([_entry_by_entry(20, 3000, b"more"), _entry_by_entry(3, 3, b"")])
    entries = list(stream_entries(client, "dc=example,dc=org", "(uid=*)", ["uid"], page_size=3000))
    assert len(entries) == 3003
    assert entries[2999] == ("uid=user002999,ou=people,dc=example,dc=org", {"uid": [b"user002999"]})
    _bulk_then_normal(client, recording)


def test_a_short_last_page_is_not_held_back(tcp_server: Start) -> None:
    # 1000 entries asked, 10 come (the last page): fewer bytes than SO_RCVLOWAT ever arrive. The reader must
    # take them after BULK_WAIT, not sit until its 5 s timeout.
    client, recording = tcp_server([_entry_by_entry(5, 10, b"")])
    start = time.monotonic()
    result = count_entries(client, "dc=example,dc=org", "(uid=*)", page_size=1000)
    assert (result.count, result.result_code) == (10, 0)
    assert time.monotonic() - start < 1.0
    assert max(recording.lowats) > 1  # it did wait for more than one byte, and fell back
    assert client.sock.gettimeout() == 5
