"""Guard for slapd's CPU during `count` and `validate`: the reader must not take the server's entries one by one.

slapd writes each SearchResultEntry with its own write() (TCP_NODELAY). A reader that drains its socket as fast
as slapd writes keeps the receive window open, so every write leaves as a TCP segment of its own, and on the same
host the receiving side's work for it runs in slapd's system call: on 1M entries slapd spent twice the CPU of
`ldapsearch | grep`. `WireClient.page_parts` (the framer under both `count_entries` and `stream_entries`) asks
the kernel to wake it only for BULK_LOWAT bytes while a page streams in (falling back to "whatever came" after
BULK_WAIT at a page's end) and, towards a near peer, fixes the receive buffer at NEAR_RCVBUF so that the window is
shut when it is woken. It hands the page on in parts as they arrive, so memory does not grow with the page.

A fake server on 127.0.0.1 (TCP: only TCP's poll honours SO_RCVLOWAT) writes entry by entry; a proxy socket records
the SO_RCVLOWAT and SO_RCVBUF in force at each read.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ldapcheck.adapters.ldap import ber as w
from ldapcheck.adapters.ldap import client as client_module
from ldapcheck.adapters.ldap.client import BULK_LOWAT, NEAR_RCVBUF, NEAR_RTT, WireClient, round_trip
from ldapcheck.adapters.ldap.stream import count_entries, stream_entries


def _entry(msgid: int, i: int) -> bytes:
    dn = w.octets(f"uid=user{i:06d},ou=people,dc=example,dc=org")
    attrs = w.sequence(w.sequence(w.octets("uid"), w.sequence(w.octets(f"user{i:06d}"), tag=0x31)))
    return w.message(msgid, w.sequence(dn, attrs, tag=w.SEARCH_ENTRY))


def _done(msgid: int, cookie: bytes) -> bytes:
    op = w.sequence(w.integer(0, 0x0A), w.octets(""), w.octets(""), tag=w.SEARCH_DONE)
    return w.message(msgid, op, [w.control(w.PAGED_RESULTS_OID, w.sequence(w.integer(0), w.octets(cookie)))])


class Recording:
    """The client's socket, recording SO_RCVLOWAT and SO_RCVBUF at each read; `first_read` is set after the first."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.lowats: list[int] = []
        self.rcvbufs: list[int] = []
        self.first_read = threading.Event()

    def recv_into(self, buf: Any, *args: Any) -> int:
        self.lowats.append(self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT))
        self.rcvbufs.append(self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
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
    # The page still owed ~600 kB after the first read: the next read asked to be woken for BULK_LOWAT bytes.
    # (On the old read path every read ran with SO_RCVLOWAT 1 and the server woke the reader once per entry.)
    assert recording.lowats[0] == 1
    assert recording.lowats[1] >= 16 * 1024, recording.lowats[:5]
    assert recording.lowats[1] == BULK_LOWAT
    # Back to normal after the search: the client's own timeout and SO_RCVLOWAT 1 for any later read.
    assert client.sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT) == 1
    assert client.sock.gettimeout() == 5


def test_count_reads_a_streaming_page_in_bulk_not_per_entry(tcp_server: Start) -> None:
    client, recording = tcp_server([_entry_by_entry(20, 8000, b"more"), _entry_by_entry(3, 3, b"")])
    result = count_entries(client, "dc=example,dc=org", "(uid=*)", page_size=8000)
    assert (result.count, result.pages, result.result_code) == (8003, 2, 0)
    _bulk_then_normal(client, recording)


def test_the_streaming_scan_reads_a_page_in_bulk_not_per_entry(tcp_server: Start) -> None:
    client, recording = tcp_server([_entry_by_entry(20, 8000, b"more"), _entry_by_entry(3, 3, b"")])
    entries = list(stream_entries(client, "dc=example,dc=org", "(uid=*)", ["uid"], page_size=8000))
    assert len(entries) == 8003
    assert entries[7999] == ("uid=user007999,ou=people,dc=example,dc=org", {"uid": [b"user007999"]})
    _bulk_then_normal(client, recording)


def test_towards_a_near_peer_the_receive_buffer_is_fixed_for_the_bulk_read(tcp_server: Start) -> None:
    # Autotuning would open the window wide (the server's writes then leave one segment each); fixed, it is shut
    # when the reader is woken for BULK_LOWAT bytes. Linux reports twice the size asked (its bookkeeping).
    client, recording = tcp_server([_entry_by_entry(20, 8000, b"")])
    assert round_trip(client.sock) is not None and round_trip(client.sock) < NEAR_RTT  # type: ignore[operator]
    before = client.sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    assert before != 2 * NEAR_RCVBUF
    assert count_entries(client, "dc=example,dc=org", "(uid=*)", page_size=8000).count == 8000
    assert recording.rcvbufs[0] == before  # the first read of the page: nothing changed yet
    assert set(recording.rcvbufs[1:]) == {2 * NEAR_RCVBUF}, recording.rcvbufs[:5]


def test_towards_a_far_peer_autotuning_is_kept(tcp_server: Start, monkeypatch: pytest.MonkeyPatch) -> None:
    # Over a long round trip a fixed window would cap throughput (window / RTT): the buffer is left alone.
    monkeypatch.setattr(client_module, "round_trip", lambda sock: 10 * NEAR_RTT)
    client, recording = tcp_server([_entry_by_entry(20, 8000, b"")])
    assert count_entries(client, "dc=example,dc=org", "(uid=*)", page_size=8000).count == 8000
    assert 2 * NEAR_RCVBUF not in recording.rcvbufs
    assert recording.lowats[1] == BULK_LOWAT


def test_round_trip_is_none_where_there_is_no_tcp() -> None:
    a, b = socket.socketpair()
    with a, b:
        assert round_trip(a) is None


def test_a_page_is_handed_on_in_parts_and_the_buffer_stays_small(tcp_server: Start) -> None:
    # One page of 8000 entries (~640 kB) read 64 kB at a time: counted part by part, never held whole.
    client, _ = tcp_server([_entry_by_entry(20, 8000, b"")])
    client._chunk = bytearray(64 * 1024)
    client.send(w.search_request("dc=example,dc=org", "(uid=*)", ["1.1"]), [w.paged_control(8000, b"")])
    parts = 0
    counted = 0
    largest = 0
    for part in client.page_parts(8000, keep=False):
        parts += 1
        counted += len(part.entries)
        largest = max(largest, len(client._buf))
        assert part.data == b""
    assert counted == 8000 and part.done is not None and part.done.code == 0
    assert parts >= 10
    assert largest <= 64 * 1024 + 200, largest


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
