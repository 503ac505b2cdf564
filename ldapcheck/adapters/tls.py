"""The one place that decides how ldapcheck's own TLS connections verify (or do not verify) a certificate.

Host names are never checked by the context: the TLS step matches them itself (RFC 6125), so that chain and name
problems are reported separately. Unverified contexts connect like saslauthd with `TLS_REQCERT allow`, after the
TLS step has verified and reported the certificate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # ssl (~5 ms to import) only when a connection uses TLS: a plain-LDAP `count` is start-up bound
    import ssl


def client_context(*, verify: bool, ca_file: str = "") -> ssl.SSLContext:
    """An SSLContext for ldapcheck's raw-socket connections: verify against `ca_file` (or the system store), or not."""
    import ssl

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


def ldap3_tls(*, verify: bool, ca_file: str = "") -> Any:
    """The same policy as `client_context`, as an `ldap3.Tls` (ldap3 builds its own context from it)."""
    import ssl

    import ldap3

    # ldap3's own name check relies on ssl.match_hostname (deprecated since Python 3.7): never asked for.
    return ldap3.Tls(validate=ssl.CERT_REQUIRED if verify else ssl.CERT_NONE, ca_certs_file=ca_file or None)
