"""An XMPP login the way the Jitsi web client does it: open a stream, read the SASL mechanisms, authenticate, bind.

Three transports, one SASL exchange:
- `c2s`: a plain TCP stream (RFC 6120), no STARTTLS (the lab's prosody allows PLAIN without TLS on loopback);
- `bosh`: XEP-0124/0206, `POST /http-bind` with `<body/>` documents, sid/rid, `xmpp:restart` after SASL;
- `websocket`: RFC 7395, `/xmpp-websocket` with the `xmpp` subprotocol and `<open/>`/`<close/>` framing.

Raw on purpose: client libraries rewrite SASL failure conditions, and the exact `<failure>` condition and text are
the evidence. Every read is bounded (`MAX_STANZA`) and every operation has a deadline. The password is encoded
into the one `<auth>` element that carries it, is never logged, never kept in a result and never reaches an argv.
The WebSocket framing comes from the `websockets` package (imported only when a WebSocket login runs).
"""

from __future__ import annotations

import base64
import contextlib
import enum
import http.client
import secrets
import socket
import time
import urllib.parse
import xml.etree.ElementTree as ET  # bounded input (MAX_STANZA); expat refuses external entities
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol
from xml.sax.saxutils import escape

from ldapcheck.adapters.errors import AdapterError

if TYPE_CHECKING:
    from websockets.sync.client import ClientConnection

NS_STREAM = "http://etherx.jabber.org/streams"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-streams"
NS_BOSH = "http://jabber.org/protocol/httpbind"
NS_XBOSH = "urn:xmpp:xbosh"
NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"
NS_CLIENT = "jabber:client"

MAX_STANZA = 256 * 1024  # the most bytes read for one stanza, BOSH body or WebSocket message
DEFAULT_TIMEOUT = 15.0  # generous: a hung LDAP server behind saslauthd blocks prosody for about 10 s


class Transport(enum.StrEnum):
    C2S = "c2s"
    BOSH = "bosh"
    WEBSOCKET = "websocket"


class XmppErrorKind(enum.StrEnum):
    """How an XMPP exchange failed before a SASL answer came back."""

    CONNECT = "connect"  # TCP connect (refused, unreachable, DNS)
    TIMEOUT = "timeout"  # no (complete) answer before the deadline
    CLOSED = "closed"  # the peer closed the connection or stream
    HTTP = "http"  # BOSH/WebSocket: an HTTP status other than 200 / 101
    TERMINATE = "terminate"  # BOSH: `<body type='terminate' condition='…'/>`
    STREAM_ERROR = "stream-error"  # `<stream:error>` (host-unknown …)
    PROTOCOL = "protocol"  # not XML, too large, or not the XMPP expected
    NO_MECHANISM = "no-mechanism"  # the wanted SASL mechanism is not offered
    BIND = "bind"  # resource binding failed after a successful SASL exchange


class XmppError(AdapterError):
    """An XMPP exchange failed; `condition` holds the server's own condition name when it sent one."""

    def __init__(
        self,
        kind: XmppErrorKind,
        text: str,
        *,
        transport: Transport,
        endpoint: str,
        condition: str | None = None,
        status: int | None = None,
        mechanisms: tuple[str, ...] = (),
    ) -> None:
        super().__init__(f"{transport} {endpoint}: {text}")
        self.kind = kind
        self.text = text
        self.transport = transport
        self.endpoint = endpoint
        self.condition = condition
        self.status = status
        self.mechanisms = mechanisms


@dataclass(frozen=True)
class Timings:
    """Seconds spent in each phase (0.0 for a phase that did not run)."""

    connect: float = 0.0  # TCP connect / BOSH session creation / WebSocket handshake
    features: float = 0.0  # stream open → `<stream:features>`
    auth: float = 0.0  # `<auth>` → `<success/>` / `<failure>`
    bind: float = 0.0  # stream restart + resource bind
    total: float = 0.0


@dataclass(frozen=True)
class LoginResult:
    """What the server answered: the mechanisms it offered and its reply to `<auth>`, verbatim."""

    transport: Transport
    endpoint: str
    domain: str
    mechanism: str
    mechanisms: tuple[str, ...]
    success: bool
    condition: str | None  # `<failure>`'s condition (not-authorized, undefined-condition …); None on success
    text: str | None  # `<failure>`'s `<text>`, if any
    starttls_offered: bool
    jid: str | None  # the bound full JID (None when binding was not asked for or SASL failed)
    raw_reply: str = field(repr=False)  # `<success/>` / `<failure>…</failure>` as received
    timings: Timings = Timings()

    @property
    def seconds(self) -> float:
        return self.timings.total


