"""The LDAP settings saslauthd would use, from a docker-jitsi-meet `.env` mapping or from command-line options."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from ldapcheck.adapters.errors import hostport
from ldapcheck.auth.ldap.render import to_bool
from ldapcheck.core.errors import ConfigError
from ldapcheck.core.record import field, record, replace
from ldapcheck.core.secrets import Secret

DEFAULT_FILTER = "uid=%u"
DEFAULT_XMPP_DOMAIN = "meet.jitsi"
DEFAULT_TIMEOUT = 5.0
# The CA bundle saslauthd uses when LDAP_USE_TLS=1 and LDAP_TLS_CHECK_PEER=1 leave LDAP_TLS_CACERT_FILE unset.
CONTAINER_DEFAULT_CA = "/etc/ssl/certs/ca-certificates.crt"

_DEFAULT_PORTS = {"ldap": 389, "ldaps": 636}
# The .env keys that decide whether Jitsi asks saslauthd at all (and whether LDAP_USE_TLS misleads): kept as the
# file sets them, for the settings step (lint/gate.py login_gates).
GATE_KEYS = ("ENABLE_AUTH", "AUTH_TYPE", "PROSODY_AUTH_TYPE", "LDAP_USE_TLS", "LDAP_START_TLS", "LDAP_URL")


@record
class ServerUrl:
    """One URI of LDAP_URL (saslauthd's `ldap_servers` is a space-separated list)."""

    raw: str
    scheme: str
    host: str
    port: int

    @property
    def tls(self) -> bool:
        """TLS from the first byte (ldaps://)."""
        return self.scheme == "ldaps"

    @property
    def hostport(self) -> str:
        """`host:port`, bracketed for IPv6."""
        return hostport(self.host, self.port)

    @property
    def url(self) -> str:
        """The URI without a trailing slash (ldap3 rejects `ldap://h:389/`)."""
        return f"{self.scheme}://{self.hostport}"


def parse_server_url(raw: str) -> ServerUrl:
    """Parse one LDAP URI as libldap would; raise ConfigError saying what is wrong."""
    text = raw.strip()
    if text[:1] in "\"'" or text[-1:] in "\"'":
        raise ConfigError(f"LDAP_URL entry {raw!r} contains quotes; saslauthd takes values verbatim, remove them")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme == "ldapi":
        raise ConfigError(f"LDAP_URL entry {raw!r}: ldapi:// (a local socket) cannot be checked from here")
    if scheme not in _DEFAULT_PORTS:
        raise ConfigError(f"LDAP_URL entry {raw!r} must start with ldap:// or ldaps:// (e.g. ldaps://ldap.example.org)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(
            f"LDAP_URL entry {raw!r} has a path or query; saslauthd needs only scheme://host[:port]/ "
            "(put the base DN in LDAP_BASE)"
        )
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:
        raise ConfigError(f"LDAP_URL entry {raw!r}: the port is not a number between 1 and 65535") from None
    host = unquote(parts.hostname or "")
    if not host:
        raise ConfigError(f"LDAP_URL entry {raw!r} has no host name (e.g. ldap://ldap.example.org:389/)")
    return ServerUrl(raw=text, scheme=scheme, host=host, port=port)


def first_server(value: str) -> ServerUrl:
    """The first URI of a space-separated LDAP_URL (the one saslauthd tries first)."""
    return parse_servers(value)[0]


def parse_servers(value: str) -> tuple[ServerUrl, ...]:
    """All URIs of a space-separated LDAP_URL."""
    items = value.split()
    if not items:
        raise ConfigError("LDAP_URL is empty: set it to the directory's URI, e.g. LDAP_URL=ldaps://ldap.example.org/")
    return tuple(parse_server_url(item) for item in items)


_UPN = re.compile(r"^[^@\s=,]+@[^@\s=,]+$")
_DOWNLEVEL = re.compile(r"^[^\\\s=,]+\\[^\\\s=,]+$")


def dn_problem(name: str, value: str, *, allow_ad_forms: bool = False) -> str | None:
    """Why `value` is not an RFC 4514 DN (AD bind names may be UPN or DOMAIN\\user); None when it is one."""
    if not value:
        return None
    if value[:1] in "\"'" or value[-1:] in "\"'":
        return f"{name} {value!r} contains quotes; saslauthd passes them to the server verbatim, remove them"
    if allow_ad_forms and (_UPN.match(value) or _DOWNLEVEL.match(value)):
        return None
    if not is_dn(value):
        extra = " (Active Directory also accepts user@domain or DOMAIN\\user)" if allow_ad_forms else ""
        return (
            f"{name} {value!r} is not a valid DN: write it as attribute=value pairs separated by commas, "
            f"e.g. cn=saslauthd,ou=services,dc=example,dc=org{extra}"
        )
    return None


_ATTR_TYPE = re.compile(r"^\s*(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)+)\s*=")
_VALUE = re.compile(r'^(?:#[0-9A-Fa-f]+|(?:[^\\"+,;<>\x00]|\\[ "#+,;<=>\\]|\\[0-9A-Fa-f]{2})*)$')


def is_dn(value: str) -> bool:
    """RFC 4514 syntax (without ldap3, whose import costs 12 MB): `type=value` pairs joined by ',' or '+'."""
    rdns = re.split(r"(?<!\\)[,+]", value)
    for rdn in rdns:
        match = _ATTR_TYPE.match(rdn)
        if match is None or not _VALUE.match(rdn[match.end() :].strip()):
            return False
    return True


@record(kw_only=True)
class Settings:
    """What saslauthd's `-a ldap` would be configured with, plus how ldapcheck reaches the directory."""

    servers: tuple[ServerUrl, ...]
    base: str = ""
    bind_dn: str = ""
    bind_password: Secret | None = field(default=None, repr=False)
    filter: str = DEFAULT_FILTER
    start_tls: bool = False
    use_tls: bool = False
    tls_check_peer_requested: bool = False
    cacert_file: str = ""  # as written in .env (a path inside the prosody container)
    ca_file: str = ""  # a host path ldapcheck verifies with (--ca-file, or cacert_file if it exists here)
    xmpp_domain: str = DEFAULT_XMPP_DOMAIN
    timeout: float = DEFAULT_TIMEOUT
    source: str = "options"
    # The .env's keys in front of saslauthd (ENABLE_AUTH, AUTH_TYPE, ...: lint.gate.GATE_KEYS), as the file sets them.
    gates: Mapping[str, str] = field(default_factory=dict)
    # LDAP_BINDPW is in the .env at all: unset, the template writes the literal `<no value>` as the password;
    # empty, saslauthd rejects its whole config.
    bind_password_written: bool = True
    # LDAP_BASE / LDAP_BINDDN values that are not DNs (saslauthd would send them anyway): see `dn_problem`.
    dn_problems: tuple[str, ...] = ()

    @property
    def anonymous(self) -> bool:
        """No LDAP_BINDDN: saslauthd binds anonymously (and ignores LDAP_BINDPW)."""
        return not self.bind_dn

    @property
    def saslauthd_verifies_peer(self) -> bool:
        """`ldap_tls_check_peer: yes` is only rendered inside the LDAP_USE_TLS block; otherwise the image's
        /etc/ldap/ldap.conf `TLS_REQCERT allow` accepts any certificate."""
        return self.use_tls and self.tls_check_peer_requested

    @property
    def saslauthd_cacert(self) -> str:
        """The CA file saslauthd is configured with (rendered only when it verifies the peer)."""
        if not self.saslauthd_verifies_peer:
            return ""
        return self.cacert_file or CONTAINER_DEFAULT_CA

    def secrets(self) -> frozenset[str]:
        """Secret values to mask in every report."""
        return frozenset({self.bind_password.reveal()} if self.bind_password else set())

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some fields replaced (validated again)."""
        return _validated(replace(self, **changes))


def _validated(settings: Settings) -> Settings:
    # A DN saslauthd would send as it is: a finding of the settings step (CL-DN-SYNTAX), not a usage error.
    problems = [
        p
        for p in (
            dn_problem("LDAP_BASE", settings.base),
            dn_problem("LDAP_BINDDN", settings.bind_dn, allow_ad_forms=True),
        )
        if p is not None
    ]
    settings = replace(settings, dn_problems=tuple(problems))
    if settings.timeout <= 0:
        raise ConfigError("--timeout must be a positive number of seconds")
    if not settings.filter.strip():
        raise ConfigError("LDAP_FILTER is empty: leave it unset for the default uid=%u or write a filter")
    return settings


def saslauthd_value(key: str, value: str) -> str:
    """A value as saslauthd reads it back from saslauthd.conf: lak_config_read skips the spaces and tabs after
    `key:`, so a leading one never reaches the server (trailing ones do). Keys not written there are unchanged."""
    return value.lstrip(" \t") if key.startswith("LDAP_") else value


def from_env(env: Mapping[str, str], *, source: str = ".env", ca_file: str = "") -> Settings:
    """Settings from a docker-jitsi-meet environment, with the template's defaults and boolean rules."""
    import os

    def get(key: str) -> str:
        return saslauthd_value(key, env.get(key, "") or "")

    password = saslauthd_value("LDAP_BINDPW", env.get("LDAP_BINDPW") or "") or None
    cacert = get("LDAP_TLS_CACERT_FILE")
    if not ca_file and cacert and os.path.isfile(cacert):
        ca_file = cacert
    return _validated(
        Settings(
            servers=parse_servers(get("LDAP_URL")),
            base=get("LDAP_BASE"),
            bind_dn=get("LDAP_BINDDN"),
            bind_password=Secret(password) if password else None,
            filter=get("LDAP_FILTER") or DEFAULT_FILTER,
            start_tls=to_bool(get("LDAP_START_TLS")),
            use_tls=to_bool(get("LDAP_USE_TLS")),
            tls_check_peer_requested=to_bool(get("LDAP_TLS_CHECK_PEER")),
            cacert_file=cacert,
            ca_file=ca_file,
            xmpp_domain=get("XMPP_DOMAIN") or DEFAULT_XMPP_DOMAIN,
            source=source,
            gates={k: env[k] for k in GATE_KEYS if k in env},
            bind_password_written="LDAP_BINDPW" in env,
        )
    )


def read_env_file(path: str) -> dict[str, str]:
    """Read a docker-jitsi-meet `.env` with Compose's rules (`ldapcheck.envfile`); the shell environment is
    not consulted, so the file alone decides (as for a `docker compose up` from a clean shell)."""
    from ldapcheck.jitsi.env.parse import read_env_file as read

    return read(path, environ={}).values()
