"""`validate`'s directory steps: one streaming scan as the service account, then one step per problem kind."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ldapcheck import ldapcodes, saslfilter
from ldapcheck.adapters import ldapwire
from ldapcheck.adapters.fastcount import TRUNCATING_CODES, CountResult, WireError
from ldapcheck.adapters.stream import search_many, stream_entries
from ldapcheck.checks.directory import DirectoryScan, Findings, Problem, scan_attributes
from ldapcheck.checks.directory_filter import FALLBACK_OBJECT_FILTER, FilterSyntaxError, LoginFilter, derive
from ldapcheck.checks.directory_rules import (
    ACCOUNT_KINDS,
    DUPLICATE,
    LOGIN_KINDS,
    LOGIN_UNREACHABLE,
    NO_LOGIN_ATTR,
    Level,
)
from ldapcheck.checks.host_context import HostContext
from ldapcheck.checks.host_directory import _wire_client
from ldapcheck.errors import CheckFailed
from ldapcheck.runner import Outcome, Step

SCAN = "dir.scan"
Mask = Callable[[str], str]
SHOWN = 5  # examples in a step's detail; the JSON report has the full lists
PROGRESS_EVERY = 1024
# A page of 1000 entries on a busy directory may take longer than saslauthd's 5 s for one lookup.
SCAN_PAGE_TIMEOUT = 30.0


@dataclass(frozen=True)
class ScanOutcome:
    """The scan's findings and how the search ended."""

    login: LoginFilter
    base: str
    findings: Findings
    result_code: int
    message: str
    seconds: float

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
        raise CheckFailed("CL-FILTER", f"LDAP_FILTER cannot be analysed: {exc}", hint="Fix LDAP_FILTER.") from None


def scan_step(requires: frozenset[str], *, sample_size: int, keep: int) -> Step[HostContext]:
    """`dir.scan`: every entry the user filter (placeholder as a presence test) selects, in one paged pass."""

    def run(ctx: HostContext) -> Outcome:
        s = ctx.settings
        login = _login_filter(ctx)
        base = saslfilter.expand(s.base, "", realm=s.xmpp_domain)
        scan = DirectoryScan(login, keep=keep, sample_size=sample_size)
        done: list[CountResult] = []
        start = time.perf_counter()
        with _wire_client(ctx) as client:
            client.sock.settimeout(max(s.timeout, SCAN_PAGE_TIMEOUT))
            try:
                stream = stream_entries(
                    client,
                    base,
                    login.scan,
                    scan_attributes(login),
                    page_size=ctx.options.page_size,
                    on_done=done.append,
                )
                for dn, attrs in stream:
                    scan.feed(dn, attrs)
                    if ctx.progress is not None and scan.findings_.entries % PROGRESS_EVERY == 0:
                        ctx.progress(scan.findings_.entries)
            except (OSError, WireError, ldapwire.BerError) as exc:
                raise CheckFailed(
                    "NET-TIMEOUT" if isinstance(exc, TimeoutError) else "LDAP-SERVER-DOWN",
                    f"the directory scan stopped after {scan.findings_.entries} entries: {exc}",
                    hint="The server stopped answering during the search; check its health and rerun.",
                ) from None
        end = done[0] if done else CountResult(scan.findings_.entries, 0, 0, -1, "no result")
        found = scan.findings()
        outcome = ScanOutcome(login, base, found, end.result_code, end.message, time.perf_counter() - start)
        detail: dict[str, object] = {
            "base": base,
            "user_filter": login.presence,
            "scan_filter": login.scan,
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
                f"({TRUNCATING_CODES[code]}, {code}); {summary} among them, every count below covers only those",
                detail=detail,
                warn=True,
                failure_id="RC-4" if code == 4 and ctx.is_ad else ("OL-SIZELIMIT" if code == 4 else f"RC-{code}"),
                hint=f"{fix}, or run validate with a .env whose LDAP_BINDDN has no limit. Logins are not affected "
                "(saslauthd needs exactly one entry).",
                value=outcome,
            )
        unreachable = found.problem(LOGIN_UNREACHABLE)
        if found.selected == 0 and unreachable.count:
            raise CheckFailed(
                "SA-TOKENS",
                f"{unreachable.count} entries have {', '.join(login.attr_names)}, but no login typed in Jitsi can "
                f"match their values through LDAP_FILTER {s.filter} (e.g. {unreachable.examples[0]!r})",
                hint=LOGIN_UNREACHABLE.fix,
                detail=detail,
            )
        if found.selected == 0:
            raise CheckFailed(
                "SA-ENTRY-COUNT",
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
        reproduce=lambda ctx: ctx.ldapsearch(
            ctx.settings.base,
            _login_filter(ctx).scan,
            *_login_filter(ctx).attr_names,
            extra=" -E pr=1000/noprompt",
        ),
    )


