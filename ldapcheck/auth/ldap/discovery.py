"""Read a directory's root DSE from an LDAP_URL, for `env generate --discover`; failures are catalogue failures."""

from __future__ import annotations

from ldapcheck.adapters.ldap import rootdse
from ldapcheck.adapters.ldap.rootdse import RootDSE
from ldapcheck.auth.ldap.failures import classified
from ldapcheck.auth.ldap.settings import first_server


def read_root_dse(url: str, *, timeout: float = 5.0, ca_file: str | None = None, verify: bool = True) -> RootDSE:
    """The root DSE of the first URI of `url` (anonymous); ConfigError for a bad URL, CheckFailed on failure.

    Over ldaps:// the certificate is verified against `ca_file` (or the system store) unless `verify=False`, which
    discovery uses to learn *whether* the port speaks LDAPS at all.
    """
    server = first_server(url)
    with classified():
        return rootdse.read_root_dse(
            server.host, server.port, tls=server.tls, timeout=timeout, ca_file=ca_file, verify=verify
        )
