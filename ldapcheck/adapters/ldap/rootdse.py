"""Read a directory's root DSE (anonymous, one base-scope search) into a small frozen `RootDSE`.

Usage:

    dse = read_root_dse("127.0.0.1", 389, tls=False, timeout=5.0)
    dse.is_active_directory, dse.default_naming_context, dse.supports_starttls

With `tls` (ldaps://) the certificate is verified against `ca_file` (or the system store) unless `verify=False`,
which discovery uses to learn *whether* the port speaks LDAPS at all. Failures raise `NetError` (dns, refused,
timeout, proto-mismatch, tls-untrusted...) or `RootDseHidden`; ldap3 is imported only when called.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence

from ldapcheck.adapters.errors import AdapterError, Operation, hostport
from ldapcheck.adapters.ldap.ber import AD_CAPABILITY_OID, PAGED_RESULTS_OID, STARTTLS_OID
from ldapcheck.adapters.ldap.directory import ldap3_error
from ldapcheck.adapters.tls import ldap3_tls
from ldapcheck.core.record import record

__all__ = ["ATTRIBUTES", "STARTTLS_OID", "RootDSE", "RootDseHidden", "from_attributes", "read_root_dse"]

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


@record
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


class RootDseHidden(AdapterError):
    """The server answered the root DSE search without an entry (it hides it from anonymous clients)."""

    def __init__(self, where: str, description: str) -> None:
        super().__init__(f"{where} answered but returned no root DSE ({description})")
        self.where = where
        self.description = description


def read_root_dse(
    host: str, port: int, *, tls: bool, timeout: float = 5.0, ca_file: str | None = None, verify: bool = True
) -> RootDSE:
    """Connect, read the root DSE anonymously, and close."""
    import ldap3
    from ldap3.core.exceptions import LDAPException

    server = ldap3.Server(
        host,
        port=port,
        use_ssl=tls,
        tls=ldap3_tls(verify=verify, ca_file=ca_file or "") if tls else None,
        connect_timeout=timeout,
        get_info=ldap3.NONE,
    )
    # ldap3 packs receive_timeout into a C struct for SO_RCVTIMEO on TLS sockets: it must be an int.
    receive = max(1, math.ceil(timeout))
    conn = ldap3.Connection(server, receive_timeout=receive, raise_exceptions=False, read_only=True)
    where = f"{'ldaps' if tls else 'ldap'}://{hostport(host, port)}"
    try:
        conn.open()
        conn.search(
            "", "(objectClass=*)", search_scope=ldap3.BASE, attributes=list(ATTRIBUTES), time_limit=int(timeout)
        )
        entries = [e for e in conn.response or [] if e.get("type") == "searchResEntry"]
    except (LDAPException, OSError) as exc:  # ldap3 re-raises a single socket/ssl error as it came
        raise ldap3_error(exc, host, port, timeout, Operation.CONNECT) from None
    finally:
        with contextlib.suppress(Exception):  # closing a half-open socket must not hide the real error
            conn.unbind()
    if not entries:
        raise RootDseHidden(where, str((conn.result or {}).get("description", "no entry")))
    raw = entries[0].get("raw_attributes") or {}
    attrs = {k: [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in vs] for k, vs in raw.items()}
    return from_attributes(where, attrs)
