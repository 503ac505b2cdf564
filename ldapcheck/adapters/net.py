"""Network probes below LDAP: DNS, TCP connect, TLS handshake (ldaps or StartTLS) and "does this port speak LDAP".

Every probe is bounded by `timeout`; failures are raised as CheckFailed with a catalogue id and the fix.
"""

from __future__ import annotations

import errno
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field

from ldapcheck.adapters.certs import CertInfo, decode_certificate, hostname_matches
from ldapcheck.adapters.ldap import ber as w
from ldapcheck.adapters.ldap.client import WireClient, WireError
from ldapcheck.core.step import CheckFailed


def _addresses(host: str, port: int, timeout: float) -> list[str]:
    """getaddrinfo has no timeout: run it in a daemon thread (a pool would be joined at exit and block it)."""
    found: list[str] = []
    failed: list[OSError] = []
    done = threading.Event()

    def work() -> None:
        try:
            found.extend(str(info[4][0]) for info in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM))
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
        addresses = _addresses(host, port, timeout)
    except TimeoutError:
        raise CheckFailed(
            "NET-DNS",
            f"resolving {host} took longer than {timeout:g} s",
            hint="The resolver does not answer; check /etc/resolv.conf here and the DNS of the prosody container.",
        ) from None
    except socket.gaierror as exc:
        raise CheckFailed(
            "NET-DNS",
            f"{host} does not resolve ({exc.strerror})",
            hint=f"Use a name that resolves for the prosody container (getent hosts {host}), or add extra_hosts.",
        ) from None
    return addresses


def tcp_connect(host: str, port: int, timeout: float) -> float:
    """Open and close a TCP connection; returns the connect time in ms."""
    start = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise _connect_error(host, port, timeout, exc) from None
    return (time.perf_counter() - start) * 1000


def _connect_error(host: str, port: int, timeout: float, exc: OSError) -> CheckFailed:
    if isinstance(exc, TimeoutError | socket.timeout):
        return CheckFailed(
            "NET-TIMEOUT",
            f"no answer from {host}:{port} within {timeout:g} s",
            hint=f"Packets are dropped: check the firewall between the prosody container and {host}:{port}.",
        )
    if exc.errno == errno.ECONNREFUSED:
        return CheckFailed(
            "NET-REFUSED",
            f"{host}:{port} refused the connection (nothing listens there)",
            hint=f"Port {port} refused. LDAP is usually 389 (ldap://, StartTLS) or 636 (ldaps://); "
            "AD Global Catalog is 3268/3269. Is the server running?",
        )
    return CheckFailed(
        "LDAP-SERVER-DOWN",
        f"cannot connect to {host}:{port}: {exc.strerror or exc}",
        hint="Check the host name, the port and the route to the server.",
    )


@dataclass(frozen=True)
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


