"""The raw-socket LDAPv3 client (bind, StartTLS, search) and the paged count built on its page framer.

`WireClient.page_parts` frames a page of a search response from the receive buffer reading only BER headers;
`stream.count_entries` counts its entries without decoding them (only SearchResultDone and its controls are decoded,
so a server size limit is seen, not hidden), and `stream.stream_entries` decodes the attributes asked for.

Every socket operation honours the client's timeout; failures are raised as `NetError` (the network) or
`LdapProtocolError` (bytes that are not the LDAP expected).
"""

from __future__ import annotations

import contextlib
import socket
import sys
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, NamedTuple

from ldapcheck.adapters.errors import LdapProtocolError, NetError, NetKind, Operation, os_error, resolver_name
from ldapcheck.adapters.ldap import ber as w
from ldapcheck.core.record import record

if TYPE_CHECKING:  # ssl (~5 ms to import) only when a connection uses TLS: a plain-LDAP `count` is start-up bound.
    import ssl

_RECV = 1 << 20
# The page size asked by default: the largest an LDAP INTEGER holds. Where the identity has no limit the whole
# result comes as one page (no round trip per page; OpenLDAP then serves it as one uninterrupted search); AD caps
# pages at MaxPageSize silently (the cookie continues); OpenLDAP refuses a page above `size.pr` with
# adminLimitExceeded, so we retry once with SAFE_PAGE. A size limit still ends the search with sizeLimitExceeded:
# the count is reported as truncated, never as the total. Parts of a page are handed on as they arrive
# (`WireClient.page_parts`): memory stays flat however large the page.
DEFAULT_PAGE = 2**31 - 1
SAFE_PAGE = 1000
TRUNCATING_CODES = {3: "timeLimitExceeded", 4: "sizeLimitExceeded", 11: "adminLimitExceeded"}
# What a reader costs the server. slapd writes each SearchResultEntry with its own write() on a TCP_NODELAY
# socket. While the receive window is open each write leaves at once as a TCP segment of its own, and on the
# same host (loopback) the receiving side's work for that segment — and waking the reader — runs in slapd's
# system call. A reader that drains its socket faster than slapd writes (ours) keeps the window open: on 1M
# entries slapd sent 210,000-780,000 segments (by read strategy) and spent up to twice the CPU of
# `ldapsearch | grep`, whose slower reader keeps the window shut so that slapd's writes pile up in its send queue
# and leave later as ~2,000 large segments, sent in the reader's context when it reads (counted with
# /proc/net/snmp OutSegs; bench/README.md).
# So while a page streams in:
# - SO_RCVLOWAT asks the kernel to wake us only when BULK_LOWAT bytes are queued (fewer near the end of a full
#   page); if they do not come within BULK_WAIT (a short last page, a size limit) we take what came;
# - towards a near peer (round trip under NEAR_RTT: the same host or a LAN) the receive buffer is fixed at
#   NEAR_RCVBUF (autotuning off), which bounds the window so that it is full when BULK_LOWAT bytes wait: slapd's
#   writes then coalesce while we are woken and read. Measured on 1M entries: slapd CPU 1.26-1.30 s and
#   ~8,000 segments, against 1.29-1.40 s for `ldapsearch … | grep -c` (a low-water mark under 128 KiB, or a
#   buffer of 1 MiB, fell back to a segment per entry in some runs). Over a long round trip a fixed window would
#   cap throughput (window / RTT), and the receiver's work is not the server's: autotuning is kept there.
BULK_LOWAT = 160 * 1024
BULK_WAIT = 0.002
NEAR_RCVBUF = 212_992  # Linux doubles it (bookkeeping); the stock net.core.rmem_max, so granted unprivileged
NEAR_RTT = 0.002
_DONE_MIN = 14  # the smallest SearchResultDone: 30 0c 02 01 id 65 07 0a 01 00 04 00 04 00


class WireError(LdapProtocolError):
    """The peer sent something that is not LDAP, or not the response expected."""


Entry = tuple[str, dict[str, list[bytes]]]


class Pdu(NamedTuple):
    """One whole LDAPMessage and the offsets of its protocolOp in `data`."""

    data: bytes
    tag: int  # the protocolOp's tag
    op_at: int  # where the protocolOp element starts
    start: int  # where its content starts
    end: int  # where it ends
    msg_end: int  # where the message (controls included) ends


class PagePart(NamedTuple):
    """Whole messages of a page, as they arrived: `entries` are the SearchResultEntry ops' offsets in `data`
    (empty `data` when the caller counts only); the last part of a page carries its SearchResultDone."""

    data: bytes
    entries: list[int]
    references: int
    done: w.LdapResult | None


