"""The raw-socket LDAPv3 client (bind, StartTLS, search) and the paged count built on its page framer.

`WireClient.read_page` frames one page of a search response from the receive buffer reading only BER headers;
`count_entries` counts its entries without decoding them (only SearchResultDone and its controls are decoded, so
a server size limit is seen, not hidden), and `stream.stream_entries` decodes the attributes asked for.

Every socket operation honours the client's timeout; failures are raised as `NetError` (the network) or
`LdapProtocolError` (bytes that are not the LDAP expected).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, NamedTuple

from ldapcheck.adapters.errors import LdapProtocolError, NetError, NetKind, Operation, os_error, resolver_name
from ldapcheck.adapters.ldap import ber as w

if TYPE_CHECKING:  # ssl (~5 ms to import) only when a connection uses TLS: a plain-LDAP `count` is start-up bound.
    import ssl

_RECV = 1 << 20
# Bigger pages mean fewer round trips (~20 % faster at 1M entries than 1000). AD caps pages at MaxPageSize
# silently; OpenLDAP refuses a page above `size.pr` with adminLimitExceeded, so we retry once with SAFE_PAGE.
DEFAULT_PAGE = 5000
SAFE_PAGE = 1000
TRUNCATING_CODES = {3: "timeLimitExceeded", 4: "sizeLimitExceeded", 11: "adminLimitExceeded"}
# slapd writes each SearchResultEntry with its own write() on a TCP_NODELAY socket. A reader that sleeps in recv()
# as soon as it has caught up (framing is faster than the server) is woken by every one of those writes: the
# server then pays, per entry, the wake-up of the reader, often a preemption by it, and (each read that empties
# the queue ACKs at once) a TCP segment of its own. On 1M entries that doubled slapd's CPU. So while a page
# streams in, SO_RCVLOWAT asks the kernel to wake us only when BULK_LOWAT bytes are queued (fewer near the end
# of a full page); if they do not come within BULK_WAIT (a short last page, a slow server) we take what came.
BULK_LOWAT = 32 * 1024
BULK_WAIT = 0.002
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


@dataclass(frozen=True)
class Page:
    """One page of a search response: its bytes, where each SearchResultEntry op starts, the Done result."""

    data: bytes
    entries: list[int]
    done: w.LdapResult
    references: int


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

    def read_page(self, expected: int = 0) -> Page:
        """Frame one page of a search response straight from the receive buffer, reading only BER headers.

        The page's bytes are kept in one piece (SearchResultEntry ops at `entries`); references are counted.
        `expected`: the entries a full page holds (the page size asked, or the last page's count if the server
        caps pages), so that reads wait for the bytes the page still surely brings (see BULK_LOWAT); 0: unknown.
        """
        entries: list[int] = []
        refs = 0
        start = self._pos
        scan = start
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
                    page = bytes(buf[start:end])
                    self._pos = end
                    self._set_lowat(1)  # other reads (and the socket timeout) as before
                    op = w.header(page, op_at - start, end - start)
                    if op is None:
                        raise WireError("truncated SearchResultDone")
                    return Page(page, entries, w.decode_result(page, op[1], op[2], end - start), refs)
                else:
                    raise WireError(f"unexpected operation 0x{tag:02x} in a search response")
                scan = end
            offset = scan - start
            got = len(entries) + refs
            # The missing entries at half the mean size so far, and the Done, less the part already buffered.
            coming = (expected - got) * offset // (2 * got) + _DONE_MIN - (avail - scan) if 0 < got < expected else 0
            self._fill(coming)  # the read position is still the page's start: what precedes it is dropped
            start = self._pos
            scan = start + offset

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


@dataclass(frozen=True)
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


def count_entries(
    client: WireClient,
    base: str,
    filter_text: str,
    *,
    page_size: int = DEFAULT_PAGE,
    progress: Callable[[int], None] | None = None,
) -> CountResult:
    """Count the entries under `base` matching `filter_text`, paged, asking for no attributes ('1.1')."""
    result = _paged_count(client, base, filter_text, page_size, progress)
    if result.result_code == 11 and result.pages == 1 and result.count == 0 and page_size > SAFE_PAGE:
        result = _paged_count(client, base, filter_text, SAFE_PAGE, progress)
    return result


def _paged_count(
    client: WireClient, base: str, filter_text: str, page_size: int, progress: Callable[[int], None] | None
) -> CountResult:
    cookie = b""
    count = refs = pages = 0
    expected = page_size  # entries in a full page; a server that caps pages silently (AD) sends fewer
    request = w.search_request(base, filter_text, ["1.1"])
    while True:
        client.send(request, [w.paged_control(page_size, cookie)])
        pages += 1
        page = client.read_page(expected)
        expected = max(1, len(page.entries) + page.references)
        count += len(page.entries)
        refs += page.references
        if progress is not None:
            progress(count)
        done = page.done
        cookie = w.paged_cookie(done.controls[w.PAGED_RESULTS_OID]) if w.PAGED_RESULTS_OID in done.controls else b""
        if done.code != 0 or not cookie:
            return CountResult(count, refs, pages, done.code, done.message, page_size)
