"""A raw-socket XMPP client: open a c2s stream, try SASL PLAIN, and keep the server's reply verbatim.

Raw on purpose: client libraries rewrite SASL failure conditions (slixmpp turns `<undefined-condition/>`
into `not-authorized`), and the exact condition is the evidence.
"""

from __future__ import annotations

import base64
import contextlib
import re
import socket
import time
from dataclasses import dataclass, field

_STREAM_NS = "http://etherx.jabber.org/streams"
_SASL_END = re.compile(rb"(<success[^>]*/>|</success>|</failure>|<failure[^>]*/>|</stream:stream>)")


@dataclass(frozen=True)
class PlainLoginResult:
    """What the server answered to `<auth mechanism='PLAIN'>`."""

    success: bool
    condition: str | None  # e.g. "not-authorized", "undefined-condition"; None on success
    text: str | None  # the failure's <text>, if any
    mechanisms: tuple[str, ...]
    starttls_offered: bool
    raw_reply: str = field(repr=False)  # the `<success/>` / `<failure>…</failure>` XML as received
    seconds: float = 0.0


class XmppProtocolError(Exception):
    """The server did not speak the expected c2s protocol (closed, timed out, no PLAIN …)."""


def _read_until(sock: socket.socket, pattern: re.Pattern[bytes], deadline: float) -> str:
    buf = b""
    while not pattern.search(buf):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise XmppProtocolError(f"timed out waiting for the server; got {buf[-200:]!r}")
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            raise XmppProtocolError(f"timed out waiting for the server; got {buf[-200:]!r}") from None
        if not chunk:
            raise XmppProtocolError(f"server closed the connection; got {buf[-200:]!r}")
        buf += chunk
    return buf.decode("utf-8", "replace")


def plain_login(
    host: str,
    port: int,
    domain: str,
    user: str,
    password: str,
    *,
    authzid: str = "",
    timeout: float = 15.0,
) -> PlainLoginResult:
    """One SASL PLAIN attempt over plaintext c2s (no TLS), as Jitsi's BOSH/websocket logins reach prosody.

    The timeout is generous by default because a hung LDAP server blocks prosody for about 10 s.
    """
    started = time.monotonic()
    deadline = started + timeout
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(
            f"<?xml version='1.0'?><stream:stream to='{domain}' xmlns='jabber:client' "
            f"xmlns:stream='{_STREAM_NS}' version='1.0'>".encode()
        )
        features = _read_until(sock, re.compile(rb"</stream:features>|</stream:stream>"), deadline)
        mechanisms = tuple(re.findall(r"<mechanism>([^<]+)</mechanism>", features))
        starttls = "urn:ietf:params:xml:ns:xmpp-tls" in features
        if "PLAIN" not in mechanisms:
            raise XmppProtocolError(f"server offers no PLAIN mechanism (offered: {', '.join(mechanisms) or 'none'})")
        payload = base64.b64encode(f"{authzid}\0{user}\0{password}".encode()).decode()
        sock.sendall(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{payload}</auth>".encode())
        reply = _read_until(sock, _SASL_END, deadline)
        with contextlib.suppress(OSError):
            sock.sendall(b"</stream:stream>")
    elapsed = time.monotonic() - started
    body = reply[reply.find("<success") if "<success" in reply else max(reply.find("<failure"), 0) :].strip()
    if "<success" in reply:
        return PlainLoginResult(True, None, None, mechanisms, starttls, body, elapsed)
    cond = re.search(r"<failure[^>]*>\s*<([a-z-]+)", reply)
    text = re.search(r"<text[^>]*>([^<]*)</text>", reply)
    return PlainLoginResult(
        False, cond.group(1) if cond else None, text.group(1) if text else None, mechanisms, starttls, body, elapsed
    )
