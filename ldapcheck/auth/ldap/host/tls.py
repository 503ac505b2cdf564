"""Host chain, TLS: handshake (ldaps or StartTLS), chain, name and expiry, compared with what saslauthd accepts."""

from __future__ import annotations

import shlex

from ldapcheck.adapters import net
from ldapcheck.adapters.errors import VERIFY_KINDS, NetKind
from ldapcheck.auth.ldap.failures import TLS_IDS
from ldapcheck.auth.ldap.host.context import HostContext
from ldapcheck.auth.ldap.settings import ServerUrl
from ldapcheck.core import catalogue as ids
from ldapcheck.core.step import CheckFailed, Outcome, Step

EXPIRY_WARN_DAYS = 30


def _problems(server: ServerUrl, probe: net.TlsProbe) -> list[tuple[str, str, str]]:
    """(failure id, what is wrong, fix) for each problem, most specific first."""
    out: list[tuple[str, str, str]] = []
    cert = probe.cert
    if cert.days_left is not None and cert.days_left < 0:
        out.append(
            (
                ids.TLS_EXPIRED,
                f"certificate expired on {cert.not_after}",
                "Renew the server certificate (or check the clock of the server and of the prosody container).",
            )
        )
    if probe.verify_code is not None:
        fid = TLS_IDS[VERIFY_KINDS.get(probe.verify_code, NetKind.TLS_UNTRUSTED)]
        if fid == ids.TLS_EXPIRED and out:
            pass
        elif fid == ids.TLS_EXPIRED:
            out.append((fid, f"certificate not valid now ({probe.verify_message})", "Renew the certificate."))
        elif fid == ids.TLS_CHAIN:
            out.append(
                (
                    fid,
                    f"incomplete chain: {probe.verify_message}",
                    "The server does not send its intermediate CA. Fix the server chain or add the intermediate "
                    "to the CA file.",
                )
            )
        else:
            out.append(
                (
                    fid,
                    f"issuer {cert.issuer or '?'} is not trusted by {probe.verified_against} ({probe.verify_message})",
                    "Pass the directory's CA with --ca-file to check it; for saslauthd mount the CA into prosody and "
                    "set LDAP_TLS_CACERT_FILE=/path/in/container (with LDAP_USE_TLS=1, LDAP_TLS_CHECK_PEER=1).",
                )
            )
    if not probe.hostname_ok:
        names = ", ".join(cert.san) or cert.subject or "no names"
        out.append(
            (
                ids.TLS_HOSTNAME,
                f"certificate is valid for {names}, but LDAP_URL uses {server.host}",
                "Use a name the certificate lists in LDAP_URL, or reissue the certificate with this name in its SAN. "
                "libldap replaces 'localhost' by the peer's reverse name: prefer the listed IP or DNS name.",
            )
        )
    return out


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def tls_step(server: ServerUrl) -> Step[HostContext]:
    """`tls.handshake[host:port]` for ldaps:// or StartTLS."""

    def run(ctx: HostContext) -> Outcome:
        s = ctx.settings
        starttls = s.start_tls and not server.tls
        if s.start_tls and server.tls:
            raise CheckFailed(
                ids.TLS_STARTTLS_ON_LDAPS,
                f"LDAP_START_TLS=1 with {server.url}: saslauthd would start TLS inside TLS and fail",
                hint="Use either ldaps:// (without LDAP_START_TLS) or ldap:// + LDAP_START_TLS=1, not both.",
            )
        probe = net.tls_probe(server.host, server.port, timeout=s.timeout, ca_file=s.ca_file, starttls=starttls)
        cert = probe.cert
        detail: dict[str, object] = {
            "mode": "StartTLS" if starttls else "ldaps",
            "protocol": probe.protocol,
            "cipher": probe.cipher,
            "subject": cert.subject,
            "issuer": cert.issuer,
            "san": list(cert.san),
            "not_after": cert.not_after,
            "days_left": cert.days_left,
            "verified_against": probe.verified_against,
            "chain_ok": probe.chain_ok,
            "hostname_ok": probe.hostname_ok,
            "saslauthd_verifies": s.saslauthd_verifies_peer,
        }
        problems = _problems(server, probe)
        ctx.tls_ok[server.url] = not problems
        if problems:
            fid, what, fix = problems[0]
            detail["problems"] = [f"{p[0]}: {p[1]}" for p in problems]
            if s.saslauthd_verifies_peer:
                raise CheckFailed(fid, f"certificate rejected: {what}", hint=fix, detail=detail)
            return Outcome(
                summary=f"certificate is BAD ({what}); saslauthd accepts it anyway: without LDAP_USE_TLS=1 and "
                "LDAP_TLS_CHECK_PEER=1 the image's `TLS_REQCERT allow` applies, so a forged server would be "
                "accepted too",
                detail=detail,
                warn=True,
                failure_id=fid,
                hint=fix,
            )
        summary = f"{probe.protocol}, certificate for {', '.join(cert.san) or cert.subject} verified"
        if cert.days_left is not None and cert.days_left < EXPIRY_WARN_DAYS:
            return Outcome(
                summary=f"{summary}, but it expires in {cert.days_left} days",
                detail=detail,
                warn=True,
                failure_id=ids.TLS_EXPIRED,
                hint="Renew the server certificate before it expires.",
            )
        if cert.days_left is not None:
            summary += f", {cert.days_left} days left"
        if not s.saslauthd_verifies_peer:
            summary += " (saslauthd itself does not verify it: TLS_REQCERT allow)"
        return Outcome(summary=summary, detail=detail)

    def reproduce(ctx: HostContext) -> str:
        starttls = " -starttls ldap" if ctx.settings.start_tls and not server.tls else ""
        ca = f" -CAfile {shlex.quote(ctx.settings.ca_file)}" if ctx.settings.ca_file else ""
        verify = f" -{'verify_ip' if _is_ip(server.host) else 'verify_hostname'} {shlex.quote(server.host)}"
        return f"openssl s_client -connect {shlex.quote(server.hostport)}{starttls}{ca}{verify} -showcerts </dev/null"

    return Step(
        id=f"tls.handshake[{server.hostport}]",
        title=f"TLS {server.hostport}",
        run=run,
        requires=frozenset({f"net.tcp[{server.hostport}]"}),
        reproduce=reproduce,
    )
