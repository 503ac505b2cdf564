"""Container steps of the login itself: the LDAP chain inside the container, and saslauthd's answer."""

from __future__ import annotations

import contextlib
import shlex
import time

from ldapcheck.auth.ldap import account, saslfilter
from ldapcheck.auth.ldap import codes as ldapcodes
from ldapcheck.auth.ldap.container import files as configs
from ldapcheck.auth.ldap.container import probe
from ldapcheck.auth.ldap.container.view import SaslauthdView
from ldapcheck.core import catalogue as ids
from ldapcheck.core.attempts import skipped_text
from ldapcheck.core.facts import (
    ACCOUNT,
    BIND,
    CACHED,
    EMPTY_PASSWORD,
    ENTRIES,
    FILTER,
    LINK,
    LOGIN_SEEN,
    LOGIN_TYPED,
    NET,
)
from ldapcheck.core.step import CheckFailed, Outcome, StepSkipped

SASL_ANSWER = "container.sasl_answer"

# libldap's error strings (ldap_err2string) → catalogue ids.
_LDAP_ERRORS = {
    "Invalid credentials": ids.RC_49,
    "Can't contact LDAP server": ids.LDAP_SERVER_DOWN,
    "Timed out": ids.NET_TIMEOUT,
    "Confidentiality required": ids.RC_13,
    "Inappropriate authentication": ids.RC_48,
    "Server is unwilling to perform": ids.RC_53,
    "Strong(er) authentication required": ids.RC_8,
    "No such object": ids.RC_32,
    "Invalid DN syntax": ids.RC_34,
    "Bad search filter": ids.CL_FILTER,
    "Connect error": ids.TLS_STARTTLS_UNSUPPORTED,
    "Insufficient access": ids.RC_50,
}


def ldap_error_id(message: str) -> str:
    """The catalogue id of a libldap error message."""
    return next((fid for text, fid in _LDAP_ERRORS.items() if text.lower() in message.lower()), ids.LDAP_SERVER_DOWN)


def _missing_tls_files(ctx: SaslauthdView, conf: configs.LakConf) -> list[str]:
    keys = ("ldap_tls_cacert_file", "ldap_tls_cacert_dir", "ldap_tls_cert", "ldap_tls_key")
    exists = ctx.facts().exists
    return [conf.get(k) for k in keys if conf.get(k) and exists.get(conf.get(k)) is False]


EMPTY_PASSWORD_TEXT = (
    "empty password: the directory would take it as an anonymous bind; Jitsi users must type a password"
)
EMPTY_PASSWORD_HINT = "Type the user's password (prompt, LDAPCHECK_PASSWORD or --password-stdin)."
CACHED_LINE = "auth success (cached)"  # saslauthd -d, when its credential cache (-c) answered


def _password(ctx: SaslauthdView) -> str | None:
    return ctx.options.password.reveal() if ctx.options.password is not None else None


def _service_bind_link(ctx: SaslauthdView, servers: str, fid: str, tls: bool) -> str:
    """The link a failed in-container service bind stopped at: dns/tcp (per the facts exec), tls, service_bind."""
    if fid == ids.TLS_STARTTLS_UNSUPPORTED:
        return "tls"
    if fid not in (ids.LDAP_SERVER_DOWN, ids.NET_TIMEOUT, ids.NET_CONTAINER):
        return "service_bind"
    from ldapcheck.auth.ldap.settings import parse_servers
    from ldapcheck.core.errors import ConfigError

    try:
        parsed = parse_servers(servers)
    except ConfigError:
        return "tcp"
    f = ctx.facts()
    if all(f.dns.get(s.host, (0, ""))[0] != 0 for s in parsed):
        return "dns"
    if all(f.tcp.get((s.host, s.port), 0) != 0 for s in parsed):
        return "tcp"
    # TCP connected, then the exchange on the port failed (TLS, or no LDAP answer in time): the host's twin is
    # its TLS handshake or plain-LDAP probe, the "tls/port" link.
    return "tls"


def _host_reached(ctx: SaslauthdView, servers: str) -> bool:
    """Whether the host chain connected to every server of this `ldap_servers` value."""
    from ldapcheck.auth.ldap.settings import parse_servers
    from ldapcheck.core.errors import ConfigError

    try:
        parsed = parse_servers(servers)
    except ConfigError:
        return False
    return ctx.passed(*[f"net.tcp[{s.hostport}]" for s in parsed])


