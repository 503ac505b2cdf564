"""The XMPP login client against local fake servers: c2s, BOSH and WebSocket report the server's answer verbatim."""

from __future__ import annotations

import base64
import contextlib
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ldapcheck.adapters.xmpp import (
    Transport,
    XmppError,
    XmppErrorKind,
    login_bosh,
    login_c2s,
    login_websocket,
)

SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
MECHS = f"<mechanisms xmlns='{SASL}'><mechanism>PLAIN</mechanism><mechanism>ANONYMOUS</mechanism></mechanisms>"
FEATURES = f"<stream:features xmlns:stream='http://etherx.jabber.org/streams'>{MECHS}</stream:features>"
BIND_FEATURES = (
    "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>"
    "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"
)
SUCCESS = f"<success xmlns='{SASL}'/>"
FAILURE = f"<failure xmlns='{SASL}'><not-authorized/><text>Unable to authorize you</text></failure>"
BIND_RESULT = (
    "<iq type='result' id='bind_1' xmlns='jabber:client'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
    "<jid>alice@meet.jitsi/r1</jid></bind></iq>"
)
GOOD = base64.b64encode(b"\0alice\0s3cret").decode()


def _answer_auth(auth: str) -> str:
    """The fake's SASL rule: ANONYMOUS and alice/s3cret succeed, everything else is not-authorized."""
    if "mechanism='ANONYMOUS'" in auth or f">{GOOD}<" in auth:
        return SUCCESS
    return FAILURE


# --- c2s ----------------------------------------------------------------------------------------------------------

C2S_HEADER = (
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
    "id='x' from='meet.jitsi' version='1.0'>"
)


