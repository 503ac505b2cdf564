"""Build docker-jitsi-meet's LDAP block (ENABLE_AUTH, AUTH_TYPE, LDAP_*) and propose it from a root DSE."""

from __future__ import annotations

from dataclasses import dataclass, field

from ldapcheck.adapters.errors import hostport
from ldapcheck.adapters.ldap.rootdse import RootDSE
from ldapcheck.auth.ldap.settings import first_server
from ldapcheck.core.record import replace
from ldapcheck.core.secrets import MASK, Secret

# Keys in the order the block is written (env.example's order).
BLOCK_KEYS = (
    "ENABLE_AUTH",
    "AUTH_TYPE",
    "LDAP_URL",
    "LDAP_BASE",
    "LDAP_BINDDN",
    "LDAP_BINDPW",
    "LDAP_FILTER",
    "LDAP_USE_TLS",
    "LDAP_TLS_CHECK_PEER",
    "LDAP_TLS_CACERT_FILE",
    "LDAP_START_TLS",
    "XMPP_DOMAIN",
)


@dataclass(frozen=True)
class LdapSettings:
    """Everything the LDAP block says; the password stays a `Secret` until it is written."""

    url: str
    base: str
    filter: str = "(uid=%u)"
    bind_dn: str = ""
    bind_password: Secret = field(default_factory=lambda: Secret(""))
    start_tls: bool = False
    use_tls: bool = False
    check_peer: bool = False
    cacert_file: str = ""
    xmpp_domain: str = ""


def block_values(s: LdapSettings) -> dict[str, str]:
    """Key → value for `.env`, in BLOCK_KEYS order (the real password: only for writing the file)."""
    values = {
        "ENABLE_AUTH": "1",
        "AUTH_TYPE": "ldap",
        "LDAP_URL": s.url,
        "LDAP_BASE": s.base,
        "LDAP_BINDDN": s.bind_dn,
        "LDAP_BINDPW": s.bind_password.reveal() if s.bind_dn else "",
        "LDAP_FILTER": s.filter,
        "LDAP_USE_TLS": "1" if s.use_tls else "0",
        "LDAP_TLS_CHECK_PEER": "1" if s.use_tls and s.check_peer else "0",
        "LDAP_START_TLS": "1" if s.start_tls else "0",
    }
    if s.use_tls and s.check_peer and s.cacert_file:
        values["LDAP_TLS_CACERT_FILE"] = s.cacert_file
    if s.xmpp_domain:
        values["XMPP_DOMAIN"] = s.xmpp_domain
    return {k: values[k] for k in BLOCK_KEYS if k in values}


def format_block(s: LdapSettings, *, written_to: str | None = None) -> str:
    """The block as `.env` text for display: the bind password is never printed (`written_to`: the .env that
    now holds it)."""
    from ldapcheck.jitsi.env.write import quote_value

    lines = ["# LDAP authentication (docker-jitsi-meet .env)"]
    for key, value in block_values(s).items():
        if key == "LDAP_BINDPW" and value:
            where = (
                f"it is written to {written_to}" if written_to else "use --write PATH, or add it single-quoted by hand"
            )
            lines.append(f"# LDAP_BINDPW is not printed ({MASK}); {where}")
            continue
        lines.append(f"{key}={quote_value(value)}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Discovery:
    """What --discover learned and proposes (printed for the operator, never containing a secret)."""

    dse: RootDSE
    ldaps_answers: bool
    ldaps_url: str
    notes: tuple[str, ...] = ()


def propose(
    s: LdapSettings,
    found: Discovery,
    *,
    base_given: bool,
    filter_given: bool,
    tls_given: bool,
) -> tuple[LdapSettings, list[str]]:
    """Settings completed from discovery; explicit options always win. Returns notes for stderr."""
    dse = found.dse
    notes = [f"directory: {dse.flavor}; naming contexts: {', '.join(dse.naming_contexts) or 'none'}"]
    out = s
    if not base_given and dse.proposed_base:
        out = replace(out, base=dse.proposed_base)
        if len(dse.naming_contexts) > 1 and not dse.default_naming_context:
            notes.append(f"several naming contexts; proposing {dse.proposed_base} (pass --base to choose)")
    if not filter_given:
        out = replace(out, filter=dse.proposed_filter)
    if not tls_given:
        if first_server(out.url).tls:
            out = replace(out, start_tls=False)
            notes.append("encryption: ldaps:// as given")
        elif found.ldaps_answers:
            out = replace(out, url=found.ldaps_url, start_tls=False)
            notes.append(f"encryption: LDAPS answers, using {found.ldaps_url}")
        elif dse.supports_starttls:
            out = replace(out, start_tls=True)
            notes.append("encryption: the server offers StartTLS (1.3.6.1.4.1.1466.20037): LDAP_START_TLS=1")
        else:
            notes.append("WARNING: neither LDAPS nor StartTLS is offered: the bind password would travel in clear text")
    if 3 not in dse.supported_ldap_versions and dse.supported_ldap_versions:
        notes.append(f"WARNING: the server lists LDAP versions {dse.supported_ldap_versions}; saslauthd uses 3")
    return out, notes + list(found.notes)


def ldaps_candidate(url: str, ldaps_port: int | None) -> str:
    """The ldaps:// URL on the same host (port 636 unless given)."""
    return f"ldaps://{hostport(first_server(url).host, ldaps_port or 636)}"
