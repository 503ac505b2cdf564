"""`validate`'s per-problem steps: each reads the scan's findings; the sample step looks logins up as saslauthd."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ldapcheck.adapters.ldap.client import TRUNCATING_CODES
from ldapcheck.adapters.ldap.stream import search_many
from ldapcheck.auth.ldap import codes as ldapcodes
from ldapcheck.auth.ldap import saslfilter
from ldapcheck.auth.ldap.directory.analysis import Problem
from ldapcheck.auth.ldap.directory.filter import FALLBACK_OBJECT_FILTER
from ldapcheck.auth.ldap.directory.problems import (
    ACCOUNT_KINDS,
    DUPLICATE,
    LOGIN_KINDS,
    NO_LOGIN_ATTR,
    Level,
    ProblemKind,
)
from ldapcheck.auth.ldap.directory.scan import SCAN, ScanOutcome, scan_outcome, side_summary
from ldapcheck.auth.ldap.directory.side import SideResult
from ldapcheck.auth.ldap.failures import classified
from ldapcheck.auth.ldap.host.context import HostContext
from ldapcheck.auth.ldap.host.directory import wire_client
from ldapcheck.core import catalogue as ids
from ldapcheck.core.step import CheckFailed, Outcome, Step

Mask = Callable[[str], str]
SHOWN = 5  # examples in a step's detail; the JSON report has the full lists


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


def _count(result: SideResult) -> str:
    return f"{'≥' if result.truncated else ''}{result.problem.count}"


def _side(outcome: ScanOutcome, kind: ProblemKind) -> SideResult | None:
    return next((r for r in outcome.side if r.problem.kind is kind), None)


def _side_scope(result: SideResult | None) -> str:
    if result is not None and result.truncated:
        return "(at least: the server stopped at its limit)"
    return ""


def missing_attr_step() -> Step[HostContext]:
    """`dir.no_login_attr`: entries of the filter's object class without the login attribute."""

    def run(ctx: HostContext) -> Outcome:
        outcome = scan_outcome(ctx)
        side = _side(outcome, NO_LOGIN_ATTR)
        if not outcome.login.separable or side is None:
            return Outcome(summary="not checked: LDAP_FILTER's login part cannot be separated from its object part")
        if side.result_code not in (0, *TRUNCATING_CODES):
            return Outcome(summary=f"not checked: {side_summary(side)}", warn=True, failure_id=ids.DIR_NOT_CHECKED)
        scope = f"matching {outcome.login.object_part or FALLBACK_OBJECT_FILTER} {_side_scope(side)}".strip()
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
    """`dir.accounts`: disabled, locked and expired accounts, counted per state (server-side searches)."""

    def run(ctx: HostContext) -> Outcome:
        outcome = scan_outcome(ctx)
        checked = [r for r in outcome.side if r.problem.kind in ACCOUNT_KINDS]
        failed = [r for r in checked if r.result_code not in (0, *TRUNCATING_CODES)]
        seen = [r for r in checked if r.problem.count]
        detail: dict[str, object] = {
            r.problem.kind.key: f"{_count(r)}: {', '.join(_examples(r.problem, mask))}" for r in seen
        }
        if failed:
            detail["not_checked"] = [side_summary(r) for r in failed]
        if not seen:
            states = ", ".join(r.problem.kind.key for r in checked if r not in failed) or "nothing"
            return Outcome(
                summary=f"none found (checked: {states})",
                detail=detail,
                warn=bool(failed),
                failure_id=ids.DIR_NOT_CHECKED if failed else None,
            )
        worst = max(seen, key=lambda r: r.problem.count)
        return Outcome(
            summary="; ".join(f"{r.problem.kind.title}: {_count(r)}" for r in seen),
            detail=detail,
            warn=True,
            failure_id=worst.problem.kind.failure_id,
            hint=" ".join(r.problem.kind.fix for r in seen),
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
                ids.SA_ENTRY_COUNT,
                f"{len(bad)} of {len(results)} {source} logins do not resolve to exactly one entry",
                hint="saslauthd needs exactly one entry per login: fix the duplicates / missing values listed, "
                "or narrow LDAP_FILTER / LDAP_BASE.",
                detail=detail,
            )
        return Outcome(summary=f"all {len(results)} {source} logins resolve to exactly one entry", detail=detail)

    return Step(id="dir.sample", title="Logins resolve as saslauthd does", run=run, requires=frozenset({SCAN}))


def _lookup(ctx: HostContext, searches: list[tuple[str, str]], *, limit: int) -> list[tuple[list[str], int]]:
    """Many small searches as the service account, pipelined on one connection."""
    hint = "The server stopped answering; check its health and rerun."
    with wire_client(ctx) as client, classified(during="looking up logins stopped", hint=hint):
        return search_many(client, searches, size_limit=limit)


def _why(result: SampleResult) -> str:
    if result.result_code not in (0, 4):
        return f"search failed ({ldapcodes.result_name(result.result_code)})"
    return "no entry" if result.entries == 0 else "more than one entry"
