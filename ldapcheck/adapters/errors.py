"""What the adapters raise: facts about what failed (kind, host, port, the peer's text), never a diagnosis.

The LDAP layer (`ldapcheck.auth.ldap.failures`) turns these into catalogue failures with their fixes; an
adapter names no failure id, no `.env` key and no ldapcheck option.
"""

from __future__ import annotations

import enum
import errno
import socket
import sys
from typing import Any


class AdapterError(Exception):
    """Base of every error an adapter raises on purpose."""


class NetKind(enum.StrEnum):
    """How a network operation failed."""

    DNS = "dns"  # the name does not resolve
    REFUSED = "refused"  # nothing listens on the port
    TIMEOUT = "timeout"  # no answer within the timeout
    UNREACHABLE = "unreachable"  # no route, or another connect error
    PROTO_MISMATCH = "proto-mismatch"  # plain LDAP spoken to a TLS port, or TLS to a plain port
    NOT_LDAP = "not-ldap"  # something answers, but not in LDAP
    CLOSED = "closed"  # the peer closed the connection mid-exchange
    TLS_UNTRUSTED = "tls-untrusted"  # the chain does not verify against the trust anchors
    TLS_SELF_SIGNED = "tls-self-signed"
    TLS_EXPIRED = "tls-expired"
    TLS_HOSTNAME = "tls-hostname"
    TLS_CHAIN = "tls-chain"
    TLS_HANDSHAKE = "tls-handshake"  # no common protocol/cipher, or the handshake broke off
    STARTTLS_REFUSED = "starttls-refused"  # the server answered the StartTLS request with an error

    @property
    def is_tls(self) -> bool:
        """A certificate or handshake problem (StartTLS refusals included)."""
        return self.value.startswith(("tls-", "starttls-"))


class Operation(enum.StrEnum):
    """What was being done when a network error happened."""

    DNS = "dns"  # resolving the host name
    CONNECT = "connect"  # the TCP connect
    TLS = "tls"  # the TLS handshake of ldaps://
    STARTTLS = "starttls"  # the StartTLS exchange and its handshake
    PROBE = "probe"  # the first LDAP exchange on a fresh connection (does this port speak LDAP?)
    LDAP = "ldap"  # an LDAP exchange on an open connection (bind, search, page)


class NetError(AdapterError):
    """A network operation failed; `str()` is the peer's or the OS's own text."""

    def __init__(
        self,
        kind: NetKind,
        text: str = "",
        *,
        operation: Operation = Operation.LDAP,
        host: str = "",
        port: int = 0,
        timeout: float | None = None,
        errno: int | None = None,
        result_code: int | None = None,
        result_name: str = "",
        verify_code: int | None = None,
    ) -> None:
        super().__init__(text or kind.value)
        self.kind = kind
        self.text = text
        self.operation = operation
        self.host = host
        self.port = port
        self.timeout = timeout
        self.errno = errno
        self.result_code = result_code  # the LDAP result of a refused StartTLS
        self.result_name = result_name
        self.verify_code = verify_code  # OpenSSL's X509 verify code of a rejected certificate

    @property
    def hostport(self) -> str:
        """`host:port`, bracketed for IPv6."""
        return hostport(self.host, self.port)


class LdapProtocolError(AdapterError, ValueError):
    """Bytes that are not the LDAP/BER expected: a non-LDAP peer, a truncated PDU, or an out-of-order response."""


class FilterError(LdapProtocolError):
    """A search filter that is not RFC 4515 (it cannot be encoded, so it is never sent)."""


class DnSyntaxError(AdapterError, ValueError):
    """A DN the client library refuses to send (not RFC 4514 syntax); nothing reached the server."""


class PasswordPrepError(AdapterError, ValueError):
    """A password the client library cannot prepare (SASLprep, RFC 4013: e.g. control characters); never sent."""


def hostport(host: str, port: int) -> str:
    """`host:port`, the host in brackets when it is an IPv6 address."""
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}"


# OpenSSL X509_V_ERR_* codes of a rejected certificate → what is wrong with it.
VERIFY_KINDS = {
    9: NetKind.TLS_EXPIRED,  # not yet valid
    10: NetKind.TLS_EXPIRED,
    18: NetKind.TLS_SELF_SIGNED,
    19: NetKind.TLS_SELF_SIGNED,
    20: NetKind.TLS_UNTRUSTED,  # unable to get the local issuer certificate
    21: NetKind.TLS_CHAIN,
    62: NetKind.TLS_HOSTNAME,
    64: NetKind.TLS_HOSTNAME,
}


def resolver_name(host: str) -> str | bytes:
    """`host` as socket calls should get it: an ASCII name as bytes.

    getaddrinfo encodes a str name with the idna codec first, whose import is ~3 ms of every start-up (and whose
    refusal of an empty or over-long label is a UnicodeError, not an OSError); bytes go to the resolver as they
    are. Non-ASCII names still need idna.
    """
    return host.encode("ascii") if host.isascii() else host


def os_error(
    exc: OSError, *, operation: Operation, host: str = "", port: int = 0, timeout: float | None = None
) -> NetError:
    """An OSError of a socket call (DNS, connect, handshake, send, receive) as a NetError of the right kind."""
    if isinstance(exc, NetError):
        return exc
    where: dict[str, Any] = {"operation": operation, "host": host, "port": port, "timeout": timeout}
    # An SSL error comes only from a socket the ssl module wrapped: if it was never imported (a plain-LDAP run
    # skips it, ~5 ms of start-up), `exc` is not one.
    ssl = sys.modules.get("ssl")
    if ssl is not None and isinstance(exc, ssl.SSLCertVerificationError):
        kind = VERIFY_KINDS.get(exc.verify_code, NetKind.TLS_UNTRUSTED)
        return NetError(kind, str(exc.verify_message or exc), verify_code=exc.verify_code, **where)
    if ssl is not None and isinstance(exc, ssl.SSLError):
        return NetError(NetKind.TLS_HANDSHAKE, str(exc), **where)
    if isinstance(exc, TimeoutError | socket.timeout):
        return NetError(NetKind.TIMEOUT, str(exc), errno=exc.errno, **where)
    if isinstance(exc, socket.gaierror):
        return NetError(NetKind.DNS, exc.strerror or str(exc), errno=exc.errno, **where)
    if exc.errno == errno.ECONNREFUSED:
        return NetError(NetKind.REFUSED, exc.strerror or str(exc), errno=exc.errno, **where)
    if operation is Operation.CONNECT:
        return NetError(NetKind.UNREACHABLE, exc.strerror or str(exc), errno=exc.errno, **where)
    return NetError(NetKind.CLOSED, str(exc), errno=exc.errno, **where)