def ldap_chain(ctx: SaslauthdView) -> Outcome:
    """The LDAP chain inside the container (lua-ldap: its libldap, CA store, ldap.conf)."""
    conf = ctx.effective_conf()
    if conf is None or conf.errors:
        raise StepSkipped("no usable saslauthd.conf in the container (see container.saslauthd_conf)")
    p = ctx.probe()
    ctx.charge("probe", p.ms(*probe.LDAP_RECORDS))
    req = ctx.request()
    detail: dict[str, object] = {"servers": conf.get("ldap_servers", "ldap://localhost/")}
    if req is not None:
        detail.update(
            typed=req.typed,
            login=req.user,
            realm=req.realm,
            pattern=conf.get("ldap_filter", "(uid=%u)"),
            filter=req.filter,
            base=req.base,
        )
    reproduce = _bind_reproduce(ctx, conf.get("ldap_servers", "ldap://localhost/"), conf.get("ldap_bind_dn"), "BINDPW")
    password = _password(ctx)
    facts: dict[str, object] = {EMPTY_PASSWORD: True} if password == "" else {}
    module = p.get("ldap_module")
    if module is not None:
        raise CheckFailed(ids.JM_IMAGE, f"lua-ldap is missing in the container: {module.field(0)}", detail=detail)
    sb = p.get("service_bind")
    if sb is None:
        raise CheckFailed(ids.LDAPCHECK_INTERNAL, "the in-container LDAP probe printed nothing", detail=detail)
    who = conf.get("ldap_bind_dn") or "(anonymous)"
    if not sb.ok:
        fid = ldap_error_id(sb.field(0))
        same_servers = _host_reached(ctx, conf.get("ldap_servers", "ldap://localhost/"))
        if same_servers and ctx.passed("ldap.service_bind") and fid in (ids.LDAP_SERVER_DOWN, ids.NET_TIMEOUT):
            fid = ids.NET_CONTAINER
        detail["service bind"] = f"{who}: {sb.field(0)}"
        missing = _missing_tls_files(ctx, conf)
        servers = conf.get("ldap_servers", "ldap://localhost/")
        link = "tls" if missing else _service_bind_link(ctx, servers, fid, configs.lak_bool(conf.get("ldap_start_tls")))
        facts[LINK] = link
        if link == "service_bind":
            facts[BIND] = "service"
        elif fid == ids.NET_TIMEOUT:
            facts[NET] = "timeout"
        if missing:
            detail["missing in the container"] = missing
            raise CheckFailed(
                ids.TLS_CA_PATH,
                f"service bind fails inside the container ({sb.field(0)}): saslauthd.conf names TLS files that do "
                f"not exist there: {', '.join(missing)}",
                hint="Paths in LDAP_TLS_CACERT_FILE/DIR are paths INSIDE the prosody container: mount the CA "
                "(volumes: - ./ca.crt:/path/in/container:ro) and recreate prosody. LDAP_USE_TLS=1 also needs the "
                "XMPP domain's certificate and key under the config dir.",
                detail=detail,
                reproduce=ctx.session.shell(f"ls -l {' '.join(shlex.quote(m) for m in missing)}"),
                facts=facts,
            )
        raise CheckFailed(
            fid,
            f"service bind as {who} fails inside the container: {sb.field(0)}"
            + (" (it passes from the host)" if fid == ids.NET_CONTAINER else ""),
            hint="The container's libldap, CA store or network differ from the host's: check LDAP_URL's host, "
            "LDAP_TLS_CACERT_FILE (a path inside the container) and /etc/ldap/ldap.conf."
            if fid == ids.NET_CONTAINER
            else "Check LDAP_URL, LDAP_BINDDN and LDAP_BINDPW (`$` must be written `$$` in .env).",
            detail=detail,
            reproduce=reproduce,
            facts=facts,
        )
    detail["service bind"] = f"{who}: ok ({sb.field(1)} ms)"
    if req is None:
        return Outcome(
            summary=f"service bind as {who} ok (no login given: search and user bind not run)",
            detail=detail,
            facts={**facts, LINK: "service_bind"},
        )
    facts.update(
        {
            LINK: "user_search",
            LOGIN_TYPED: req.typed,
            LOGIN_SEEN: req.user,
            FILTER: saslfilter.wrapped(conf.get("ldap_filter", "(uid=%u)")),
        }
    )
    search = p.get("search")
    if search is None or not search.ok:
        msg = search.field(0) if search else "not run"
        raise CheckFailed(
            ldap_error_id(msg),
            f"search {req.filter} under {req.base!r} failed: {msg}",
            detail=detail,
            reproduce=reproduce,
            facts=facts,
        )
    count = p.entry_count or 0
    facts[ENTRIES] = count
    detail["entries"] = p.entries or "(none)"
    if count != 1:
        many = "two or more entries" if count > 1 else "no entry"
        raise CheckFailed(
            ids.SA_ENTRY_COUNT,
            f"{req.filter} under {req.base!r} matches {many}; saslauthd needs exactly one",
            hint="Fix LDAP_FILTER / LDAP_BASE (saslauthd expands %u to the login without @domain, %d to nothing)."
            if count == 0
            else "Narrow LDAP_FILTER (e.g. add an objectClass) or LDAP_BASE so one entry matches.",
            detail=detail,
            reproduce=reproduce,
            facts=facts,
        )
    ub = p.get("user_bind")
    if ub is None:
        why = (
            "the host's bind accepted the password; saslauthd's bind is the next"
            if ctx.options.gate is not None and ctx.options.gate.accepted
            else "no password"
        )
        return Outcome(
            summary=f"service bind ok, {req.filter} → {p.entries[0]} (user bind not run: {why})",
            detail=detail,
            facts=facts,
        )
    facts.update({LINK: "user_bind", BIND: "user"})
    reproduce = _bind_reproduce(ctx, conf.get("ldap_servers", "ldap://localhost/"), p.entries[0], "PW")
    if password == "":
        detail["user bind"] = f"{p.entries[0]}: {ub.field(0) if not ub.ok else 'accepted'} (empty password)"
        raise CheckFailed(
            ids.RC_53 if not ub.ok else ids.OL_UNAUTH_BIND,
            EMPTY_PASSWORD_TEXT
            + ("" if not ub.ok else " (this server even ACCEPTS it as an unauthenticated bind: not a login)"),
            hint=EMPTY_PASSWORD_HINT,
            detail=detail,
            reproduce=reproduce,
            facts=facts,
        )
    if not ub.ok:
        detail["user bind"] = f"{p.entries[0]}: {ub.field(0)}"
        sub = ldapcodes.ad_subcode(ub.field(0))
        if sub is not None and sub.data in account.AD_DATA_FACTS:
            facts[ACCOUNT] = account.AD_DATA_FACTS[sub.data]
        raise CheckFailed(
            sub.failure_id if sub is not None else ldap_error_id(ub.field(0)),
            f"user bind as {p.entries[0]} fails inside the container: {ub.field(0)}",
            hint="The password is wrong for this entry (or the account is locked)."
            if "credentials" in ub.field(0)
            else "Check the server's log for this bind.",
            detail=detail,
            reproduce=reproduce,
            facts=facts,
        )
    detail["user bind"] = f"{p.entries[0]}: ok ({ub.field(1)} ms)"
    return Outcome(
        summary=f"service bind, search {req.filter} → 1 entry, user bind: all ok", detail=detail, facts=facts
    )


