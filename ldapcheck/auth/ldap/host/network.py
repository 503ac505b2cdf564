"""Host chain, network part: the settings as saslauthd sees them, DNS, TCP and plain-LDAP probes per server."""

from __future__ import annotations

import shlex

from ldapcheck.adapters import net
from ldapcheck.auth.ldap.host.context import HostContext
from ldapcheck.auth.ldap.settings import ServerUrl
from ldapcheck.core import catalogue as ids
from ldapcheck.core.step import CheckFailed, Outcome, Step


def config_step() -> Step[HostContext]:
    """`config.parse`: what saslauthd would be configured with (secrets masked)."""

    def run(ctx: HostContext) -> Outcome:
        s = ctx.settings
        servers = " ".join(srv.url for srv in s.servers)
        if s.start_tls:
            tls = "StartTLS"
        elif all(srv.tls for srv in s.servers):
            tls = "ldaps"
        elif any(srv.tls for srv in s.servers):
            tls = "mixed"
        else:
            tls = "none (plain text)"
        detail: dict[str, object] = {
            "source": s.source,
            "servers": [srv.url for srv in s.servers],
            "base": s.base,
            "bind_dn": s.bind_dn or "(anonymous)",
            "bind_password": "set" if s.bind_password else "not set",
            "filter": s.filter,
            "xmpp_domain": s.xmpp_domain,
            "encryption": tls,
            "saslauthd_verifies_certificate": s.saslauthd_verifies_peer,
            "ca_file": s.ca_file or "(system store)",
            "timeout_s": s.timeout,
        }
        if s.cacert_file and s.cacert_file != s.ca_file:
            detail["LDAP_TLS_CACERT_FILE"] = f"{s.cacert_file} (a container path; pass --ca-file to verify with it)"
        if not s.anonymous and not s.bind_password:
            raise CheckFailed(
                ids.RC_53,
                f"LDAP_BINDDN is set but LDAP_BINDPW is empty (bind as {s.bind_dn} would be unauthenticated)",
                hint="Set LDAP_BINDPW. saslauthd also rejects its whole config on an empty `ldap_bind_pw:` line, "
                "so every login fails.",
                detail=detail,
            )
        who = "anonymous" if s.anonymous else s.bind_dn
        origin = f"{s.source}: " if s.source != "options" else ""
        return Outcome(summary=f"{origin}{servers}, base {s.base or '(empty)'}, bind {who}, TLS {tls}", detail=detail)

    return Step(id="config.parse", title="Settings (as saslauthd gets them)", run=run)


def dns_step(host: str, timeout: float) -> Step[HostContext]:
    """`net.dns[host]`."""

    def run(ctx: HostContext) -> Outcome:
        addresses = net.resolve(host, 0, timeout)
        return Outcome(summary=f"{host} → {', '.join(addresses)}", detail={"addresses": addresses})

    return Step(
        id=f"net.dns[{host}]",
        title=f"DNS {host}",
        run=run,
        reproduce=lambda _ctx: f"getent hosts {shlex.quote(host)}",
    )


def tcp_step(server: ServerUrl, timeout: float) -> Step[HostContext]:
    """`net.tcp[host:port]`."""

    def run(ctx: HostContext) -> Outcome:
        ms = net.tcp_connect(server.host, server.port, timeout)
        return Outcome(summary=f"connected in {ms:.0f} ms", detail={"connect_ms": round(ms, 1)})

    return Step(
        id=f"net.tcp[{server.hostport}]",
        title=f"TCP {server.hostport}",
        run=run,
        requires=frozenset({f"net.dns[{server.host}]"}),
        reproduce=lambda _ctx: f"nc -vz -w {int(timeout)} {shlex.quote(server.host)} {server.port}",
    )


def plain_step(server: ServerUrl, timeout: float) -> Step[HostContext]:
    """`net.plain[host:port]`: a plain ldap:// port answers LDAP (and is not a TLS port)."""

    def run(ctx: HostContext) -> Outcome:
        summary = net.probe_plain(server.host, server.port, timeout)
        return Outcome(
            summary=summary + "; no encryption (passwords cross the network in clear text)",
            detail={"encryption": "none", "hint": "use ldaps:// or LDAP_START_TLS=1 to encrypt"},
        )

    return Step(
        id=f"net.plain[{server.hostport}]",
        title=f"LDAP (plain) {server.hostport}",
        run=run,
        requires=frozenset({f"net.tcp[{server.hostport}]"}),
        reproduce=lambda ctx: f"ldapsearch {ctx.ldap_args(server)} -s base -b '' '(objectClass=*)' 1.1",
    )


def select_step(last_ids: dict[str, str]) -> Step[HostContext]:
    """`net.select`: the first server of LDAP_URL whose network steps passed (libldap fails over in order)."""

    def run(ctx: HostContext) -> Outcome:
        servers = ctx.settings.servers
        failed: list[str] = []
        for srv in servers:
            if last_ids[srv.url] in ctx.values:
                ctx.server = srv
                note = (
                    f" (after {', '.join(failed)} failed: saslauthd fails over, each login first waits)"
                    if failed
                    else ""
                )
                return Outcome(
                    summary=f"LDAP steps use {srv.url}{note}",
                    detail={"server": srv.url, "failed_before": failed},
                    warn=bool(failed),
                    failure_id=ids.LDAP_SERVER_DOWN if failed else None,
                    hint="Fix or remove the failing servers from LDAP_URL." if failed else "",
                )
            failed.append(srv.url)
        raise CheckFailed(
            ids.LDAP_SERVER_DOWN,
            f"none of the {len(servers)} servers in LDAP_URL works (see the steps above)",
            hint="Fix the first failing step of each server.",
        )

    return Step(id="net.select", title="Server for the LDAP steps", run=run)