def _same(text: str) -> str:
    return text


def _examples(problem: Problem, mask: Mask) -> list[str]:
    return [mask(x) for x in problem.examples[:SHOWN]]


def _problem_outcome(problem: Problem, scope: str, mask: Mask, extra: dict[str, object] | None = None) -> Outcome:
    kind = problem.kind
    detail: dict[str, object] = {"count": problem.count, "examples": _examples(problem, mask), **(extra or {})}
    if problem.count == 0:
        return Outcome(summary=f"none {scope}".strip(), detail={"count": 0})
    text = f"{kind.title}: {problem.count}{scope and ' ' + scope}"
    if kind.level is Level.ERROR:
        raise CheckFailed(kind.failure_id, text, hint=kind.fix, detail=detail)
    return Outcome(
        summary=text,
        detail=detail,
        warn=True,
        failure_id=kind.failure_id,
        hint=kind.fix,
    )


def _scope(outcome: ScanOutcome) -> str:
    return f"(among the {outcome.findings.entries} visible entries)" if outcome.truncated else ""


def duplicates_step(mask: Mask = _same) -> Step[HostContext]:
    """`dir.duplicates`: login values that select more than one entry; the first ones are resolved to DNs."""

    def run(ctx: HostContext) -> Outcome:
        outcome = scan_outcome(ctx)
        found = outcome.findings
        problem = found.problem(DUPLICATE)
        extra: dict[str, object] = {"entries_involved": found.duplicate_entries}
        if problem.count:
            s = ctx.settings
            shown = found.duplicates[:SHOWN]
            requests = [saslfilter.via_testsaslauthd(d.login, s.filter, s.base, s.xmpp_domain) for d in shown]
            looked_up = _lookup(ctx, [(r.base, saslfilter.wrapped(r.filter)) for r in requests], limit=10)
            extra["dns"] = [f"{mask(d.login)} → {'; '.join(dns)}" for d, (dns, _) in zip(shown, looked_up, strict=True)]
        return _problem_outcome(problem, _scope(outcome), mask, extra)

    return Step(id="dir.duplicates", title="Logins that select one entry", run=run, requires=frozenset({SCAN}))


def missing_attr_step() -> Step[HostContext]:
    """`dir.no_login_attr`: entries of the filter's object class without the login attribute."""

    def run(ctx: HostContext) -> Outcome:
        outcome = scan_outcome(ctx)
        if not outcome.login.separable:
            return Outcome(summary="not checked: LDAP_FILTER's login part cannot be separated from its object part")
        scope = f"matching {outcome.login.object_part or FALLBACK_OBJECT_FILTER}"
        scope += " " + _scope(outcome) if outcome.truncated else ""
        return _problem_outcome(outcome.findings.problem(NO_LOGIN_ATTR), scope, _same)

    return Step(id="dir.no_login_attr", title="Entries with a login attribute", run=run, requires=frozenset({SCAN}))


def login_value_steps(mask: Mask = _same) -> list[Step[HostContext]]:
    """`dir.login.*`: one step per kind of login value that cannot work (or is fragile) through Jitsi."""
    steps: list[Step[HostContext]] = []
    for kind in LOGIN_KINDS:

        def run(ctx: HostContext, kind_key: str = kind.key) -> Outcome:
            outcome = scan_outcome(ctx)
            return _problem_outcome(outcome.findings.problems[kind_key], _scope(outcome), mask)

        title = kind.title[0].upper() + kind.title[1:]
        steps.append(Step(id=f"dir.login.{kind.key}", title=title, run=run, requires=frozenset({SCAN})))
    return steps