def _context(verify: bool, ca_file: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False  # ldapcheck matches names itself, to report chain and name separately
    if verify:
        ctx.verify_mode = ssl.CERT_REQUIRED
        if ca_file:
            ctx.load_verify_locations(cafile=ca_file)
        else:
            ctx.load_default_certs()
    else:
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def client_context(verify: bool, ca_file: str) -> ssl.SSLContext:
    """The context ldapcheck's own LDAP connections use (hostname matched separately by the TLS step)."""
    return _context(verify, ca_file)


def _handshake(host: str, port: int, timeout: float, ctx: ssl.SSLContext, starttls: bool) -> ssl.SSLSocket:
    raw = socket.create_connection((host, port), timeout=timeout)
    try:
        if starttls:
            client = WireClient(raw, timeout)
            result = client.start_tls(ctx, host)
            if result.code != 0:
                raise _starttls_refused(host, port, result)
            assert isinstance(client.sock, ssl.SSLSocket)
            return client.sock
        raw.settimeout(timeout)
        return ctx.wrap_socket(raw, server_hostname=host)
    except BaseException:
        raw.close()
        raise


def _starttls_refused(host: str, port: int, result: w.LdapResult) -> CheckFailed:
    return CheckFailed(
        "TLS-STARTTLS-UNSUPPORTED",
        f"{host}:{port} refused StartTLS: result {result.code} ({result.message or 'no message'})",
        hint="The server has no TLS configured. Configure TLS on the server, or use ldaps:// if port 636 works "
        "(then unset LDAP_START_TLS).",
        detail={"result_code": result.code, "diagnostic_message": result.message},
    )


def tls_probe(host: str, port: int, *, timeout: float, ca_file: str = "", starttls: bool = False) -> TlsProbe:
    """Handshake once without verification (to see the certificate), then verify chain and name."""
    try:
        with _handshake(host, port, timeout, _context(False, ca_file), starttls) as tls:
            der = tls.getpeercert(binary_form=True) or b""
            protocol = tls.version() or "?"
            cipher = (tls.cipher() or ("?",))[0]
    except CheckFailed:
        raise
    except TimeoutError:
        raise CheckFailed(
            "NET-TIMEOUT",
            f"{host}:{port} accepted TCP but did not complete {'StartTLS' if starttls else 'a TLS handshake'} "
            f"within {timeout:g} s",
            hint="The server hangs or this port does not speak TLS. Check the port and the server's health.",
        ) from None
    except (ssl.SSLError, WireError, ConnectionError) as exc:
        raise _handshake_error(host, port, timeout, exc, starttls) from None
    except OSError as exc:
        raise _connect_error(host, port, timeout, exc) from None
    cert = decode_certificate(der)
    verified_against = ca_file or "system store"
    code: int | None = None
    message = ""
    try:
        with _handshake(host, port, timeout, _context(True, ca_file), starttls):
            pass
    except ssl.SSLCertVerificationError as exc:
        code, message = exc.verify_code, exc.verify_message
    except (ssl.SSLError, OSError, WireError) as exc:
        code, message = -1, str(exc)
    return TlsProbe(
        protocol=protocol,
        cipher=cipher,
        cert=cert,
        verified_against=verified_against,
        verify_code=code,
        verify_message=message,
        hostname_ok=hostname_matches(host, cert.san, cert.subject),
    )


def _handshake_error(host: str, port: int, timeout: float, exc: Exception, starttls: bool) -> CheckFailed:
    text = str(exc)
    if not starttls and speaks_plain_ldap(host, port, timeout):
        return CheckFailed(
            "NET-PROTO-MISMATCH",
            f"{host}:{port} speaks plain LDAP, not TLS ({_short(text)})",
            hint=f"Port {port} speaks plain LDAP. Use ldap://{host}:{port}/ (with LDAP_START_TLS=1 for encryption) "
            "or ldaps:// on the TLS port (usually 636).",
        )
    if starttls and isinstance(exc, WireError) and speaks_tls(host, port, timeout):
        return CheckFailed(
            "NET-PROTO-MISMATCH",
            f"{host}:{port} expects TLS from the first byte, so StartTLS cannot be sent ({_short(text)})",
            hint=f"Port {port} is an ldaps:// port. Use ldaps://{host}:{port}/ without LDAP_START_TLS, "
            "or ldap:// on the plain port (usually 389) with LDAP_START_TLS=1.",
        )
    return CheckFailed(
        "TLS-HANDSHAKE",
        f"TLS handshake with {host}:{port} failed: {_short(text)}",
        hint="The server and ldapcheck share no protocol/cipher, or the port is not an LDAP TLS port.",
    )


def _short(text: str) -> str:
    return text if len(text) < 160 else text[:157] + "..."


def speaks_plain_ldap(host: str, port: int, timeout: float) -> bool:
    """Send an anonymous bind in the clear: an LDAP BindResponse back means the port speaks plain LDAP."""
    try:
        with WireClient.connect(host, port, timeout=timeout) as client:
            client.simple_bind("", "")
        return True
    except (OSError, WireError, w.BerError):
        return False


def speaks_tls(host: str, port: int, timeout: float) -> bool:
    """Whether a TLS handshake (unverified) completes on this port."""
    try:
        with _handshake(host, port, timeout, _context(False, ""), starttls=False):
            return True
    except (OSError, ssl.SSLError, WireError):
        return False


def probe_plain(host: str, port: int, timeout: float) -> str:
    """Check that a plain ldap:// port answers LDAP; returns a one-line description."""
    try:
        with WireClient.connect(host, port, timeout=timeout) as client:
            result = client.simple_bind("", "")
        return f"answers LDAP in the clear (anonymous bind probe: result {result.code})"
    except TimeoutError:
        raise CheckFailed(
            "NET-TIMEOUT",
            f"{host}:{port} accepted TCP but sent no LDAP answer within {timeout:g} s",
            hint="The server hangs (saslauthd would wait 2 x 5 s and answer NO). Check the server's health and load.",
        ) from None
    except (WireError, w.BerError, ConnectionError) as exc:
        if speaks_tls(host, port, timeout):
            raise CheckFailed(
                "NET-PROTO-MISMATCH",
                f"{host}:{port} speaks TLS, not plain LDAP",
                hint=f"Port {port} expects TLS from the first byte. Use ldaps://{host}:{port}/ "
                "or ldap:// on the plain port (usually 389).",
            ) from None
        raise CheckFailed(
            "LDAP-SERVER-DOWN",
            f"{host}:{port} is not an LDAP server ({exc})",
            hint="Something else listens on this port. Check LDAP_URL's port.",
        ) from None
    except OSError as exc:
        raise _connect_error(host, port, timeout, exc) from None
