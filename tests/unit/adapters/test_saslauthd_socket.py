"""saslauthd's socket protocol asked from this process (`bench logins` on a Debian-package host): the request's
counted strings, the answer, and every failure bounded and classified (no answer, nothing listening, cut short)."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ldapcheck.adapters import saslauthd
from ldapcheck.adapters.errors import NetError, NetKind
from testing.servers import silent_unix_server


def read_counted(conn: socket.socket) -> str:
    size = struct.unpack(">H", conn.recv(2, socket.MSG_WAITALL))[0]
    return conn.recv(size, socket.MSG_WAITALL).decode() if size else ""


@contextmanager
def fake_saslauthd(path: str, answer: bytes | None) -> Iterator[list[list[str]]]:
    """Answers each connection's request with `answer` (a counted string; None: closes without answering)."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(4)
    seen: list[list[str]] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            seen.append([read_counted(conn) for _ in range(4)])
            if answer is not None:
                conn.sendall(struct.pack(">H", len(answer)) + answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        thread.join(5)
        listener.close()


@pytest.mark.parametrize("answer", [b'OK "Success."', b'NO "authentication failed"'])
def test_the_request_is_prosody_s_and_the_answer_comes_back(tmp_path: Path, answer: bytes) -> None:
    path = str(tmp_path / "mux")
    with fake_saslauthd(path, answer) as seen:
        got = saslauthd.ask(path, "alice", "pä ss", "xmpp", "meet.jitsi", timeout=2)
    assert got == answer.decode()
    assert seen == [["alice", "pä ss", "xmpp", "meet.jitsi"]]


def test_a_saslauthd_that_never_answers_is_a_timeout_within_the_bound(tmp_path: Path) -> None:
    path = str(tmp_path / "mux")
    with silent_unix_server(path):
        started = time.monotonic()
        with pytest.raises(NetError) as caught:
            saslauthd.ask(path, "alice", "pw", "xmpp", "meet.jitsi", timeout=0.3)
    assert caught.value.kind is NetKind.TIMEOUT
    assert time.monotonic() - started < 2


def test_no_socket_is_refused_and_a_cut_answer_is_closed(tmp_path: Path) -> None:
    with pytest.raises(NetError) as missing:
        saslauthd.ask(str(tmp_path / "none"), "alice", "pw", "xmpp", "meet.jitsi", timeout=1)
    assert missing.value.kind is NetKind.REFUSED
    path = str(tmp_path / "mux")
    with fake_saslauthd(path, None), pytest.raises(NetError) as cut:
        saslauthd.ask(path, "alice", "pw", "xmpp", "meet.jitsi", timeout=2)
    assert cut.value.kind is NetKind.CLOSED
    assert "pw" not in str(cut.value)
