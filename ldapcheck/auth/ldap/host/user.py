"""Host chain, one user: saslauthd's search with its exact filter expansion, account state, the password bind."""

from __future__ import annotations

import shlex
import time

from ldapcheck.adapters.ldap import ber as ldapwire
from ldapcheck.adapters.ldap.directory import Result
from ldapcheck.auth.ldap import account, saslfilter
from ldapcheck.auth.ldap import codes as ldapcodes
from ldapcheck.auth.ldap.failures import classified
from ldapcheck.auth.ldap.host.context import HostContext
from ldapcheck.auth.ldap.host.directory import connection, shared_directory
from ldapcheck.core import catalogue as ids
from ldapcheck.core.facts import ACCOUNT, BIND, EMPTY_PASSWORD, ENTRIES, FILTER, LOGIN_SEEN, LOGIN_TYPED
from ldapcheck.core.step import CheckFailed, Outcome, Step

MAX_LISTED = 10
SLOW_SEARCH_S = 2.0  # saslauthd's ldap_time_limit/ldap_timeout are 5 s


def _requests(ctx: HostContext) -> tuple[saslfilter.SaslRequest, saslfilter.SaslRequest]:
    s = ctx.settings
    login = ctx.options.user or ""
    return (
        saslfilter.via_prosody(login, s.filter, s.base, s.xmpp_domain),
        saslfilter.via_testsaslauthd(login, s.filter, s.base, s.xmpp_domain),
    )


def user_search_step() -> Step[HostContext]:
    """`ldap.user_search`: exactly one entry must match, as saslauthd requires."""

    def run(ctx: HostContext) -> Outcome:
        prosody, tester = _requests(ctx)
        start = time.perf_counter()
        with classified(dn="LDAP_BASE"):
            result, dns = shared_directory(ctx).search_dns(prosody.base, saslfilter.wrapped(prosody.filter), limit=50)
        seconds = time.perf_counter() - start
        detail: dict[str, object] = {
            "typed_login": prosody.typed,
            "saslauthd_login": prosody.user,
            "realm": prosody.realm,
            "service": prosody.service,
            "filter": prosody.filter,
            "base": prosody.base,
            "entries": len(dns),
            "search_ms": round(seconds * 1000, 1),
            "dns": dns[:MAX_LISTED],
        }
        facts: dict[str, object] = {
            ENTRIES: len(dns),
            LOGIN_TYPED: prosody.typed,
            LOGIN_SEEN: prosody.user,
            FILTER: saslfilter.wrapped(ctx.settings.filter),
        }
        if tester.filter != prosody.filter:
            detail["testsaslauthd_filter"] = (
                f"{tester.filter} (testsaslauthd -u {prosody.typed} passes the login uncut; prosody sends "
                f"{prosody.user})"
            )
        if result.code == 3:
            raise CheckFailed(
                ids.RC_3,
                "the user search hit the time limit (timeLimitExceeded, 3); saslauthd gives up after 5 s",
                hint="Narrow LDAP_BASE, index the filter's attribute, avoid 1.2.840.113556.1.4.1941 on big trees.",
                detail=detail,
                facts=facts,
            )
        if result.code not in (0, 4):
            raise CheckFailed(
                f"RC-{result.code}",
                f"user search failed: {ldapcodes.result_name(result.code)} ({result.code}) {result.message}",
                detail=detail,
                facts=facts,
            )
        if not dns:
            hint = "Check LDAP_FILTER's attribute and LDAP_BASE's subtree"
            if ctx.is_ad and "uid=" in ctx.settings.filter.lower():
                hint = "AD users have sAMAccountName, not uid: use LDAP_FILTER=(sAMAccountName=%u) [AD-FILTER-UID]"
            elif "@" in prosody.typed:
                hint = (
                    f"prosody cuts the login at '@' and sends {prosody.user!r}; if users type e-mail addresses, "
                    "match on the local part (e.g. (mail=%u@example.org)) or have them log in without the domain"
                )
            raise CheckFailed(
                ids.SA_ENTRY_COUNT,
                f"no entry matches {prosody.filter} under {prosody.base}: saslauthd logs 'Entry not found' and "
                "answers NO",
                hint=hint + ".",
                detail=detail,
                facts=facts,
            )
        if len(dns) > 1 or result.code == 4:
            listed = "; ".join(dns[:MAX_LISTED])
            raise CheckFailed(
                ids.SA_ENTRY_COUNT,
                f"{len(dns)}{'+' if result.code == 4 else ''} entries match {prosody.filter}: {listed}; "
                "saslauthd requires exactly one",
                hint="Make the filter unique: narrow LDAP_BASE to the users' OU or add an objectClass / group "
                "condition to LDAP_FILTER, or remove the duplicate entry.",
                detail=detail,
                facts=facts,
            )
        ctx.user_dn = dns[0]
        summary = f"1 entry: {dns[0]} (filter {prosody.filter})"
        if seconds > SLOW_SEARCH_S:
            return Outcome(
                summary=f"{summary}, but the search took {seconds:.1f} s (saslauthd's limit is 5 s)",
                detail=detail,
                warn=True,
                failure_id=ids.RC_3,
                hint="Narrow LDAP_BASE or index the filter's attribute before logins start timing out.",
                value=dns[0],
                facts=facts,
            )
        return Outcome(summary=summary, detail=detail, value=dns[0], facts=facts)

    def reproduce(ctx: HostContext) -> str:
        prosody, _ = _requests(ctx)
        return ctx.ldapsearch(prosody.base, saslfilter.wrapped(prosody.filter), "1.1")

    return Step(
        id="ldap.user_search",
        title="User search (saslauthd's filter)",
        run=run,
        requires=frozenset({"ldap.base"}),
        reproduce=reproduce,
    )


