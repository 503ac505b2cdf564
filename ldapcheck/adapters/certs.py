"""Certificate facts without trusting the certificate: subject, issuer, SAN, validity, RFC 6125 name match."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import ssl
import tempfile
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class CertInfo:
    """What the server's certificate says (decoded without trusting it)."""

    subject: str = ""
    issuer: str = ""
    san: tuple[str, ...] = ()
    not_before: str = ""
    not_after: str = ""
    days_left: int | None = None


def hostname_matches(host: str, san: tuple[str, ...], subject: str) -> bool:
    """RFC 6125 matching of `host` against the SAN list (CN only when there is no SAN)."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    names = [s.split(":", 1)[1] for s in san if s.startswith("DNS:")]
    ips = [s.split(":", 1)[1] for s in san if s.startswith("IP:")]
    if ip is not None:
        return any(_same_ip(ip, value) for value in ips)
    if not san:
        names = [part[3:] for part in subject.split(", ") if part.startswith("CN=")]
    host = host.lower().rstrip(".")
    for name in names:
        name = name.lower().rstrip(".")
        if name == host:
            return True
        if name.startswith("*.") and "." in host and host.split(".", 1)[1] == name[2:]:
            return True
    return False


def _same_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, text: str) -> bool:
    try:
        return ipaddress.ip_address(text.strip()) == ip
    except ValueError:
        return False


def decode_certificate(der: bytes) -> CertInfo:
    """Subject, issuer, SAN and validity of a DER certificate (via the ssl module's own decoder)."""
    if not der:
        return CertInfo()
    pem = ssl.DER_cert_to_PEM_cert(der)
    fd, path = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(pem)
        decoded = ssl._ssl._test_decode_cert(path)  # type: ignore[attr-defined]
    except (ssl.SSLError, OSError, AttributeError):
        return CertInfo()
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
    not_after = str(decoded.get("notAfter", ""))
    days = None
    if not_after:
        days = int((ssl.cert_time_to_seconds(not_after) - time.time()) // 86400)
    return CertInfo(
        subject=_name(decoded.get("subject", ())),
        issuer=_name(decoded.get("issuer", ())),
        san=tuple(
            f"{'IP' if kind == 'IP Address' else kind}:{value}" for kind, value in decoded.get("subjectAltName", ())
        ),
        not_before=str(decoded.get("notBefore", "")),
        not_after=not_after,
        days_left=days,
    )


_SHORT = {"commonName": "CN", "organizationName": "O", "organizationalUnitName": "OU", "countryName": "C"}


def _name(rdns: tuple[tuple[tuple[str, str], ...], ...]) -> str:
    return ", ".join(f"{_SHORT.get(k, k)}={v}" for rdn in rdns for k, v in rdn)