def _bind_reproduce(ctx: SaslauthdView, servers: str, dn: str, var: str) -> str:
    """A bind with the container's own libldap; the password comes from a shell variable, on stdin."""
    lua = f'local l=require"lualdap"; print(l.open_simple({_lua_str(servers)}, {_lua_str(dn)}, io.read("a")))'
    # The password is read at a hidden prompt into a shell variable and fed on stdin: never in an argv.
    return f"read -rs {var}; printf '%s' \"${var}\" | " + ctx.session.shell(f"lua5.4 -e {shlex.quote(lua)}", stdin=True)


def _lua_str(text: str) -> str:
    """A Lua string literal for any text (DNs may hold quotes and backslashes)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _login_reproduce(ctx: SaslauthdView) -> str:
    req = ctx.request()
    login = shlex.quote(req.user if req else "LOGIN")
    # testsaslauthd takes the password only as an argument (inside the container): read it at a hidden prompt.
    realm = shlex.quote(ctx.xmpp_domain)
    return "read -rs PW; " + ctx.session.shell(
        f'testsaslauthd -u {login} -p "$PW" -s xmpp -r {realm}', interactive=True
    )


def saslauthd_protocol(ctx: SaslauthdView) -> Outcome:
    """The real login: saslauthd's socket protocol, as prosody asks it."""
    req = ctx.request()
    if req is None or ctx.options.password is None:
        raise StepSkipped("no login and password given")
    rejected = ctx.options.rejected_by()
    if rejected is not None:
        raise StepSkipped(skipped_text(rejected))
    p = ctx.probe()
    ctx.charge("probe", p.ms("sasl_reply"))
    detail: dict[str, object] = {"typed": req.typed, "login": req.user, "service": req.service, "realm": req.realm}
    facts: dict[str, object] = {LOGIN_TYPED: req.typed, LOGIN_SEEN: req.user}
    reproduce = _login_reproduce(ctx)
    if _password(ctx) == "":
        # Not a socket problem, whatever the socket exchange shows (the reply is kept in the detail).
        reply = p.get("sasl_reply")
        detail["reply"] = (reply.field(0) or "(empty)") if reply is not None else "(not asked)"
        raise CheckFailed(
            ids.RC_53,
            EMPTY_PASSWORD_TEXT,
            hint=EMPTY_PASSWORD_HINT,
            detail=detail,
            reproduce=reproduce,
            facts={**facts, EMPTY_PASSWORD: True},
        )
    ub = p.get("user_bind")
    if ub is not None and not ub.ok:  # the probe did not ask saslauthd after that failure (one attempt per run)
        raise StepSkipped(skipped_text("container.ldap_chain"))
    connect = p.get("sasl_connect")
    if connect is None or not connect.ok:
        raise CheckFailed(
            ids.SA_SOCKET,
            f"cannot connect to saslauthd: {connect.field(0) if connect else 'not run'}",
            detail=detail,
            reproduce=reproduce,
            facts=facts,
        )
    reply = p.get("sasl_reply")
    if reply is not None and not reply.ok and reply.field(2) == "timeout":
        # Not a broken socket: saslauthd is still waiting for its directory (its ldap_timeout, retried once).
        conf = ctx.effective_conf()
        lak = conf.get("ldap_timeout", "5") if conf else "5"
        wait = probe.SASL_REPLY_FACTOR * probe.ldap_wait(ctx.session.options.timeout)
        raise CheckFailed(
            ids.NET_TIMEOUT,
            f"saslauthd did not answer within {wait} s ({probe.SASL_REPLY_FACTOR} x --timeout): it is still "
            f"waiting for the directory (saslauthd gives up after its ldap_timeout {lak} s x 2 tries)",
            hint="saslauthd's directory does not answer in time: see container.ldap_chain and the host's LDAP steps.",
            detail=detail,
            reproduce=reproduce,
            facts={**facts, NET: "timeout"},
        )
    if reply is None or not reply.ok:
        raise CheckFailed(
            ids.SA_SOCKET,
            f"saslauthd did not answer: {reply.field(0) if reply else 'no reply'}",
            detail=detail,
            reproduce=reproduce,
            facts=facts,
        )
    answer = probe.classify_reply(reply.field(0))
    ctx.values[SASL_ANSWER] = answer  # for the testsaslauthd comparison, also when this step fails
    detail["reply"] = reply.field(0) or "(empty)"
    via = "(password sent on the socket, in no process arguments)"
    with contextlib.suppress(Exception):  # the log is supporting evidence only
        lines = ctx.login_log()
        facts[CACHED] = any(CACHED_LINE in line for line in lines)
        if lines:
            detail["saslauthd log"] = lines[-3:]
            detail["answered from cache"] = facts[CACHED]
    if answer == "OK":
        return Outcome(
            summary=f"saslauthd: OK for {req.user}@{req.realm} service {req.service} {via}",
            detail=detail,
            value="OK",
            reproduce=reproduce,
            facts=facts,
        )
    raise CheckFailed(
        ids.SA_OPAQUE_NO,
        f"saslauthd: NO for {req.user}@{req.realm} service {req.service} (it never says why)",
        hint="saslauthd never says why; the steps that test its LDAP chain (and `ldapcheck diagnose --user LOGIN`, "
        "which runs them) name the cause.",
        detail=detail,
        reproduce=reproduce,
        facts=facts,
    )