def accounts_step(mask: Mask = _same) -> Step[HostContext]:
    """`dir.accounts`: disabled, locked and expired accounts, counted per state."""

    def run(ctx: HostContext) -> Outcome:
        outcome = scan_outcome(ctx)
        problems = [outcome.findings.problem(k) for k in ACCOUNT_KINDS]
        seen = [p for p in problems if p.count]
        if not seen:
            return Outcome(summary=f"none disabled, locked or expired (where the directory shows it) {_scope(outcome)}")
        detail: dict[str, object] = {p.kind.key: f"{p.count}: {', '.join(_examples(p, mask))}" for p in seen}
        worst = max(seen, key=lambda p: p.count)
        return Outcome(
            summary="; ".join(f"{p.kind.title}: {p.count}" for p in seen) + (" " + _scope(outcome)).rstrip(),
            detail=detail,
            warn=True,
            failure_id=worst.kind.failure_id,
            hint=" ".join(p.kind.fix for p in seen),
        )

    return Step(id="dir.accounts", title="Account states", run=run, requires=frozenset({SCAN}))


@dataclass(frozen=True)
class SampleResult:
    """One login looked up as saslauthd would."""

    typed: str
    filter: str
    base: str
    entries: int
    result_code: int


def sample_step(users: Sequence[str] | None, mask: Mask = _same) -> Step[HostContext]:
    """`dir.sample`: each sampled (or listed) login resolves to exactly one entry through saslauthd's filter."""

    def run(ctx: HostContext) -> Outcome:
        s = ctx.settings
        if users is not None:
            logins, source = list(users), "listed"
        else:
            logins, source = scan_outcome(ctx).findings.sample, "sampled"
        if not logins:
            return Outcome(summary="no logins to look up")
        requests = [saslfilter.via_prosody(typed, s.filter, s.base, s.xmpp_domain) for typed in logins]
        looked_up = _lookup(ctx, [(r.base, saslfilter.wrapped(r.filter)) for r in requests], limit=2)
        results = [
            SampleResult(r.typed, r.filter, r.base, len(dns), code)
            for r, (dns, code) in zip(requests, looked_up, strict=True)
        ]
        bad = [r for r in results if r.entries != 1]
        ctx.values["dir.sample.results"] = results
        detail: dict[str, object] = {
            "checked": len(results),
            "not_exactly_one": [f"{mask(r.typed)}: {_why(r)} ({r.filter})" for r in bad[:SHOWN]],
        }
        if bad:
            raise CheckFailed(
                "SA-ENTRY-COUNT",
                f"{len(bad)} of {len(results)} {source} logins do not resolve to exactly one entry",
                hint="saslauthd needs exactly one entry per login: fix the duplicates / missing values listed, "
                "or narrow LDAP_FILTER / LDAP_BASE.",
                detail=detail,
            )
        return Outcome(summary=f"all {len(results)} {source} logins resolve to exactly one entry", detail=detail)

    return Step(id="dir.sample", title="Logins resolve as saslauthd does", run=run, requires=frozenset({SCAN}))


def _lookup(ctx: HostContext, searches: list[tuple[str, str]], *, limit: int) -> list[tuple[list[str], int]]:
    """Many small searches as the service account, pipelined on one connection."""
    with _wire_client(ctx) as client:
        try:
            return search_many(client, searches, size_limit=limit)
        except (OSError, WireError, ldapwire.BerError) as exc:
            raise CheckFailed(
                "NET-TIMEOUT" if isinstance(exc, TimeoutError) else "LDAP-SERVER-DOWN",
                f"looking up logins stopped: {exc}",
                hint="The server stopped answering; check its health and rerun.",
            ) from None


def _why(result: SampleResult) -> str:
    if result.result_code not in (0, 4):
        return f"search failed ({ldapcodes.result_name(result.result_code)})"
    return "no entry" if result.entries == 0 else "more than one entry"