class _Stream(Protocol):
    """One transport: open (or restart) a stream to `domain` and exchange top-level elements."""

    def open(self, domain: str, *, restart: bool) -> ET.Element: ...  # returns `<stream:features>`
    def send(self, xml: str) -> None: ...
    def recv(self) -> ET.Element: ...
    def close(self) -> None: ...


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _ns(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def _xml(text: bytes | str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 - size-bounded by the caller; expat refuses external entities


class _Deadline:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.end = time.monotonic() + timeout

    def left(self) -> float:
        return self.end - time.monotonic()


# --- c2s ----------------------------------------------------------------------------------------------------------


class _C2s:
    def __init__(self, host: str, port: int, deadline: _Deadline) -> None:
        self.endpoint = f"{host}:{port}"
        self.deadline = deadline
        self.parser: ET.XMLPullParser[ET.Element] | None = None
        self.depth = 0
        self.pending: list[ET.Element] = []
        try:
            self.sock = socket.create_connection((host, port), timeout=max(deadline.left(), 0.01))
        except TimeoutError:
            raise self._error(XmppErrorKind.TIMEOUT, "no TCP connection before the deadline") from None
        except OSError as exc:
            raise self._error(XmppErrorKind.CONNECT, exc.strerror or str(exc)) from None

    def _error(self, kind: XmppErrorKind, text: str, condition: str | None = None) -> XmppError:
        return XmppError(kind, text, transport=Transport.C2S, endpoint=self.endpoint, condition=condition)

    def open(self, domain: str, *, restart: bool) -> ET.Element:
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.depth = 0
        self.pending = []
        self.send(
            f"<?xml version='1.0'?><stream:stream to={_attr(domain)} xmlns='{NS_CLIENT}' "
            f"xmlns:stream='{NS_STREAM}' version='1.0'>"
        )
        return _expect_features(self.recv(), self._error)

    def send(self, xml: str) -> None:
        try:
            self.sock.settimeout(max(self.deadline.left(), 0.01))
            self.sock.sendall(xml.encode("utf-8"))
        except TimeoutError:
            raise self._error(XmppErrorKind.TIMEOUT, "sending timed out") from None
        except OSError as exc:
            raise self._error(XmppErrorKind.CLOSED, exc.strerror or str(exc)) from None

    def recv(self) -> ET.Element:
        read = 0
        while not self.pending:
            read += self._fill()
            if read > MAX_STANZA:
                raise self._error(XmppErrorKind.PROTOCOL, f"a stanza larger than {MAX_STANZA} bytes")
        return self.pending.pop(0)

    def _fill(self) -> int:
        assert self.parser is not None
        left = self.deadline.left()
        if left <= 0:
            raise self._error(XmppErrorKind.TIMEOUT, f"no complete answer within {self.deadline.timeout:g} s")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError:
            raise self._error(XmppErrorKind.TIMEOUT, f"no complete answer within {self.deadline.timeout:g} s") from None
        except OSError as exc:
            raise self._error(XmppErrorKind.CLOSED, exc.strerror or str(exc)) from None
        if not chunk:
            raise self._error(XmppErrorKind.CLOSED, "the server closed the connection")
        try:
            self.parser.feed(chunk)
            for item in self.parser.read_events():
                event, elem = item  # type: ignore[misc]  # typeshed types read_events() as a 1-tuple
                if not isinstance(elem, ET.Element):
                    continue
                if event == "start":
                    self.depth += 1
                    continue
                self.depth -= 1
                if self.depth == 0:  # </stream:stream>
                    raise self._error(XmppErrorKind.CLOSED, "the server closed the stream")
                if self.depth == 1:
                    self.pending.append(elem)
        except ET.ParseError as exc:
            raise self._error(XmppErrorKind.PROTOCOL, f"not XML: {exc}") from None
        return len(chunk)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.settimeout(1.0)
            self.sock.sendall(b"</stream:stream>")
        self.sock.close()


# --- BOSH ---------------------------------------------------------------------------------------------------------


class _Bosh:
    def __init__(self, url: str, deadline: _Deadline) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise XmppError(XmppErrorKind.PROTOCOL, "not an http(s) URL", transport=Transport.BOSH, endpoint=url)
        self.endpoint = url
        self.deadline = deadline
        self.path = parts.path or "/"
        if parts.query:
            self.path += "?" + parts.query
        port = parts.port or (443 if parts.scheme == "https" else 80)
        conn_type = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        self.conn = conn_type(parts.hostname, port, timeout=max(deadline.left(), 0.01))
        self.rid = secrets.randbelow(2**40) + 2**20
        self.sid: str | None = None
        self.domain = ""
        self.pending: list[ET.Element] = []
        # The server may hold a request up to `wait` seconds when it has nothing to say: keep that inside our timeout.
        self.wait = max(1, min(60, int(deadline.timeout) - 2))

    def _error(
        self, kind: XmppErrorKind, text: str, condition: str | None = None, status: int | None = None
    ) -> XmppError:
        return XmppError(
            kind, text, transport=Transport.BOSH, endpoint=self.endpoint, condition=condition, status=status
        )

    def _post(self, body: str) -> ET.Element:
        left = self.deadline.left()
        if left <= 0:
            raise self._error(XmppErrorKind.TIMEOUT, f"no complete answer within {self.deadline.timeout:g} s")
        try:
            self.conn.timeout = left
            if self.conn.sock is not None:
                self.conn.sock.settimeout(left)
            self.conn.request(
                "POST", self.path, body=body.encode("utf-8"), headers={"Content-Type": "text/xml; charset=utf-8"}
            )
            response = self.conn.getresponse()
            data = response.read(MAX_STANZA + 1)
        except TimeoutError:
            self.conn.close()
            raise self._error(XmppErrorKind.TIMEOUT, f"no HTTP answer within {self.deadline.timeout:g} s") from None
        except ConnectionRefusedError as exc:
            raise self._error(XmppErrorKind.CONNECT, exc.strerror or str(exc)) from None
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            kind = XmppErrorKind.CONNECT if self.sid is None and isinstance(exc, OSError) else XmppErrorKind.CLOSED
            raise self._error(kind, str(exc) or type(exc).__name__) from None
        if len(data) > MAX_STANZA:
            self.conn.close()
            raise self._error(XmppErrorKind.PROTOCOL, f"a BOSH body larger than {MAX_STANZA} bytes")
        if response.status != 200:
            snippet = data[:200].decode("utf-8", "replace").strip()
            raise self._error(
                XmppErrorKind.HTTP, f"HTTP {response.status} {response.reason}: {snippet}", None, response.status
            )
        try:
            root = _xml(data)
        except ET.ParseError as exc:
            raise self._error(XmppErrorKind.PROTOCOL, f"the answer is not XML: {exc}") from None
        if root.tag != f"{{{NS_BOSH}}}body":
            raise self._error(XmppErrorKind.PROTOCOL, f"the answer is <{_local(root.tag)}>, not a BOSH <body>")
        if root.get("type") == "terminate":
            condition = root.get("condition")
            error = next((c for c in root if _local(c.tag) == "error"), None)
            if error is not None:  # a stream error inside the terminating body
                condition = next((_local(c.tag) for c in error if _ns(c.tag) == NS_STANZAS), condition)
            raise self._error(XmppErrorKind.TERMINATE, f"session terminated ({condition or 'no condition'})", condition)
        return root

    def _body(self, extra: str = "", children: str = "") -> str:
        self.rid += 1
        sid = f" sid={_attr(self.sid)}" if self.sid else ""
        return f"<body rid='{self.rid}'{sid} xmlns='{NS_BOSH}'{extra}>{children}</body>"

    def open(self, domain: str, *, restart: bool) -> ET.Element:
        self.domain = domain
        if restart:
            root = self._post(
                self._body(
                    f" to={_attr(domain)} xml:lang='en' xmpp:restart='true' xmlns:xmpp='{NS_XBOSH}'",
                )
            )
        else:
            self.rid = secrets.randbelow(2**40) + 2**20
            root = self._post(
                self._body(
                    f" to={_attr(domain)} xml:lang='en' wait='{self.wait}' hold='1' "
                    f"content='text/xml; charset=utf-8' ver='1.6' xmpp:version='1.0' xmlns:xmpp='{NS_XBOSH}'"
                )
            )
            self.sid = root.get("sid")
            if not self.sid:
                raise self._error(XmppErrorKind.PROTOCOL, "the session creation answer has no sid")
        self.pending = list(root)
        return _expect_features(self.recv(), self._error)

    def send(self, xml: str) -> None:
        self.pending.extend(self._post(self._body(children=xml)))

    def recv(self) -> ET.Element:
        while not self.pending:  # an empty answer: poll (the server holds the request until it has something)
            self.pending.extend(self._post(self._body()))
        return self.pending.pop(0)

    def close(self) -> None:
        if self.sid is not None:
            with contextlib.suppress(XmppError):
                self.deadline.end = max(self.deadline.end, time.monotonic() + 2.0)
                self._post(self._body(" type='terminate'", f"<presence type='unavailable' xmlns='{NS_CLIENT}'/>"))
        self.conn.close()


# --- WebSocket ----------------------------------------------------------------------------------------------------


class _WebSocket:
    def __init__(self, url: str, deadline: _Deadline) -> None:
        from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI
        from websockets.sync.client import connect

        self.endpoint = url
        self.deadline = deadline
        self.stack = contextlib.ExitStack()
        try:
            self.ws: ClientConnection = self.stack.enter_context(
                connect(
                    url,
                    subprotocols=["xmpp"],  # type: ignore[list-item]
                    open_timeout=max(deadline.left(), 0.01),
                    close_timeout=1.0,
                    max_size=MAX_STANZA,
                    compression=None,
                    user_agent_header=None,
                )
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            raise self._error(
                XmppErrorKind.HTTP, f"HTTP {status} instead of a WebSocket upgrade", status=status
            ) from None
        except InvalidURI as exc:
            raise self._error(XmppErrorKind.PROTOCOL, str(exc)) from None
        except InvalidHandshake as exc:
            raise self._error(XmppErrorKind.PROTOCOL, f"WebSocket handshake failed: {exc}") from None
        except TimeoutError:
            raise self._error(XmppErrorKind.TIMEOUT, "no WebSocket handshake before the deadline") from None
        except OSError as exc:
            raise self._error(XmppErrorKind.CONNECT, exc.strerror or str(exc)) from None
        if self.ws.subprotocol != "xmpp":
            self.stack.close()
            raise self._error(XmppErrorKind.PROTOCOL, "the server did not accept the 'xmpp' WebSocket subprotocol")

    def _error(
        self, kind: XmppErrorKind, text: str, condition: str | None = None, status: int | None = None
    ) -> XmppError:
        return XmppError(
            kind, text, transport=Transport.WEBSOCKET, endpoint=self.endpoint, condition=condition, status=status
        )

    def open(self, domain: str, *, restart: bool) -> ET.Element:
        self.send(f"<open xmlns='{NS_FRAMING}' to={_attr(domain)} version='1.0'/>")
        first = self.recv()
        if first.tag != f"{{{NS_FRAMING}}}open":
            raise self._error(XmppErrorKind.PROTOCOL, f"expected <open/>, got <{_local(first.tag)}>")
        return _expect_features(self.recv(), self._error)

    def send(self, xml: str) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            self.ws.send(xml)
        except ConnectionClosed as exc:
            raise self._error(XmppErrorKind.CLOSED, f"WebSocket closed ({exc})") from None
        except TimeoutError:
            raise self._error(XmppErrorKind.TIMEOUT, "sending timed out") from None

    def recv(self) -> ET.Element:
        from websockets.exceptions import ConnectionClosed, PayloadTooBig

        left = self.deadline.left()
        if left <= 0:
            raise self._error(XmppErrorKind.TIMEOUT, f"no complete answer within {self.deadline.timeout:g} s")
        try:
            message = self.ws.recv(timeout=left)
        except TimeoutError:
            raise self._error(XmppErrorKind.TIMEOUT, f"no answer within {self.deadline.timeout:g} s") from None
        except PayloadTooBig:
            raise self._error(XmppErrorKind.PROTOCOL, f"a WebSocket message larger than {MAX_STANZA} bytes") from None
        except ConnectionClosed as exc:
            raise self._error(XmppErrorKind.CLOSED, f"WebSocket closed ({exc})") from None
        try:
            elem = _xml(message)
        except ET.ParseError as exc:
            raise self._error(XmppErrorKind.PROTOCOL, f"a message that is not XML: {exc}") from None
        if elem.tag == f"{{{NS_FRAMING}}}close":
            raise self._error(XmppErrorKind.CLOSED, "the server closed the stream (<close/>)")
        return elem

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.send(f"<close xmlns='{NS_FRAMING}'/>")
        with contextlib.suppress(Exception):
            self.stack.close()


# --- the login, shared by all transports --------------------------------------------------------------------------


def _expect_features(elem: ET.Element, error: _ErrorFactory) -> ET.Element:
    if elem.tag == f"{{{NS_STREAM}}}error":
        condition = next((_local(c.tag) for c in elem if _ns(c.tag) == NS_STANZAS and _local(c.tag) != "text"), None)
        text = next((c.text for c in elem if _local(c.tag) == "text"), None)
        raise error(XmppErrorKind.STREAM_ERROR, f"stream error {condition}{': ' + text if text else ''}", condition)
    if elem.tag != f"{{{NS_STREAM}}}features":
        raise error(XmppErrorKind.PROTOCOL, f"expected <stream:features>, got <{_local(elem.tag)}>", None)
    return elem


class _ErrorFactory(Protocol):
    def __call__(self, kind: XmppErrorKind, text: str, condition: str | None = None, /) -> XmppError: ...


def _mechanisms(features: ET.Element) -> tuple[str, ...]:
    mechs = features.find(f"{{{NS_SASL}}}mechanisms")
    if mechs is None:
        return ()
    return tuple((m.text or "").strip() for m in mechs.findall(f"{{{NS_SASL}}}mechanism"))


def _sasl_payload(mechanism: str, user: str | None, password: str | None, authzid: str) -> str:
    if mechanism == "ANONYMOUS":
        return ""
    if mechanism == "PLAIN":
        if user is None or password is None:
            raise ValueError("PLAIN needs a user and a password")
        return base64.b64encode(f"{authzid}\0{user}\0{password}".encode()).decode("ascii")
    raise ValueError(f"unsupported SASL mechanism {mechanism!r} (PLAIN or ANONYMOUS)")


_XML_NS = "http://www.w3.org/XML/1998/namespace"


def _attr(value: str) -> str:
    return "'" + escape(value, {"'": "&apos;"}) + "'"


def _serialise(elem: ET.Element, parent_ns: str = "") -> str:
    """The element as XML again, prosody's way (single quotes, a default xmlns where the namespace changes)."""
    ns, name = _ns(elem.tag), _local(elem.tag)
    parts = [f"<{name}"]
    if ns != parent_ns:
        parts.append(f" xmlns={_attr(ns)}")
    for key, value in elem.attrib.items():
        shown = "xml:" + _local(key) if _ns(key) == _XML_NS else _local(key)
        parts.append(f" {shown}={_attr(value)}")
    inner = escape(elem.text or "") + "".join(_serialise(child, ns) + escape(child.tail or "") for child in elem)
    parts.append(f">{inner}</{name}>" if inner else "/>")
    return "".join(parts)


def _login(
    stream: _Stream,
    transport: Transport,
    endpoint: str,
    domain: str,
    mechanism: str,
    user: str | None,
    password: str | None,
    authzid: str,
    bind: bool,
    started: float,
    connected: float,
) -> LoginResult:
    payload = _sasl_payload(mechanism, user, password, authzid)
    features = stream.open(domain, restart=False)
    t_features = time.monotonic()
    mechanisms = _mechanisms(features)
    starttls = features.find(f"{{{NS_TLS}}}starttls") is not None
    if mechanism not in mechanisms:
        raise XmppError(
            XmppErrorKind.NO_MECHANISM,
            f"{mechanism} is not offered (offered: {', '.join(mechanisms) or 'none'})",
            transport=transport,
            endpoint=endpoint,
            mechanisms=mechanisms,
        )
    stream.send(f"<auth xmlns='{NS_SASL}' mechanism='{mechanism}'>{payload}</auth>")
    del payload
    reply = stream.recv()
    while _ns(reply.tag) != NS_SASL:  # e.g. a stray stanza before the answer: ignore
        reply = stream.recv()
    t_auth = time.monotonic()
    raw = _serialise(reply)
    success = _local(reply.tag) == "success"
    condition = text = jid = None
    if not success:
        condition = next((_local(c.tag) for c in reply if _local(c.tag) != "text"), None)
        text = next((c.text for c in reply if _local(c.tag) == "text"), None)
    t_bind = t_auth
    if success and bind:
        features = stream.open(domain, restart=True)
        if features.find(f"{{{NS_BIND}}}bind") is None:
            raise XmppError(XmppErrorKind.BIND, "no resource binding offered", transport=transport, endpoint=endpoint)
        stream.send(f"<iq type='set' id='bind_1' xmlns='{NS_CLIENT}'><bind xmlns='{NS_BIND}'/></iq>")
        answer = stream.recv()
        while _local(answer.tag) != "iq" or answer.get("id") != "bind_1":
            answer = stream.recv()
        found = answer.find(f"{{{NS_BIND}}}bind/{{{NS_BIND}}}jid")
        if answer.get("type") != "result" or found is None or not found.text:
            raise XmppError(
                XmppErrorKind.BIND, f"bind answered {_serialise(answer)[:200]}", transport=transport, endpoint=endpoint
            )
        jid = found.text
        t_bind = time.monotonic()
    done = time.monotonic()
    return LoginResult(
        transport=transport,
        endpoint=endpoint,
        domain=domain,
        mechanism=mechanism,
        mechanisms=mechanisms,
        success=success,
        condition=condition,
        text=text,
        starttls_offered=starttls,
        jid=jid,
        raw_reply=raw,
        timings=Timings(
            connect=connected - started,
            features=t_features - connected,
            auth=t_auth - t_features,
            bind=t_bind - t_auth,
            total=done - started,
        ),
    )


@contextlib.contextmanager
def _opened(stream: _Stream) -> Iterator[_Stream]:
    try:
        yield stream
    finally:
        stream.close()


def login_c2s(
    host: str,
    port: int,
    domain: str,
    user: str | None = None,
    password: str | None = None,
    *,
    mechanism: str = "PLAIN",
    authzid: str = "",
    bind: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
) -> LoginResult:
    """One SASL attempt (PLAIN or ANONYMOUS) over a plaintext c2s stream to `domain` on `host:port`."""
    started = time.monotonic()
    deadline = _Deadline(timeout)
    stream = _C2s(host, port, deadline)
    with _opened(stream):
        return _login(
            stream,
            Transport.C2S,
            stream.endpoint,
            domain,
            mechanism,
            user,
            password,
            authzid,
            bind,
            started,
            time.monotonic(),
        )


def login_bosh(
    url: str,
    domain: str,
    user: str | None = None,
    password: str | None = None,
    *,
    mechanism: str = "PLAIN",
    authzid: str = "",
    bind: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
) -> LoginResult:
    """A BOSH login as the web client does it: `url` is `<PUBLIC_URL>/http-bind` (with `?token=…` for JWT)."""
    started = time.monotonic()
    stream = _Bosh(url, _Deadline(timeout))
    with _opened(stream):
        return _login(stream, Transport.BOSH, url, domain, mechanism, user, password, authzid, bind, started, started)


def login_websocket(
    url: str,
    domain: str,
    user: str | None = None,
    password: str | None = None,
    *,
    mechanism: str = "PLAIN",
    authzid: str = "",
    bind: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
) -> LoginResult:
    """A WebSocket login as the web client does it: `url` is `ws(s)://<host>/xmpp-websocket`."""
    started = time.monotonic()
    stream = _WebSocket(url, _Deadline(timeout))
    with _opened(stream):
        return _login(
            stream,
            Transport.WEBSOCKET,
            url,
            domain,
            mechanism,
            user,
            password,
            authzid,
            bind,
            started,
            time.monotonic(),
        )


def offered_mechanisms(
    transport: Transport, endpoint: str, domain: str, *, timeout: float = DEFAULT_TIMEOUT
) -> tuple[str, ...]:
    """Open a stream to `domain` and return the SASL mechanisms its features offer, without authenticating.

    `endpoint` is `host:port` for c2s, the `/http-bind` URL for BOSH, the `/xmpp-websocket` URL for WebSocket.
    """
    deadline = _Deadline(timeout)
    stream: _Stream
    if transport is Transport.C2S:
        host, _, port = endpoint.rpartition(":")
        stream = _C2s(host.strip("[]"), int(port), deadline)
    elif transport is Transport.BOSH:
        stream = _Bosh(endpoint, deadline)
    else:
        stream = _WebSocket(endpoint, deadline)
    with _opened(stream):
        return _mechanisms(stream.open(domain, restart=False))