def _read_until(conn: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def _serve_c2s(listener: socket.socket, features: str, reply: str | None, seen: list[bytes]) -> None:
    conn, _ = listener.accept()
    with conn:
        _read_until(conn, b"version='1.0'>")
        conn.sendall((C2S_HEADER + features).encode())
        if reply is None:
            _read_until(conn, b"</stream:stream>")
            return
        auth = _read_until(conn, b"</auth>")
        seen.append(auth)
        conn.sendall((reply or _answer_auth(auth.decode())).encode())
        _read_until(conn, b"</stream:stream>")


@contextlib.contextmanager
def c2s_server(features: str = FEATURES, reply: str | None = "") -> Iterator[tuple[int, list[bytes]]]:
    """One c2s connection: offers `features`, answers `<auth>` with `reply` ("" = the fake's rule, None = no auth)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    seen: list[bytes] = []
    thread = threading.Thread(target=_serve_c2s, args=(listener, features, reply, seen), daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], seen
    finally:
        thread.join(timeout=5)
        listener.close()


def test_c2s_plain_success_sends_the_plain_payload() -> None:
    with c2s_server() as (port, seen):
        result = login_c2s("127.0.0.1", port, "meet.jitsi", "alice", "s3cret", timeout=5)
    assert result.success and result.condition is None
    assert result.transport is Transport.C2S
    assert result.mechanisms == ("PLAIN", "ANONYMOUS")
    payload = seen[0].split(b">", 1)[1].split(b"<", 1)[0]
    assert base64.b64decode(payload) == b"\0alice\0s3cret"
    assert result.timings.total >= result.timings.auth >= 0


def test_c2s_failure_condition_text_and_raw_reply_are_kept() -> None:
    reply = f"<failure xmlns='{SASL}'><undefined-condition/><text>generic failure</text></failure>"
    with c2s_server(reply=reply) as (port, _):
        result = login_c2s("127.0.0.1", port, "meet.jitsi", "alice", "pw", timeout=5)
    assert not result.success
    assert (result.condition, result.text) == ("undefined-condition", "generic failure")
    assert result.raw_reply == reply
    assert "pw" not in repr(result)


def test_c2s_mechanism_not_offered_is_an_error_with_the_offer() -> None:
    features = (
        f"<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='{SASL}'>"
        "<mechanism>ANONYMOUS</mechanism></mechanisms></stream:features>"
    )
    with c2s_server(features=features, reply=None) as (port, _), pytest.raises(XmppError) as caught:
        login_c2s("127.0.0.1", port, "meet.jitsi", "alice", "pw", timeout=5)
    assert caught.value.kind is XmppErrorKind.NO_MECHANISM
    assert caught.value.mechanisms == ("ANONYMOUS",)


def test_c2s_anonymous() -> None:
    with c2s_server() as (port, seen):
        result = login_c2s("127.0.0.1", port, "guest.meet.jitsi", mechanism="ANONYMOUS", timeout=5)
    assert result.success
    assert b"mechanism='ANONYMOUS'" in seen[0]


def test_c2s_silent_server_times_out() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    try:
        with pytest.raises(XmppError) as caught:
            login_c2s("127.0.0.1", listener.getsockname()[1], "meet.jitsi", "alice", "pw", timeout=0.3)
    finally:
        listener.close()
    assert caught.value.kind is XmppErrorKind.TIMEOUT


def test_c2s_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(XmppError) as caught:
        login_c2s("127.0.0.1", port, "meet.jitsi", "alice", "pw", timeout=2)
    assert caught.value.kind is XmppErrorKind.CONNECT


def test_c2s_stream_error_names_the_condition() -> None:
    features = (
        "<stream:error xmlns:stream='http://etherx.jabber.org/streams'>"
        "<host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
    )
    with c2s_server(features=features, reply=None) as (port, _), pytest.raises(XmppError) as caught:
        login_c2s("127.0.0.1", port, "nowhere.example", "alice", "pw", timeout=5)
    assert caught.value.kind is XmppErrorKind.STREAM_ERROR
    assert caught.value.condition == "host-unknown"


# --- BOSH ---------------------------------------------------------------------------------------------------------

BOSH_NS = "http://jabber.org/protocol/httpbind"


class _BoshHandler(BaseHTTPRequestHandler):
    server: _BoshServer

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        body = self.rfile.read(length).decode().replace('"', "'")  # either quoting is XML
        self.server.requests.append(body)
        rid = int(re.search(r"rid='(\d+)'", body).group(1))  # type: ignore[union-attr]
        self.server.rids.append(rid)
        if "sid=" not in body:
            if "to='meet.jitsi'" not in body and "to='guest.meet.jitsi'" not in body:
                answer = f"<body xmlns='{BOSH_NS}' type='terminate' condition='improper-addressing'/>"
            else:
                answer = f"<body xmlns='{BOSH_NS}' sid='s1' wait='10' requests='2'>{FEATURES}</body>"
        elif "sid='s1'" not in body:
            answer = f"<body xmlns='{BOSH_NS}' type='terminate' condition='item-not-found'/>"
        elif "<auth" in body:
            answer = f"<body xmlns='{BOSH_NS}'>{_answer_auth(body)}</body>"
        elif "xmpp:restart='true'" in body:
            answer = f"<body xmlns='{BOSH_NS}'>{BIND_FEATURES}</body>"
        elif "<iq" in body:
            answer = f"<body xmlns='{BOSH_NS}'>{BIND_RESULT}</body>"
        else:
            answer = f"<body xmlns='{BOSH_NS}'/>"
        data = answer.encode()
        self.send_response(200 if self.path.startswith("/http-bind") else 404)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _BoshServer(ThreadingHTTPServer):
    requests: list[str]
    rids: list[int]


@contextlib.contextmanager
def bosh_server() -> Iterator[_BoshServer]:
    server = _BoshServer(("127.0.0.1", 0), _BoshHandler)
    server.requests, server.rids = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_bosh_login_binds_and_counts_rids() -> None:
    with bosh_server() as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/http-bind"
        result = login_bosh(url, "meet.jitsi", "alice", "s3cret", timeout=5)
    assert result.success and result.jid == "alice@meet.jitsi/r1"
    assert result.transport is Transport.BOSH
    assert server.rids == list(range(server.rids[0], server.rids[0] + len(server.rids)))
    assert "type='terminate'" in server.requests[-1]
    assert all("s3cret" not in body for body in server.requests)


def test_bosh_wrong_password_is_not_authorized() -> None:
    with bosh_server() as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/http-bind"
        result = login_bosh(url, "meet.jitsi", "alice", "wrong", timeout=5)
    assert not result.success
    assert (result.condition, result.text) == ("not-authorized", "Unable to authorize you")
    assert result.jid is None


def test_bosh_unknown_host_is_terminated_with_the_condition() -> None:
    with bosh_server() as server, pytest.raises(XmppError) as caught:
        login_bosh(f"http://127.0.0.1:{server.server_address[1]}/http-bind", "nowhere.example", mechanism="ANONYMOUS")
    assert caught.value.kind is XmppErrorKind.TERMINATE
    assert caught.value.condition == "improper-addressing"


def test_bosh_http_status_is_reported() -> None:
    with bosh_server() as server, pytest.raises(XmppError) as caught:
        login_bosh(f"http://127.0.0.1:{server.server_address[1]}/other", "meet.jitsi", "alice", "s3cret", timeout=5)
    assert caught.value.kind is XmppErrorKind.HTTP
    assert caught.value.status == 404


# --- WebSocket ----------------------------------------------------------------------------------------------------

FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"
XMPP_ONLY = ["xmpp"]


@contextlib.contextmanager
def ws_server(subprotocols: list[str] | None = XMPP_ONLY) -> Iterator[tuple[int, list[str]]]:
    from websockets.sync.server import ServerConnection, serve

    seen: list[str] = []

    def handler(ws: ServerConnection) -> None:
        with contextlib.suppress(Exception):
            for message in ws:
                text = str(message)
                seen.append(text)
                if text.startswith("<open"):
                    features = BIND_FEATURES if any("<success" in s for s in seen) else FEATURES
                    ws.send(f"<open xmlns='{FRAMING}' from='meet.jitsi' id='w1' version='1.0'/>")
                    ws.send(features)
                elif text.startswith("<auth"):
                    reply = _answer_auth(text)
                    seen.append(reply)
                    ws.send(reply)
                elif text.startswith("<iq"):
                    ws.send(BIND_RESULT)
                elif text.startswith("<close"):
                    ws.send(f"<close xmlns='{FRAMING}'/>")
                    return

    server = serve(handler, "127.0.0.1", 0, subprotocols=subprotocols)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.socket.getsockname()[1], seen
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_websocket_login_binds() -> None:
    with ws_server() as (port, seen):
        result = login_websocket(f"ws://127.0.0.1:{port}/xmpp-websocket", "meet.jitsi", "alice", "s3cret", timeout=5)
    assert result.success and result.jid == "alice@meet.jitsi/r1"
    assert result.transport is Transport.WEBSOCKET
    assert seen[0].startswith(f"<open xmlns='{FRAMING}' to='meet.jitsi'")


def test_websocket_wrong_password() -> None:
    with ws_server() as (port, _):
        result = login_websocket(f"ws://127.0.0.1:{port}/xmpp-websocket", "meet.jitsi", "alice", "nope", timeout=5)
    assert not result.success
    assert result.condition == "not-authorized"


def test_websocket_server_that_ignores_the_xmpp_subprotocol_is_a_protocol_error() -> None:
    with ws_server(subprotocols=None) as (port, _), pytest.raises(XmppError) as caught:
        login_websocket(f"ws://127.0.0.1:{port}/xmpp-websocket", "meet.jitsi", "alice", "s3cret", timeout=5)
    assert caught.value.kind is XmppErrorKind.PROTOCOL


def test_websocket_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(XmppError) as caught:
        login_websocket(f"ws://127.0.0.1:{port}/xmpp-websocket", "meet.jitsi", "alice", "pw", timeout=2)
    assert caught.value.kind is XmppErrorKind.CONNECT
