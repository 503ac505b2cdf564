"""Read a directory's root DSE (anonymous, one base-scope search) into a small frozen `RootDSE`.

Usage:

    dse = read_root_dse("ldap://127.0.0.1:389", timeout=5.0)
    dse.is_active_directory, dse.default_naming_context, dse.supports_starttls

`url` is one `ldap://` or `ldaps://` URI (the first of a space-separated LDAP_URL is used). Over
ldaps:// the certificate is verified against `ca_file` (or the system store) unless `verify=False`,
which discovery uses to learn *whether* the port speaks LDAPS at all. Failures raise
`CheckFailed` with a catalogue id (NET-DNS, NET-REFUSED, NET-TIMEOUT, NET-PROTO-MISMATCH,
TLS-SELF-SIGNED, LDAP-SERVER-DOWN) and a hint; ldap3 is imported only when called.
"""

from __future__ import annotations

import contextlib
import math
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from ldapcheck.core.errors import ConfigError
from ldapcheck.core.step import CheckFailed

STARTTLS_OID = "1.3.6.1.4.1.1466.20037"
PAGED_RESULTS_OID = "1.2.840.113556.1.4.319"
AD_CAPABILITY_OID = "1.2.840.113556.1.4.800"  # LDAP_CAP_ACTIVE_DIRECTORY_OID

ATTRIBUTES = (
    "namingContexts",
    "defaultNamingContext",
    "supportedExtension",
    "supportedControl",
    "supportedLDAPVersion",
    "supportedCapabilities",
    "supportedSASLMechanisms",
    "vendorName",
    "vendorVersion",
    "objectClass",
    "structuralObjectClass",
    "isGlobalCatalogReady",
    "dnsHostName",
)


@dataclass(frozen=True)
class RootDSE:
    """What a server says about itself before any bind."""

    url: str
    vendor_name: str | None
    vendor_version: str | None
    is_active_directory: bool
    is_openldap: bool
    naming_contexts: tuple[str, ...]
    default_naming_context: str | None
    supports_starttls: bool
    supports_paging: bool
    supported_ldap_versions: tuple[int, ...]
    supported_extensions: tuple[str, ...] = ()
    supported_controls: tuple[str, ...] = ()

    @property
    def flavor(self) -> str:
        """A short human name: "Active Directory", "OpenLDAP", the vendor name, or "unknown"."""
        if self.is_active_directory:
            return "Active Directory"
        if self.is_openldap:
            return "OpenLDAP"
        return " ".join(p for p in (self.vendor_name, self.vendor_version) if p) or "unknown"

    @property
    def proposed_base(self) -> str | None:
        """defaultNamingContext (AD), else the only naming context, else the first one."""
        if self.default_naming_context:
            return self.default_naming_context
        contexts = [c for c in self.naming_contexts if c.lower() not in ("cn=config", "cn=monitor")]
        return contexts[0] if contexts else None

    @property
    def proposed_filter(self) -> str:
        """The user filter for this kind of directory."""
        return "(sAMAccountName=%u)" if self.is_active_directory else "(uid=%u)"


def from_attributes(url: str, attrs: Mapping[str, Sequence[str]]) -> RootDSE:
    """Build a RootDSE from attribute name → values (names in any case); pure, for tests and reuse."""
    low = {k.lower(): [str(v) for v in vs] for k, vs in attrs.items()}

    def one(name: str) -> str | None:
        values = low.get(name.lower()) or []
        return values[0] if values else None

    object_classes = {v.lower() for v in low.get("objectclass", []) + low.get("structuralobjectclass", [])}
    capabilities = low.get("supportedcapabilities", [])
    extensions = tuple(low.get("supportedextension", []))
    controls = tuple(low.get("supportedcontrol", []))
    versions = tuple(sorted(int(v) for v in low.get("supportedldapversion", []) if v.strip().isdigit()))
    return RootDSE(
        url=url,
        vendor_name=one("vendorName"),
        vendor_version=one("vendorVersion"),
        is_active_directory=AD_CAPABILITY_OID in capabilities,
        is_openldap="openldaprootdse" in object_classes,
        naming_contexts=tuple(low.get("namingcontexts", [])),
        default_naming_context=one("defaultNamingContext"),
        supports_starttls=STARTTLS_OID in extensions,
        supports_paging=PAGED_RESULTS_OID in controls,
        supported_ldap_versions=versions,
        supported_extensions=extensions,
        supported_controls=controls,
    )