def testsaslauthd(ctx: SaslauthdView) -> Outcome:
    """The real login with testsaslauthd (opt-in)."""
    req = ctx.request()
    if req is None or ctx.options.password is None:
        raise StepSkipped("no login and password given")
    if not ctx.options.testsaslauthd:
        raise StepSkipped(
            "not run by default: testsaslauthd takes the password in its command line inside the container "
            "(--testsaslauthd runs it; the socket-protocol step asks saslauthd the same question without that)"
        )
    rejected = ctx.options.rejected_by()
    if rejected is None and ctx.values.get(SASL_ANSWER) == "NO":
        rejected = "container.saslauthd_protocol"  # a second NO would be a second failure at the directory
    if rejected is None:
        with contextlib.suppress(Exception):  # no probe: testsaslauthd's own answer says what is wrong
            ub = ctx.probe().get("user_bind")
            if ub is not None and not ub.ok:
                rejected = "container.ldap_chain"
    if rejected is not None:
        raise StepSkipped(skipped_text(rejected))
    password = ctx.options.password.reveal()
    facts: dict[str, object] = {LOGIN_TYPED: req.typed, LOGIN_SEEN: req.user}
    reproduce = _login_reproduce(ctx)
    if password == "":
        raise CheckFailed(
            ids.RC_53,
            EMPTY_PASSWORD_TEXT + " (testsaslauthd not run)",
            hint=EMPTY_PASSWORD_HINT,
            reproduce=reproduce,
            facts={**facts, EMPTY_PASSWORD: True},
        )
    argv = ["testsaslauthd", "-u", req.user, "-p", password, "-s", req.service, "-r", req.realm]
    started = time.time()
    # testsaslauthd has no timeout of its own: it waits for saslauthd's answer, bounded as the probe bounds it.
    wait = probe.ldap_wait(ctx.session.options.timeout)
    result = ctx.exec(argv, user=ctx.prosody_user(), timeout=probe.SASL_REPLY_FACTOR * wait + probe.EXEC_START_SLACK)
    parsed = probe.parse_testsaslauthd(result.stdout, result.stderr, result.exit_code)
    with contextlib.suppress(Exception):  # the log is supporting evidence only
        facts[CACHED] = any(CACHED_LINE in line for line in ctx.login_log_since(started))
    detail: dict[str, object] = {
        "stdout": parsed.stdout.strip(),
        "stderr": parsed.reason or "(empty)",
        "exit": parsed.exit_code,
        "note": "the password was in testsaslauthd's argv inside the container while it ran (--testsaslauthd)",
    }
    other_answer = ctx.values.get(SASL_ANSWER)
    if other_answer is not None and parsed.verdict in ("OK", "NO") and other_answer != parsed.verdict:
        raise CheckFailed(
            ids.SA_DISAGREE,
            f"testsaslauthd says {parsed.verdict} but the socket protocol said {other_answer}",
            hint="A password change or cache expiry between the two calls, or a bug: rerun.",
            detail=detail,
            reproduce=reproduce,
            facts=facts,
        )
    if parsed.verdict == "OK":
        return Outcome(
            summary=f"testsaslauthd: {parsed.stdout.strip()}",
            detail=detail,
            value="OK",
            reproduce=reproduce,
            facts=facts,
        )
    if parsed.verdict == "SOCKET":
        raise CheckFailed(
            ids.SA_SOCKET, f"testsaslauthd: {parsed.reason}", detail=detail, reproduce=reproduce, facts=facts
        )
    raise CheckFailed(
        ids.SA_OPAQUE_NO,
        f"testsaslauthd: {parsed.stdout.strip() or parsed.reason}",
        detail=detail,
        reproduce=reproduce,
        facts=facts,
    )