# The host step also shows the ppolicy attributes that explain a state (read, not judged).
_PPOLICY_SHOWN = (*account.PPOLICY_ATTRS, "pwdChangedTime", "pwdFailureTime", "pwdGraceUseTime")


def _wanted(ctx: HostContext) -> tuple[str, ...]:
    return account.AD_ATTRS if ctx.is_ad else _PPOLICY_SHOWN


def _account_problems(attrs: dict[str, list[str]]) -> list[tuple[str, str, str, account.State]]:
    """(failure id, what, fix, state) for each account state the entry's attributes show."""
    low = {k.lower(): [v.encode("utf-8", "surrogatepass") for v in vs] for k, vs in attrs.items()}
    out: list[tuple[str, str, str, account.State]] = []
    for state in account.states(low, account.filetime(time.time())):
        if state is account.State.DISABLED:
            uac = account.first_int(low["useraccountcontrol"])
            out.append((ids.AD_533, f"account disabled (userAccountControl={uac})", "Enable the account in AD.", state))
        elif state is account.State.LOCKED:
            since = account.filetime_datetime(account.first_int(low["lockouttime"]) or 0)
            out.append((ids.AD_775, f"locked out since {since:%Y-%m-%d %H:%M} UTC", "Unlock the account.", state))
        elif state is account.State.EXPIRED:
            on = account.filetime_datetime(account.first_int(low["accountexpires"]) or 0)
            out.append((ids.AD_701, f"account expired on {on:%Y-%m-%d}", "Extend accountExpires.", state))
        elif state is account.State.MUST_CHANGE:
            fix = "Have the user set a new password."
            out.append((ids.AD_773, "user must change the password (pwdLastSet=0)", fix, state))
        elif state is account.State.PPOLICY_LOCKED:
            locked = low["pwdaccountlockedtime"][0].decode("utf-8", "replace")
            what = "permanently (000001010000Z)" if locked.startswith("000001010000") else f"since {locked}"
            fix = "Unlock: delete pwdAccountLockedTime."
            out.append((ids.OL_PPOLICY, f"locked by password policy {what}", fix, state))
        else:
            what = "password was reset and must be changed (pwdReset=TRUE)"
            out.append((ids.OL_PPOLICY, what, "Set a new password.", state))
    return out


def account_state_step() -> Step[HostContext]:
    """`ldap.account_state`: lock/disable/expiry attributes where the directory shows them."""

    def run(ctx: HostContext) -> Outcome:
        dn = ctx.user_dn or ""
        _, attrs = shared_directory(ctx).read_entry(dn, _wanted(ctx))
        shown = {k: v if len(v) > 1 else v[0] for k, v in attrs.items()}
        detail: dict[str, object] = {"dn": dn, "attributes": shown or "(none set or not readable)"}
        problems = _account_problems(attrs)
        if problems:
            fid, what, fix, state = problems[0]
            detail["problems"] = [p[1] for p in problems]
            raise CheckFailed(fid, what, hint=fix, detail=detail, facts={ACCOUNT: account.FACTS[state]})
        if not attrs:
            return Outcome(summary="no lock, disable or expiry attributes set (or not readable)", detail=detail)
        return Outcome(summary=f"not locked, disabled or expired ({', '.join(sorted(attrs))})", detail=detail)

    return Step(
        id="ldap.account_state",
        title="Account state",
        run=run,
        requires=frozenset({"ldap.user_search"}),
        reproduce=lambda ctx: ctx.ldapsearch(ctx.user_dn or "", "(objectClass=*)", *_wanted(ctx), scope="base"),
    )


