"""Network probes below LDAP: DNS, TCP connect, TLS handshake (ldaps or StartTLS) and "does this port speak LDAP".

Every probe is bounded by `timeout`; failures are raised as `NetError` (kind, operation, host, port, the peer's
text): the LDAP layer turns them into catalogue failures.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import TYPE_CHECKING

from ldapcheck.adapters.errors import AdapterError, NetError, NetKind, Operation, os_error, resolver_name
from ldapcheck.adapters.ldap.client import WireClient
from ldapcheck.adapters.tls import client_context
from ldapcheck.core.record import field, record

if TYPE_CHECKING:  # ssl and the certificate decoder (~9 ms with tempfile) only when a server speaks TLS
    import ssl

    from ldapcheck.adapters.certs import CertInfo


def _addresses(host: str, port: int, timeout: float) -> list[str]:
    """getaddrinfo has no timeout: run it in a daemon thread (a pool would be joined at exit and block it)."""
    found: list[str] = []
    failed: list[OSError] = []
    done = threading.Event()

    def work() -> None:
        try:
            found.extend(
                str(info[4][0]) for info in socket.getaddrinfo(resolver_name(host), port, 0, socket.SOCK_STREAM)
            )
        except OSError as exc:
            failed.append(exc)
        done.set()

    threading.Thread(target=work, name="dns", daemon=True).start()
    if not done.wait(timeout):
        raise TimeoutError
    if failed:
        raise failed[0]
    return sorted(set(found))


def resolve(host: str, port: int, timeout: float) -> list[str]:
    """The addresses `host` resolves to, within `timeout`."""
    try:
        return _addresses(host, port, timeout)
    except OSError as exc:
        raise os_error(exc, operation=Operation.DNS, host=host, port=port, timeout=timeout) from None


def tcp_connect(host: str, port: int, timeout: float) -> float:
    """Open and close a TCP connection; returns the connect time in ms."""
    start = time.perf_counter()
    try:
        with socket.create_connection((resolver_name(host), port), timeout=timeout):  # type: ignore[arg-type]
            pass
    except OSError as exc:
        raise os_error(exc, operation=Operation.CONNECT, host=host, port=port, timeout=timeout) from None
    return (time.perf_counter() - start) * 1000


@record
class TlsProbe:
    """The result of a TLS handshake and of verifying the certificate like a careful client."""

    protocol: str
    cipher: str
    cert: CertInfo
    verified_against: str  # "system store" or the CA file path
    verify_code: int | None = None  # OpenSSL X509 verify code when the chain is rejected
    verify_message: str = ""
    hostname_ok: bool = True
    detail: dict[str, object] = field(default_factory=dict)

    @property
    def chain_ok(self) -> bool:
        """The chain verified against the trust anchors used."""
        return self.verify_code is None


def _handshake(host: str, port: int, timeout: float, ctx: ssl.SSLContext, starttls: bool) -> ssl.SSLSocket:
    """TCP, then TLS (from the first byte, or after StartTLS); NetError or LdapProtocolError on failure."""
    if starttls:
        client = WireClient.connect(host, port, timeout=timeout)
        try:
            client.start_tls(ctx, host)
        except BaseException:
            client.sock.close()
            raise
        import ssl

        assert isinstance(client.sock, ssl.SSLSocket)
        return client.sock
    return WireClient.connect(host, port, timeout=timeout, tls=ctx).sock  # type: ignore[return-value]


def tls_probe(host: str, port: int, *, timeout: float, ca_file: str = "", starttls: bool = False) -> TlsProbe:
    """Handshake once without verification (to see the certificate), then verify chain and name.

    A handshake that fails although the port answers TCP is a protocol mismatch when the port speaks the other
    protocol (plain LDAP on an ldaps:// port, TLS from the first byte where StartTLS was sent).
    """
    from ldapcheck.adapters.certs import decode_certificate, hostname_matches

    operation = Operation.STARTTLS if starttls else Operation.TLS
    try:
        with _handshake(host, port, timeout, client_context(verify=False), starttls) as tls:
            der = tls.getpeercert(binary_form=True) or b""
            protocol = tls.version() or "?"
            cipher = (tls.cipher() or ("?",))[0]
    except NetError as exc:
        if exc.operation is Operation.CONNECT or exc.kind in (NetKind.TIMEOUT, NetKind.STARTTLS_REFUSED):
            raise _as(exc, operation) from None
        raise _mismatch_or(exc, host, port, timeout, starttls) from None
    except AdapterError as exc:  # StartTLS answered with bytes that are not LDAP
        raise _mismatch_or(exc, host, port, timeout, starttls) from None
    cert = decode_certificate(der)
    code: int | None = None
    message = ""
    try:
        with _handshake(host, port, timeout, client_context(verify=True, ca_file=ca_file), starttls):
            pass
    except NetError as exc:
        code, message = (exc.verify_code, exc.text) if exc.verify_code is not None else (-1, str(exc))
    except AdapterError as exc:
        code, message = -1, str(exc)
    return TlsProbe(
        protocol=protocol,
        cipher=cipher,
        cert=cert,
        verified_against=ca_file or "system store",
        verify_code=code,
        verify_message=message,
        hostname_ok=hostname_matches(host, cert.san, cert.subject),
    )


def _as(exc: NetError, operation: Operation) -> NetError:
    if exc.operation is Operation.CONNECT:
        return exc
    exc.operation = operation
    return exc


def _mismatch_or(exc: AdapterError, host: str, port: int, timeout: float, starttls: bool) -> NetError:
    """The port speaks the other protocol (PROTO_MISMATCH), or the handshake itself failed."""
    operation = Operation.STARTTLS if starttls else Operation.TLS
    closed_or_garbage = not isinstance(exc, NetError) or exc.kind is NetKind.CLOSED
    if (not starttls and speaks_plain_ldap(host, port, timeout)) or (
        starttls and closed_or_garbage and speaks_tls(host, port, timeout)
    ):
        kind = NetKind.PROTO_MISMATCH
    elif isinstance(exc, NetError) and exc.kind is not NetKind.CLOSED:
        return _as(exc, operation)
    else:
        kind = NetKind.TLS_HANDSHAKE
    return NetError(kind, str(exc), operation=operation, host=host, port=port, timeout=timeout)


def speaks_plain_ldap(host: str, port: int, timeout: float) -> bool:
    """Send an anonymous bind in the clear: an LDAP BindResponse back means the port speaks plain LDAP."""
    try:
        with WireClient.connect(host, port, timeout=timeout) as client:
            client.simple_bind("", "")
        return True
    except AdapterError:
        return False


def speaks_tls(host: str, port: int, timeout: float) -> bool:
    """Whether a TLS handshake (unverified) completes on this port."""
    try:
        with _handshake(host, port, timeout, client_context(verify=False), starttls=False):
            return True
    except AdapterError:
        return False


def probe_plain(host: str, port: int, timeout: float) -> str:
    """Check that a plain ldap:// port answers LDAP; returns a one-line description."""
    try:
        with WireClient.connect(host, port, timeout=timeout) as client:
            result = client.simple_bind("", "")
        return f"answers LDAP in the clear (anonymous bind probe: result {result.code})"
    except NetError as exc:
        if exc.operation is Operation.CONNECT:
            raise
        if exc.kind is NetKind.TIMEOUT:
            raise _as(exc, Operation.PROBE) from None
        raise _not_ldap(exc, host, port, timeout) from None
    except AdapterError as exc:
        raise _not_ldap(exc, host, port, timeout) from None


def _not_ldap(exc: AdapterError, host: str, port: int, timeout: float) -> NetError:
    kind = NetKind.PROTO_MISMATCH if speaks_tls(host, port, timeout) else NetKind.NOT_LDAP
    return NetError(kind, str(exc), operation=Operation.PROBE, host=host, port=port, timeout=timeout)
