"""`validate`'s scan step: one paged pass over the user filter as the service account, plus side searches."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ldapcheck.adapters.errors import AdapterError
from ldapcheck.adapters.ldap.client import TRUNCATING_CODES, CountResult, WireClient
from ldapcheck.adapters.ldap.stream import stream_pages
from ldapcheck.auth.ldap import codes as ldapcodes
from ldapcheck.auth.ldap.directory.analysis import DirectoryScan, Findings, Problem, ScanPlan, scan_plan
from ldapcheck.auth.ldap.directory.filter import FilterSyntaxError, LoginFilter, derive
from ldapcheck.auth.ldap.directory.problems import LOGIN_UNREACHABLE
from ldapcheck.auth.ldap.directory.side import SideResult, SideSearches
from ldapcheck.auth.ldap.failures import failure
from ldapcheck.auth.ldap.host.context import HostContext
from ldapcheck.auth.ldap.host.directory import wire_client
from ldapcheck.core import catalogue as ids
from ldapcheck.core.step import CheckFailed, Outcome, Step

SCAN = "dir.scan"
# How long the scan waits for the next bytes of a page, as a multiple of --timeout (the wait for one lookup, as
# saslauthd's ldap_timeout). A page is not one lookup: an unindexed filter over a big directory (the side searches
# for locked or disabled accounts) may leave the socket silent while slapd walks many entries between two matches.
# Six lookups' worth keeps the former fixed 30 s at the default --timeout 5, and a user who asks for a short
# --timeout gets a scan that gives up on a silent server in proportion (6 s at --timeout 1).
SCAN_PAGE_FACTOR = 6.0


def scan_page_timeout(timeout: float) -> float:
    """The scan's wait for a page's next bytes, derived from --timeout (SCAN_PAGE_FACTOR)."""
    return timeout * SCAN_PAGE_FACTOR


@dataclass(frozen=True)
class ScanOutcome:
    """The scan's findings and how the search ended."""

    login: LoginFilter
    base: str
    findings: Findings
    result_code: int
    message: str
    seconds: float
    side: tuple[SideResult, ...] = ()

    @property
    def truncated(self) -> bool:
        """The server stopped early: every count is over the visible part only."""
        return self.result_code in TRUNCATING_CODES


def scan_outcome(ctx: HostContext) -> ScanOutcome:
    """The scan's value (the runner only runs dependants of a scan that passed or warned)."""
    value = ctx.values.get(SCAN)
    assert isinstance(value, ScanOutcome)
    return value


def _login_filter(ctx: HostContext) -> LoginFilter:
    try:
        return derive(ctx.settings.filter, ctx.settings.xmpp_domain)
    except FilterSyntaxError as exc:
        raise CheckFailed(ids.CL_FILTER, f"LDAP_FILTER cannot be analysed: {exc}", hint="Fix LDAP_FILTER.") from None