def _unauthenticated_probe(ctx: HostContext, dn: str) -> Result:
    """A bind with the DN and an empty password, on the raw client (ldap3 would refuse to send it)."""
    with classified(during="bind connection failed"), connection(ctx, wire=True) as directory:
        return directory.bind(dn, "")


def _account_fact(code: int, message: str, ppolicy_error: str | None) -> str | None:
    """The account state a failed bind's answer shows (AD `data 533/775/…`, the ppolicy control), if any."""
    sub = ldapcodes.ad_subcode(message) if code == 49 else None
    if sub is not None and sub.data in account.AD_DATA_FACTS:
        return account.AD_DATA_FACTS[sub.data]
    return account.PPOLICY_ERROR_FACTS.get(ppolicy_error or "")


def user_bind_step() -> Step[HostContext]:
    """`ldap.user_bind`: one bind as the user's DN with the password (never retried)."""

    def run(ctx: HostContext) -> Outcome:
        dn = ctx.user_dn or ""
        password = ctx.options.password.reveal() if ctx.options.password else ""
        detail: dict[str, object] = {"dn": dn}
        facts: dict[str, object] = {BIND: "user"}
        if not password:
            facts[EMPTY_PASSWORD] = True
            result = _unauthenticated_probe(ctx, dn)
            detail["result_code"] = result.code
            if result.message:
                detail["diagnostic_message"] = result.message
            if result.code == 0:
                raise CheckFailed(
                    ids.OL_UNAUTH_BIND,
                    "empty password: the server ACCEPTED it as an unauthenticated (anonymous) bind; this is not "
                    "a login",
                    hint="Type the user's password. Make sure the server rejects unauthenticated binds "
                    "(RFC 4513 §6.3.1; OpenLDAP's default).",
                    detail=detail,
                    facts=facts,
                )
            raise CheckFailed(
                ids.RC_53,
                f"empty password: an unauthenticated bind, refused by the server "
                f"({ldapcodes.result_name(result.code)}, {result.code}); not a login",
                hint="Type the user's password (prompt, LDAPCHECK_PASSWORD or --password-stdin).",
                detail=detail,
                facts=facts,
            )
        # ldap3 (its SASLprep refusal is the finding CL-SASLPREP) unless the command chose the wire client for a
        # password SASLprep leaves as it is (`commands.diagnose`).
        with (
            classified(dn=f"the user's DN {dn}", credential="the user's password"),
            connection(ctx, wire=ctx.options.wire) as directory,
        ):
            bound = directory.bind(dn, password, controls=[(ldapwire.PPOLICY_OID, False, None)])
        detail["result_code"] = bound.code
        if bound.message:
            detail["diagnostic_message"] = bound.message
        warning = error = None
        ppolicy = bound.controls.get(ldapwire.PPOLICY_OID)
        if isinstance(ppolicy, dict) and isinstance(ppolicy.get("value"), bytes):
            warning, error = ldapwire.decode_ppolicy(ppolicy["value"])
            if warning or error:
                detail["ppolicy"] = {"warning": warning, "error": error}
        verdict = ldapcodes.classify_bind(bound.code, bound.message, who=dn, service=False)
        if not verdict.ok:
            state = _account_fact(bound.code, bound.message, error)
            if state:
                facts[ACCOUNT] = state
            if error:
                raise CheckFailed(
                    ids.OL_PPOLICY,
                    f"{verdict.summary}; password policy says: {error}",
                    hint="accountLocked: unlock (delete pwdAccountLockedTime); passwordExpired/changeAfterReset: "
                    "set a new password.",
                    detail=detail,
                    facts=facts,
                )
            raise CheckFailed(
                verdict.failure_id or ids.RC_49, verdict.summary, hint=verdict.hint, detail=detail, facts=facts
            )
        if warning:
            return Outcome(
                summary=f"password accepted for {dn}; password policy warns: {warning}",
                detail=detail,
                warn=True,
                failure_id=ids.OL_PPOLICY,
                hint="The password expires soon or grace logins are being used: set a new one.",
                facts=facts,
            )
        return Outcome(
            summary=f"password accepted for {dn}: saslauthd's LDAP part would say OK", detail=detail, facts=facts
        )

    def reproduce(ctx: HostContext) -> str:
        return f"{ctx.env_prefix()}ldapwhoami {ctx.ldap_args()} -D {shlex.quote(ctx.user_dn or '<user DN>')} -W"

    return Step(
        id="ldap.user_bind",
        title="User password bind",
        run=run,
        requires=frozenset({"ldap.user_search"}),
        reproduce=reproduce,
    )