class WireClient:
    """A minimal synchronous LDAPv3 client: one outstanding request at a time."""

    def __init__(self, sock: socket.socket, timeout: float, *, host: str = "", port: int = 0) -> None:
        self.sock = sock
        self.timeout = timeout
        self.host = host
        self.port = port
        self.sock.settimeout(timeout)
        self._buf = bytearray()
        self._pos = 0
        self._msgid = 0
        self._chunk = bytearray(_RECV)
        self._lowat = 1  # SO_RCVLOWAT as set; 0: the platform has none
        self._bulk_ready = False  # the receive buffer decided (see NEAR_RCVBUF)

    @classmethod
    def connect(
        cls,
        host: str,
        port: int,
        *,
        timeout: float,
        tls: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
    ) -> WireClient:
        """Open TCP (and TLS from the first byte if `tls`), each step bounded by `timeout`."""
        try:
            # create_connection hands the name to getaddrinfo, which takes bytes (typeshed says str only)
            sock = socket.create_connection((resolver_name(host), port), timeout=timeout)  # type: ignore[arg-type]
        except OSError as exc:
            raise os_error(exc, operation=Operation.CONNECT, host=host, port=port, timeout=timeout) from None
        try:
            if tls is not None:
                sock.settimeout(timeout)
                sock = tls.wrap_socket(sock, server_hostname=server_hostname or host)
        except OSError as exc:
            sock.close()
            raise os_error(exc, operation=Operation.TLS, host=host, port=port, timeout=timeout) from None
        except BaseException:
            sock.close()
            raise
        return cls(sock, timeout, host=host, port=port)

    def _net_error(self, exc: OSError, operation: Operation = Operation.LDAP) -> NetError:
        return os_error(exc, operation=operation, host=self.host, port=self.port, timeout=self.timeout)

    def __enter__(self) -> WireClient:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Send an unbind (best effort) and close."""
        with contextlib.suppress(OSError):
            self.sock.sendall(w.message(self._next_id(), w.tlv(w.UNBIND_REQUEST, b"")))
        with contextlib.suppress(OSError):
            self.sock.close()

    def _next_id(self) -> int:
        self._msgid += 1
        return self._msgid

    def send(self, op: bytes, controls: Sequence[bytes] = ()) -> int:
        """Send one request; returns its message id."""
        msgid = self._next_id()
        try:
            self.sock.sendall(w.message(msgid, op, controls))
        except OSError as exc:
            raise self._net_error(exc) from None
        return msgid

    def _set_lowat(self, n: int) -> None:
        """SO_RCVLOWAT `n`; above 1 a read waits at most BULK_WAIT, back at 1 with the client's own timeout."""
        if n == self._lowat or not self._lowat:
            return
        if n > 1 and not self._bulk_ready:
            self._bulk_ready = True
            self._fix_near_rcvbuf()
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, n)
        except (OSError, AttributeError):  # no SO_RCVLOWAT here (or not settable): read as before
            self._lowat = 0
            return
        if self._lowat == 1:
            self.sock.settimeout(min(BULK_WAIT, self.timeout))
        elif n == 1:
            self.sock.settimeout(self.timeout)
        self._lowat = n

    def _fix_near_rcvbuf(self) -> None:
        """Fix the receive buffer at NEAR_RCVBUF when the peer is near (see the comment at BULK_LOWAT)."""
        rtt = round_trip(self.sock)
        if rtt is not None and rtt < NEAR_RTT:
            with contextlib.suppress(OSError):
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, NEAR_RCVBUF)

    def _fill(self, coming: int = 0) -> None:
        """Receive more bytes; what precedes the read position is dropped first.

        `coming`: bytes surely on their way (the rest of a page): the kernel need not wake us for fewer, up to
        BULK_LOWAT. If they do not come within BULK_WAIT, what did come is taken, with the client's timeout.
        """
        if self._pos:
            del self._buf[: self._pos]
            self._pos = 0
        self._set_lowat(max(1, min(coming, BULK_LOWAT)))
        try:
            try:
                n = self.sock.recv_into(self._chunk)
            except TimeoutError:
                if self._lowat <= 1:
                    raise
                self._set_lowat(1)
                n = self.sock.recv_into(self._chunk)
        except OSError as exc:
            self._set_lowat(1)
            raise self._net_error(exc) from None
        if n == 0:
            raise NetError(
                NetKind.CLOSED,
                "the server closed the connection",
                host=self.host,
                port=self.port,
                timeout=self.timeout,
            )
        self._buf += memoryview(self._chunk)[:n]

    def read_pdu(self) -> Pdu:
        """One whole LDAPMessage."""
        while True:
            buf = self._buf
            h = w.header(buf, self._pos, len(buf))
            if h is not None and h[2] <= len(buf):
                if buf[self._pos] != 0x30:
                    raise WireError(f"not an LDAP message (first byte 0x{buf[self._pos]:02x})")
                start, end = self._pos, h[2]
                pdu = bytes(buf[start:end])
                self._pos = end
                return _pdu(pdu, h[1] - start, end - start)
            self._fill()

    def page_parts(self, expected: int = 0, *, keep: bool = True) -> Iterator[PagePart]:
        """Frame one page of a search response from the receive buffer, reading only BER headers, and yield it in
        parts as it arrives (whole messages each; the last one carries the SearchResultDone).

        `expected`: the entries a full page holds (the page size asked, or the last page's count if the server
        caps pages), so that reads wait for the bytes the page still surely brings (see BULK_LOWAT); 0: unknown.
        `keep=False`: the parts carry no bytes (a count). The whole page must be read before the next request.
        """
        entries: list[int] = []
        refs = got = framed = 0  # references in this part; entries and bytes framed in the page so far
        start = scan = self._pos
        while True:
            buf = self._buf
            avail = len(buf)
            while avail - scan >= 2:
                first = buf[scan + 1]
                if first < 0x80:
                    body = scan + 2
                    end = body + first
                else:
                    body = scan + 2 + (first & 0x7F)
                    if body > avail:
                        break
                    end = body + int.from_bytes(buf[scan + 2 : body], "big")
                if end > avail:
                    break
                op_at = body + 2 + buf[body + 1]  # the messageID is a short INTEGER
                tag = buf[op_at]
                if tag == w.SEARCH_ENTRY:
                    entries.append(op_at - start)
                elif tag == w.SEARCH_REFERENCE:
                    refs += 1
                elif tag == w.SEARCH_DONE:
                    self._pos = end
                    self._set_lowat(1)  # other reads (and the socket timeout) as before
                    message = bytes(buf[scan:end])
                    op = w.header(message, op_at - scan, end - scan)
                    if op is None:
                        raise WireError("truncated SearchResultDone")
                    done = w.decode_result(message, op[1], op[2], end - scan)
                    yield PagePart(bytes(buf[start:end]) if keep else b"", entries, refs, done)
                    return
                else:
                    raise WireError(f"unexpected operation 0x{tag:02x} in a search response")
                scan = end
            if entries or refs:  # hand on what is whole, then drop it from the buffer
                got += len(entries) + refs
                framed += scan - start
                self._pos = scan
                yield PagePart(bytes(buf[start:scan]) if keep else b"", entries, refs, None)
                entries, refs = [], 0
            # The missing entries at half the mean size so far, and the Done, less the part already buffered.
            coming = (expected - got) * framed // (2 * got) + _DONE_MIN - (avail - scan) if 0 < got < expected else 0
            self._fill(coming)  # drops what precedes the read position
            start = scan = self._pos

    def simple_bind(self, dn: str, password: str, controls: Sequence[bytes] = ()) -> w.LdapResult:
        """A simple bind; the result code is returned, not raised."""
        self.send(w.bind_request(dn, password), controls)
        pdu = self.read_pdu()
        if pdu.tag != w.BIND_RESPONSE:
            raise WireError(f"expected a BindResponse, got tag 0x{pdu.tag:02x}")
        return w.decode_result(pdu.data, pdu.start, pdu.end, pdu.msg_end)

    def start_tls(self, context: ssl.SSLContext, server_hostname: str) -> w.LdapResult:
        """Send the StartTLS extended operation and wrap the socket; a refusal raises NetError (starttls-refused)."""
        self.send(w.extended_request(w.STARTTLS_OID))
        pdu = self.read_pdu()
        if pdu.tag != w.EXTENDED_RESPONSE:
            raise WireError(f"expected an ExtendedResponse, got tag 0x{pdu.tag:02x}")
        result = w.decode_result(pdu.data, pdu.start, pdu.end, pdu.msg_end)
        if result.code != 0:
            raise NetError(
                NetKind.STARTTLS_REFUSED,
                result.message,
                operation=Operation.STARTTLS,
                host=self.host,
                port=self.port,
                timeout=self.timeout,
                result_code=result.code,
            )
        try:
            self.sock = context.wrap_socket(self.sock, server_hostname=server_hostname)
        except OSError as exc:
            raise self._net_error(exc, Operation.STARTTLS) from None
        self.sock.settimeout(self.timeout)
        return result

    def set_timeout(self, timeout: float) -> None:
        """A longer (or shorter) bound for each socket operation from now on (e.g. a slow page of a scan)."""
        self.timeout = timeout
        self.sock.settimeout(min(BULK_WAIT, timeout) if self._lowat > 1 else timeout)


def _pdu(data: bytes, content: int, end: int) -> Pdu:
    idh = w.header(data, content, end)
    if idh is None or idh[0] != 0x02:
        raise WireError("LDAP message without a message id")
    op = w.header(data, idh[2], end)
    if op is None:
        raise WireError("LDAP message without an operation")
    return Pdu(data, op[0], idh[2], op[1], op[2], end)


@record
class CountResult:
    """How many entries a paged search returned, and how it ended."""

    count: int
    references: int
    pages: int
    result_code: int
    message: str
    page_size: int = SAFE_PAGE

    @property
    def truncated(self) -> bool:
        """The server stopped early (size/time/admin limit): `count` is a lower bound."""
        return self.result_code in TRUNCATING_CODES


def round_trip(sock: socket.socket) -> float | None:
    """The kernel's smoothed round-trip time of a connected TCP socket, in seconds (Linux TCP_INFO), or None."""
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    except (OSError, AttributeError):
        return None
    # struct tcp_info: eight u8 fields, then u32s; tcpi_rtt (microseconds) is the 16th u32.
    return int.from_bytes(info[68:72], sys.byteorder) / 1e6 if len(info) >= 72 else None