def scan_step(requires: frozenset[str], *, sample_size: int, keep: int) -> Step[HostContext]:
    """`dir.scan`: every entry the user filter (placeholder as a presence test) selects, in one paged pass."""

    def run(ctx: HostContext) -> Outcome:
        s = ctx.settings
        login = _login_filter(ctx)
        base = ctx.search_base()
        scan = DirectoryScan(login, keep=keep, sample_size=sample_size)
        done: list[CountResult] = []
        start = time.perf_counter()
        now = time.time()
        plan = scan_plan(login, active_directory=ctx.is_ad, now=now)

        def side_search() -> SideSearches:
            side_client = wire_client(ctx)
            side_client.set_timeout(scan_page_timeout(s.timeout))
            searches = SideSearches(
                side_client, base, plan.side, login.attr_names, now=now, keep=keep, page_size=ctx.options.page_size
            )
            searches.start()
            return searches

        side = None if plan.one_pass else side_search()
        try:
            with wire_client(ctx) as client:
                client.set_timeout(scan_page_timeout(s.timeout))
                _stream(ctx, client, scan, base, plan, done)
        except BaseException:
            if side is not None:
                side.stop()  # the side searches' socket closes; their thread ends at once
                side.join()
            raise
        end = done[0] if done else CountResult(scan.findings_.entries, 0, 0, -1, "no result")
        if side is None and end.result_code in TRUNCATING_CODES:
            # A size limit cut the one search short: the states and the entries without a login come from the side
            # search after all, which returns only those few entries and so stays exact under the limit.
            for kind in plan.side.kinds:
                scan.findings_.problems[kind.key] = Problem(kind)
            side = side_search()
        if side is not None:
            side.join()
            for result in side.results:
                scan.merge(result.problem)
            side_results = tuple(side.results)
        else:  # the scan's own entries answered the side search's question, with the scan's result code
            side_results = tuple(
                SideResult(scan.findings_.problems[kind.key], plan.filter, end.result_code) for kind in plan.side.kinds
            )
        found = scan.findings()
        outcome = ScanOutcome(
            login, base, found, end.result_code, end.message, time.perf_counter() - start, side_results
        )
        detail: dict[str, object] = {
            "base": base,
            "user_filter": login.presence,
            "side_searches": "; ".join(side_summary(r) for r in side_results),
            "login_attributes": list(login.attr_names),
            "entries_scanned": found.entries,
            "selected": found.selected,
            "login_values": found.login_values,
            "result_code": end.result_code,
            "pages": end.pages,
            "dedup_bytes": found.dedup_bytes,
        }
        if end.result_code not in (0, *TRUNCATING_CODES):
            raise CheckFailed(
                f"RC-{end.result_code}",
                f"the scan failed: {ldapcodes.result_name(end.result_code)} ({end.result_code}) {end.message}",
                hint="Check that the bind identity may search the base.",
                detail=detail,
            )
        summary = f"{found.selected} entries match {login.presence} under {base}"
        if not login.separable:
            summary += " (LDAP_FILTER negates the login; entries without the attribute are not checked)"
        if outcome.truncated:
            who = s.bind_dn or "anonymous"
            fix = (
                "On Active Directory raise MaxPageSize / the account's query policy"
                if ctx.is_ad
                else f'On OpenLDAP add olcLimits: dn.exact="{who}" size.prtotal=unlimited to the database'
            )
            code = end.result_code
            return Outcome(
                summary=f"the service account sees only {found.entries} entries: the server stopped at its limit "
                f"({TRUNCATING_CODES[code]}, {code}); duplicates and login values below cover only those",
                detail=detail,
                warn=True,
                failure_id=ids.RC_4 if code == 4 and ctx.is_ad else (ids.OL_SIZELIMIT if code == 4 else f"RC-{code}"),
                hint=f"{fix}, or run validate with a .env whose LDAP_BINDDN has no limit. Logins are not affected "
                "(saslauthd needs exactly one entry).",
                value=outcome,
            )
        unreachable = found.problem(LOGIN_UNREACHABLE)
        if found.selected == 0 and unreachable.count:
            raise CheckFailed(
                ids.SA_TOKENS,
                f"{unreachable.count} entries have {', '.join(login.attr_names)}, but no login typed in Jitsi can "
                f"match their values through LDAP_FILTER {s.filter} (e.g. {unreachable.examples[0]!r})",
                hint=LOGIN_UNREACHABLE.fix,
                detail=detail,
            )
        if found.selected == 0:
            raise CheckFailed(
                ids.SA_ENTRY_COUNT,
                f"no entry under {base} matches {login.presence}: saslauthd will find nobody",
                hint="LDAP_BASE is in the wrong subtree, or LDAP_FILTER's attribute doesn't match your users "
                "(AD: sAMAccountName, not uid), or the bind identity may not see them.",
                detail=detail,
            )
        return Outcome(summary=summary, detail=detail, value=outcome)

    return Step(
        id=SCAN,
        title="Users the filter selects",
        run=run,
        requires=requires,
        reproduce=lambda ctx: _reproduce(
            ctx, scan_plan(_login_filter(ctx), active_directory=ctx.is_ad, now=time.time())
        ),
    )


def side_summary(result: SideResult) -> str:
    """One side search in a few words (count, or why it was not checked)."""
    if result.result_code == -1:
        return f"{result.problem.kind.key}: not checked ({result.error or 'connection lost'})"
    if result.result_code not in (0, *TRUNCATING_CODES):
        return f"{result.problem.kind.key}: not checked ({ldapcodes.result_name(result.result_code)})"
    return f"{result.problem.kind.key} {'≥' if result.truncated else ''}{result.problem.count}"


def _reproduce(ctx: HostContext, plan: ScanPlan) -> str:
    return ctx.ldapsearch(
        ctx.settings.base, plan.filter, *plan.attributes, extra=f" -E pr={ctx.options.page_size}/noprompt"
    )


def _stream(
    ctx: HostContext, client: WireClient, scan: DirectoryScan, base: str, plan: ScanPlan, done: list[CountResult]
) -> None:
    """Feed every page of the paged scan to `scan`, with progress."""
    try:
        pages = stream_pages(
            client, base, plan.filter, plan.attributes, page_size=ctx.options.page_size, on_done=done.append
        )
        for data, offsets in pages:
            scan.feed_page(data, offsets)
            if ctx.progress is not None:
                ctx.progress(scan.findings_.entries)
    except (AdapterError, OSError) as exc:
        raise failure(
            exc,
            during=f"the directory scan stopped after {scan.findings_.entries} entries",
            hint="The server stopped answering during the search; check its health and rerun.",
        ) from None