def split_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of the first URI in `url`; ConfigError if it is not ldap:// or ldaps://."""
    first = (url.split() or [""])[0]
    parts = urlsplit(first)
    scheme = parts.scheme.lower()
    if scheme not in ("ldap", "ldaps") or not parts.hostname:
        raise ConfigError(f"{first!r} is not an ldap:// or ldaps:// URL (e.g. ldaps://ldap.example.org:636)")
    try:
        port = parts.port or (636 if scheme == "ldaps" else 389)
    except ValueError:
        raise ConfigError(f"{first!r} has an invalid port") from None
    return scheme, parts.hostname, port


def read_root_dse(url: str, *, timeout: float = 5.0, ca_file: str | None = None, verify: bool = True) -> RootDSE:
    """Connect to the first URI of `url`, read the root DSE anonymously, and close."""
    import ldap3
    from ldap3.core.exceptions import LDAPException

    scheme, host, port = split_url(url)
    tls = None
    if scheme == "ldaps":
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED if verify else ssl.CERT_NONE, ca_certs_file=ca_file)
    server = ldap3.Server(
        host, port=port, use_ssl=scheme == "ldaps", tls=tls, connect_timeout=timeout, get_info=ldap3.NONE
    )
    # ldap3 packs receive_timeout into a C struct for SO_RCVTIMEO on TLS sockets: it must be an int.
    receive = max(1, math.ceil(timeout))
    conn = ldap3.Connection(server, receive_timeout=receive, raise_exceptions=False, read_only=True)
    where = f"{scheme}://{host}:{port}"
    try:
        conn.open()
        conn.search(
            "", "(objectClass=*)", search_scope=ldap3.BASE, attributes=list(ATTRIBUTES), time_limit=int(timeout)
        )
        entries = [e for e in conn.response or [] if e.get("type") == "searchResEntry"]
    except (LDAPException, OSError) as exc:  # ldap3 re-raises a single socket/ssl error as it came
        raise _error(exc, where, timeout) from None
    finally:
        with contextlib.suppress(Exception):  # closing a half-open socket must not hide the real error
            conn.unbind()
    if not entries:
        result = conn.result or {}
        raise CheckFailed(
            "LDAP-SERVER-DOWN",
            f"{where} answered but returned no root DSE ({result.get('description', 'no entry')})",
            hint="The server hides its root DSE from anonymous clients; pass --base and --filter yourself.",
        )
    raw = entries[0].get("raw_attributes") or {}
    attrs = {k: [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in vs] for k, vs in raw.items()}
    return from_attributes(where, attrs)


def _error(exc: Exception, where: str, timeout: float) -> CheckFailed:
    text = str(exc)
    low = text.lower()
    if "name or service not known" in low or "nodename nor servname" in low or "gaierror" in low:
        return CheckFailed("NET-DNS", f"the host of {where} does not resolve", hint="Check the host name in the URL.")
    if "refused" in low:
        return CheckFailed(
            "NET-REFUSED", f"{where} refused the connection", hint="Check the port and that the server runs."
        )
    if "certificate_verify_failed" in low:
        return CheckFailed(
            "TLS-SELF-SIGNED",
            f"the certificate of {where} is not trusted",
            hint="Pass the directory's CA with --ca-file.",
        )
    if "timed out" in low or "timeout" in low:
        return CheckFailed(
            "NET-TIMEOUT", f"{where} did not answer within {timeout:g} s", hint="Check firewalls and the port."
        )
    if "wrong version number" in low or "unexpected eof" in low or "socket receive error" in low or "ssl" in low:
        return CheckFailed(
            "NET-PROTO-MISMATCH",
            f"{where} does not speak this protocol ({type(exc).__name__})",
            hint="Use ldap:// for port 389 (with StartTLS) and ldaps:// for port 636.",
        )
    return CheckFailed("LDAP-SERVER-DOWN", f"LDAP connection to {where} failed: {text}", hint="Check the URL.")
