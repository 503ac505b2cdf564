"""The raw XMPP client reports the server's SASL reply verbatim (checked against a scripted fake server)."""

from __future__ import annotations

import base64
import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest

from testing.xmpp import XmppProtocolError, plain_login

FEATURES = (
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
    "id='x' from='meet.jitsi' version='1.0'><stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
    "{mechs}</mechanisms></stream:features>"
)


def _serve(listener: socket.socket, mechs: str, reply: str, seen: list[bytes]) -> None:
    conn, _ = listener.accept()
    with conn:
        conn.recv(4096)  # stream header
        conn.sendall(FEATURES.format(mechs=mechs).encode())
        if "PLAIN" not in mechs:
            return
        data = b""
        while b"</auth>" not in data:
            data += conn.recv(4096)
        seen.append(data)
        conn.sendall(reply.encode())
        conn.recv(4096)


@contextlib.contextmanager
def fake_server(mechs: str, reply: str) -> Iterator[tuple[int, list[bytes]]]:
    """A one-connection c2s server on 127.0.0.1 that offers `mechs` and answers `<auth>` with `reply`."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    seen: list[bytes] = []
    thread = threading.Thread(target=_serve, args=(listener, mechs, reply, seen), daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], seen
    finally:
        thread.join(timeout=5)
        listener.close()


def test_success_and_payload() -> None:
    with fake_server("<mechanism>PLAIN</mechanism>", "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>") as (
        port,
        seen,
    ):
        result = plain_login("127.0.0.1", port, "meet.jitsi", "alice", "s3cret", timeout=5)
    assert result.success
    assert result.condition is None
    payload = seen[0].split(b">", 1)[1].split(b"<", 1)[0]
    assert base64.b64decode(payload) == b"\0alice\0s3cret"


def test_undefined_condition_is_kept() -> None:
    reply = (
        "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><undefined-condition/><text>generic failure</text></failure>"
    )
    with fake_server("<mechanism>PLAIN</mechanism>", reply) as (port, _):
        result = plain_login("127.0.0.1", port, "meet.jitsi", "alice", "pw", timeout=5)
    assert not result.success
    assert result.condition == "undefined-condition"
    assert result.text == "generic failure"
    assert result.raw_reply == reply


def test_no_plain_is_a_protocol_error() -> None:
    with (
        fake_server("<mechanism>ANONYMOUS</mechanism>", "") as (port, _),
        pytest.raises(XmppProtocolError, match=r"no PLAIN mechanism .*ANONYMOUS"),
    ):
        plain_login("127.0.0.1", port, "meet.jitsi", "alice", "pw", timeout=5)
