"""The one place where a failed connection becomes a diagnosis: adapter errors → CheckFailed (catalogue id, fix).

Adapters report what failed (`NetError`: kind, operation, host, port, the peer's text); this module knows which
catalogue id that is for an LDAP login through saslauthd, and what to change (`.env` keys, ldapcheck options).
OSError, TimeoutError and ssl errors that escape an adapter are classified the same way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TypeVar

from ldapcheck.adapters.errors import (
    AdapterError,
    DnSyntaxError,
    FilterError,
    LdapProtocolError,
    NetError,
    NetKind,
    Operation,
    PasswordPrepError,
    os_error,
)
from ldapcheck.adapters.ldap.rootdse import RootDseHidden
from ldapcheck.core import catalogue as ids
from ldapcheck.core.facts import NET
from ldapcheck.core.record import replace
from ldapcheck.core.step import CheckFailed, HasValues, Outcome, Step

C = TypeVar("C", bound=HasValues)


# The shared NET fact (ldapcheck.core.facts.NET_KINDS) of each kind: certificate and handshake kinds are "tls".
_FACTS = {
    NetKind.DNS: "dns",
    NetKind.REFUSED: "refused",
    NetKind.TIMEOUT: "timeout",
    NetKind.UNREACHABLE: "unreachable",
    NetKind.PROTO_MISMATCH: "proto-mismatch",
    NetKind.NOT_LDAP: "proto-mismatch",
    NetKind.CLOSED: "closed",
}

# The catalogue id of each certificate problem.
TLS_IDS = {
    NetKind.TLS_UNTRUSTED: ids.TLS_SELF_SIGNED,
    NetKind.TLS_SELF_SIGNED: ids.TLS_SELF_SIGNED,
    NetKind.TLS_EXPIRED: ids.TLS_EXPIRED,
    NetKind.TLS_CHAIN: ids.TLS_CHAIN,
    NetKind.TLS_HOSTNAME: ids.TLS_HOSTNAME,
}

CA_HINT = "Pass the directory's CA with --ca-file (and mount it into prosody as LDAP_TLS_CACERT_FILE)."


def short(text: str) -> str:
    """At most 160 characters of a peer's or library's message."""
    return text if len(text) < 160 else text[:157] + "..."


# Which setting a client-side refusal is about, when the step does not say (see `classified`).
ANY_DN = "LDAP_BASE or LDAP_BINDDN"
ANY_PASSWORD = "LDAP_BINDPW or the user's password"


def failure(
    exc: BaseException, *, during: str = "", hint: str = "", dn: str = ANY_DN, credential: str = ANY_PASSWORD
) -> CheckFailed:
    """The catalogue failure for an adapter error (or an OSError/ssl error that escaped one).

    `during` names an exchange on an open connection ("the count stopped"): a failure in it is reported as
    `during: <what the peer or the OS said>` with `hint`, as NET-TIMEOUT or LDAP-SERVER-DOWN. `dn` and
    `credential` name the setting a DN or a password the client refuses to send came from.
    """
    if isinstance(exc, OSError) and not isinstance(exc, AdapterError):
        exc = os_error(exc, operation=Operation.LDAP)
    if isinstance(exc, DnSyntaxError):
        return CheckFailed(
            ids.CL_DN_SYNTAX,
            f"{dn} is not valid DN syntax, so the client refuses to send it: {exc}",
            hint=f"Fix {dn}: attribute=value pairs separated by commas (e.g. ou=users,dc=example,dc=org), no "
            "quotes or stray spaces, special characters escaped with a backslash.",
        )
    if isinstance(exc, PasswordPrepError):
        return CheckFailed(
            ids.CL_SASLPREP,
            f"{credential} cannot be prepared for sending (SASLprep): {exc}",
            hint=f"Remove the control characters from {credential}; feed --password-stdin without a Windows line "
            "end: `read -rs PW; printf '%s' \"$PW\" | ldapcheck … --password-stdin`.",
        )
    if isinstance(exc, FilterError):
        return CheckFailed(ids.CL_FILTER, f"invalid search filter: {exc}", hint="Fix LDAP_FILTER's syntax.")
    if isinstance(exc, RootDseHidden):
        return CheckFailed(
            ids.LDAP_SERVER_DOWN,
            str(exc),
            hint="The server hides its root DSE from anonymous clients; pass --base and --filter yourself.",
        )
    if isinstance(exc, NetError):
        if during and exc.operation is Operation.LDAP:
            fid = ids.NET_TIMEOUT if exc.kind is NetKind.TIMEOUT else ids.LDAP_SERVER_DOWN
            return CheckFailed(fid, f"{during}: {exc}", hint=hint, facts={NET: _fact(exc.kind)})
        return _net_failure(exc)
    if isinstance(exc, LdapProtocolError):
        return CheckFailed(
            ids.LDAP_SERVER_DOWN,
            f"{during}: {exc}" if during else f"the server's answer is not LDAP: {exc}",
            hint=hint or "Check the server, the port and the scheme (ldap:// vs ldaps://).",
            facts={NET: "proto-mismatch"},
        )
    raise TypeError(f"not an adapter error: {exc!r}")


def _fact(kind: NetKind) -> str:
    return _FACTS.get(kind, "tls")


def _net_failure(e: NetError) -> CheckFailed:
    fid, message, hint, detail = _describe(e)
    return CheckFailed(fid, message, hint=hint, detail=detail, facts={NET: _fact(e.kind)})


def _describe(e: NetError) -> tuple[str, str, str, dict[str, object]]:
    """(failure id, message, hint, detail) of a network failure."""
    hp, host, port, op, kind = e.hostport, e.host, e.port, e.operation, e.kind
    t = f"{e.timeout:g}" if e.timeout is not None else "?"
    if kind is NetKind.TIMEOUT and op is Operation.DNS:
        return (
            ids.NET_DNS,
            f"resolving {host} took longer than {t} s",
            "The resolver does not answer; check /etc/resolv.conf here and the DNS of the prosody container.",
            {},
        )
    if kind is NetKind.DNS:
        return (
            ids.NET_DNS,
            f"{host} does not resolve ({e.text})",
            f"Use a name that resolves for the prosody container (getent hosts {host}), or add extra_hosts.",
            {},
        )
    if kind is NetKind.REFUSED:
        return (
            ids.NET_REFUSED,
            f"{hp} refused the connection (nothing listens there)",
            f"Port {port} refused. LDAP is usually 389 (ldap://, StartTLS) or 636 (ldaps://); "
            "AD Global Catalog is 3268/3269. Is the server running?",
            {},
        )
    if kind is NetKind.TIMEOUT:
        return (ids.NET_TIMEOUT, *_timeout(e, hp, t), {})
    if kind is NetKind.PROTO_MISMATCH:
        return (ids.NET_PROTO_MISMATCH, *_mismatch(e, hp, host, port), {})
    if kind is NetKind.STARTTLS_REFUSED:
        hint = (
            "The server has no TLS configured. Configure TLS on the server, or use ldaps:// if port 636 works "
            "(then unset LDAP_START_TLS)."
        )
        if e.result_code is None:
            return (ids.TLS_STARTTLS_UNSUPPORTED, f"StartTLS on {hp} failed: {e.text}", hint, {})
        name = f"{e.result_name}, " if e.result_name else ""
        return (
            ids.TLS_STARTTLS_UNSUPPORTED,
            f"{hp} refused StartTLS: result {name}{e.result_code} ({e.text or 'no message'})",
            hint,
            {"result_code": e.result_code, "diagnostic_message": e.text},
        )
    if kind is NetKind.TLS_HANDSHAKE:
        return (
            ids.TLS_HANDSHAKE,
            f"TLS handshake with {hp} failed: {short(e.text)}",
            "The server and ldapcheck share no protocol/cipher, or the port is not an LDAP TLS port.",
            {},
        )
    if kind is NetKind.TLS_HOSTNAME:
        return (ids.TLS_HOSTNAME, f"certificate name check failed for {host}: {e.text}", "", {})
    if kind in TLS_IDS:
        return (TLS_IDS[kind], f"the certificate of {hp} is not trusted: {e.text}", CA_HINT, {})
    if kind is NetKind.NOT_LDAP:
        return (
            ids.LDAP_SERVER_DOWN,
            f"{hp} is not an LDAP server ({e.text})",
            "Something else listens on this port. Check LDAP_URL's port.",
            {},
        )
    if kind is NetKind.UNREACHABLE:
        return (
            ids.LDAP_SERVER_DOWN,
            f"cannot connect to {hp}: {e.text}",
            "Check the host name, the port and the route to the server.",
            {},
        )
    return (
        ids.LDAP_SERVER_DOWN,
        f"LDAP connection to {hp} failed: {e.text or kind.value}",
        "Check the server, the port and the scheme (ldap:// vs ldaps://).",
        {},
    )


def _timeout(e: NetError, hp: str, t: str) -> tuple[str, str]:
    if e.operation is Operation.CONNECT:
        return (
            f"no answer from {hp} within {t} s",
            f"Packets are dropped: check the firewall between the prosody container and {hp}.",
        )
    if e.operation in (Operation.TLS, Operation.STARTTLS):
        what = "StartTLS" if e.operation is Operation.STARTTLS else "a TLS handshake"
        return (
            f"{hp} accepted TCP but did not complete {what} within {t} s",
            "The server hangs or this port does not speak TLS. Check the port and the server's health.",
        )
    if e.operation is Operation.PROBE:
        return (
            f"{hp} accepted TCP but sent no LDAP answer within {t} s",
            "The server hangs (saslauthd would wait 2 x 5 s and answer NO). Check the server's health and load.",
        )
    return (
        f"{hp} did not answer within {t} s",
        "The server hangs or is overloaded; saslauthd gives up after 5 s. Check the server's health.",
    )


def _mismatch(e: NetError, hp: str, host: str, port: int) -> tuple[str, str]:
    if e.operation is Operation.TLS:
        return (
            f"{hp} speaks plain LDAP, not TLS ({short(e.text)})",
            f"Port {port} speaks plain LDAP. Use ldap://{hp}/ (with LDAP_START_TLS=1 for encryption) "
            "or ldaps:// on the TLS port (usually 636).",
        )
    if e.operation is Operation.STARTTLS:
        return (
            f"{hp} expects TLS from the first byte, so StartTLS cannot be sent ({short(e.text)})",
            f"Port {port} is an ldaps:// port. Use ldaps://{hp}/ without LDAP_START_TLS, "
            "or ldap:// on the plain port (usually 389) with LDAP_START_TLS=1.",
        )
    if e.operation is Operation.PROBE:
        return (
            f"{hp} speaks TLS, not plain LDAP",
            f"Port {port} expects TLS from the first byte. Use ldaps://{hp}/ "
            "or ldap:// on the plain port (usually 389).",
        )
    return (
        f"{hp} does not speak this protocol ({short(e.text)})",
        "Use ldap:// for port 389 (with StartTLS) and ldaps:// for port 636.",
    )


@contextlib.contextmanager
def classified(*, during: str = "", hint: str = "", dn: str = ANY_DN, credential: str = ANY_PASSWORD) -> Iterator[None]:
    """Raise adapter errors (and escaping OSErrors) of the block as their catalogue failure."""
    try:
        yield
    except (AdapterError, OSError) as exc:
        raise failure(exc, during=during, hint=hint, dn=dn, credential=credential) from None


def guarded(step: Step[C]) -> Step[C]:
    """The step, with any adapter error its run lets escape reported as its catalogue failure."""
    run = step.run

    def guarded_run(ctx: C) -> Outcome:
        with classified():
            return run(ctx)

    return replace(step, run=guarded_run)
