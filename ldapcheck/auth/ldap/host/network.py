"""Host chain, network part: the settings as saslauthd sees them, DNS, TCP and plain-LDAP probes per server."""

from __future__ import annotations

import shlex

from ldapcheck.adapters import net
from ldapcheck.auth.ldap.failures import guarded
from ldapcheck.auth.ldap.host.context import HostContext
from ldapcheck.auth.ldap.lint.gate import login_gates
from ldapcheck.auth.ldap.settings import ServerUrl
from ldapcheck.core import catalogue as ids
from ldapcheck.core.facts import GATE, LINK, NET
from ldapcheck.core.record import replace
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
        if s.dn_problems:
            raise CheckFailed(
                ids.CL_DN_SYNTAX,
                s.dn_problems[0],
                hint="Fix the DN in .env (saslauthd sends it as written, and the server refuses it: "
                "invalidDNSyntax), then recreate prosody.",
                detail={**detail, "problems": list(s.dn_problems)},
                facts={LINK: "settings"},
            )
        if not s.anonymous and not s.bind_password_written:
            raise CheckFailed(
                ids.LINT_BINDPW_MISSING,
                "LDAP_BINDDN is set but LDAP_BINDPW is not: saslauthd binds with the literal text `<no value>` "
                "as its password, and the directory refuses it",
                hint="Set LDAP_BINDPW (single-quoted in .env), or remove LDAP_BINDDN for an anonymous bind.",
                detail=detail,
                facts={LINK: "settings"},
            )
        if not s.anonymous and not s.bind_password:
            raise CheckFailed(
                ids.SA_CONF_INVALID,
                "LDAP_BINDDN is set but LDAP_BINDPW is empty: saslauthd rejects its whole config on the empty "
                f"`ldap_bind_pw:` line (and a bind as {s.bind_dn} without a password would be unauthenticated)",
                hint="Set LDAP_BINDPW (single-quoted in .env), or remove LDAP_BINDDN for an anonymous bind.",
                detail=detail,
                facts={LINK: "settings"},
            )
        who = "anonymous" if s.anonymous else s.bind_dn
        origin = f"{s.source}: " if s.source != "options" else ""
        summary = f"{origin}{servers}, base {s.base or '(empty)'}, bind {who}, TLS {tls}"
        findings = login_gates(s.gates) if s.gates else []
        if findings:
            detail["gates"] = [f"{f.id}: {f.message}" for f in findings]
        blocking = [f for f in findings if f.id != ids.TLS_USE_TLS_SCHEME]
        if blocking:
            # ENABLE_AUTH is the outer gate: without it prosody never asks for a password at all.
            first = min(blocking, key=lambda f: f.id != ids.LINT_ENABLE_AUTH)
            gate = "ENABLE_AUTH" if first.id == ids.LINT_ENABLE_AUTH else (first.key or "AUTH_TYPE")
            # One id for the gates in every step (the container's too); lint keeps its finer ids.
            raise CheckFailed(
                ids.JM_AUTH_TYPE,
                f"{first.message} (no login reaches saslauthd, whatever the directory says)",
                hint=first.hint[:1].upper() + first.hint[1:] + ".",
                detail=detail,
                facts={LINK: "settings", GATE: gate},
            )
        for f in findings:  # TLS-USE-TLS-SCHEME: logins work, in clear text (research §3.7)
            return Outcome(
                summary=f"{summary}; {f.message}",
                detail=detail,
                warn=True,
                failure_id=f.id,
                hint=f.hint[:1].upper() + f.hint[1:] + ".",
            )
        return Outcome(summary=summary, detail=detail)

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


def recorded(step: Step[HostContext], server: ServerUrl) -> Step[HostContext]:
    """A network step of `server` (TCP or the last one) that notes how it failed (facts[NET]) for net.select."""
    run = guarded(step).run

    def recording_run(ctx: HostContext) -> Outcome:
        try:
            return run(ctx)
        except CheckFailed as exc:
            ctx.net_failed.setdefault(server.url, str(exc.facts.get(NET, "")))
            raise

    return replace(step, run=recording_run)


def _hung(ctx: HostContext, srv: ServerUrl) -> bool:
    """The server accepted TCP and then did not answer: libldap holds on to that connection (no failover)."""
    return f"net.tcp[{srv.hostport}]" in ctx.values and ctx.net_failed.get(srv.url) == "timeout"


def select_step(last_ids: dict[str, str]) -> Step[HostContext]:
    """`net.select`: the server saslauthd ends up using, in LDAP_URL's order.

    Checked against the real saslauthd (tests/integration/test_host_chain.py): libldap moves on to the next URL
    when a connection fails (refused, unreachable, no answer to the SYN), but a server that accepts TCP and then
    never answers keeps it: lak waits 5 s, retries once and answers NO, the next server is never asked.
    """

    def run(ctx: HostContext) -> Outcome:
        servers = ctx.settings.servers
        failed: list[str] = []
        for srv in servers:
            if last_ids[srv.url] in ctx.values:
                ctx.server = srv
                note = (
                    f" (after {', '.join(failed)} failed: saslauthd moves on, each login first waits)" if failed else ""
                )
                return Outcome(
                    summary=f"LDAP steps use {srv.url}{note}",
                    detail={"server": srv.url, "failed_before": failed},
                    warn=bool(failed),
                    failure_id=ids.LDAP_SERVER_DOWN if failed else None,
                    hint="Fix or remove the failing servers from LDAP_URL." if failed else "",
                    facts={LINK: "tcp"},
                )
            if _hung(ctx, srv) and any(last_ids[later.url] in ctx.values for later in servers):
                working = next(later.url for later in servers if last_ids[later.url] in ctx.values)
                raise CheckFailed(
                    ids.NET_NO_FAILOVER,
                    f"{srv.url} accepts TCP but never answers: saslauthd waits about 10 s on it and answers NO; "
                    f"it does not fail over to {working}",
                    hint=f"Remove or fix the first server ({srv.url}) in LDAP_URL; saslauthd does not fail over "
                    "when a server accepts and hangs.",
                    detail={"hanging": srv.url, "working": working, "failed_before": failed},
                    facts={LINK: "tcp", NET: "timeout"},
                )
            failed.append(srv.url)
        first = servers[0].url
        raise CheckFailed(
            ids.LDAP_SERVER_DOWN,
            f"none of the {len(servers)} servers in LDAP_URL works (see the steps above)",
            hint="Fix the first failing step of each server.",
            facts={LINK: "tcp", NET: ctx.net_failed.get(first) or "dns"},  # no record: its DNS step failed
        )

    return Step(id="net.select", title="Server for the LDAP steps", run=run)
