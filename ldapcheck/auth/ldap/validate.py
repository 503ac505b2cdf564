"""`ldapcheck validate`: the host connection steps, then the directory-wide checks, as one report with a summary."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ldapcheck.adapters.ldap.client import DEFAULT_PAGE
from ldapcheck.auth.ldap import chain
from ldapcheck.auth.ldap.directory import scan as dscan
from ldapcheck.auth.ldap.directory import security
from ldapcheck.auth.ldap.directory import steps as dsteps
from ldapcheck.auth.ldap.directory.analysis import DEFAULT_KEEP
from ldapcheck.auth.ldap.directory.problems import ALL_KINDS, mask_login
from ldapcheck.auth.ldap.failures import guarded
from ldapcheck.auth.ldap.host.context import ChainOptions, HostContext
from ldapcheck.auth.ldap.settings import Settings
from ldapcheck.core import catalogue as ids
from ldapcheck.core.model import Report, Status, StepResult, Verdict
from ldapcheck.core.runner import run_steps
from ldapcheck.core.secrets import Secret
from ldapcheck.core.step import Step

# Host steps the directory steps need: the service bind and the base (ldap.base requires the rest of the chain).
DIRECTORY_REQUIRES = frozenset({"ldap.base"})
SUMMARY_EXAMPLES = 5


@dataclass(frozen=True, kw_only=True)
class ValidateOptions:
    """What `validate` was asked for."""

    sample: int = 20
    users: tuple[str, ...] | None = None  # logins from --users-file (replace the sample)
    keep: int = DEFAULT_KEEP  # full lists in the JSON keep at most this many per problem
    page_size: int = DEFAULT_PAGE  # as large as the server allows (client.DEFAULT_PAGE; bench/README.md)
    sanitize: bool = False
    compare_bind_dn: str = ""  # count the users as this identity too (an admin) to find what ACLs hide
    compare_password: Secret | None = field(default=None, repr=False)


def _identity(text: str) -> str:
    return text


def validate_steps(settings: Settings, options: ValidateOptions) -> list[Step[HostContext]]:
    """The host chain without its separate count (the scan counts), then the directory and security steps."""
    mask = mask_login if options.sanitize else _identity
    host = chain.diagnose_steps(settings, ChainOptions(count=False, page_size=options.page_size, wire=True))
    compare: list[Step[HostContext]] = []
    if options.compare_bind_dn:
        compare.append(security.visibility_step(options.compare_bind_dn, options.compare_password or Secret("")))
    return [
        *host,
        dscan.scan_step(DIRECTORY_REQUIRES, sample_size=options.sample, keep=options.keep),
        *compare,
        dsteps.duplicates_step(mask),
        dsteps.missing_attr_step(),
        *dsteps.login_value_steps(mask),
        dsteps.accounts_step(mask),
        dsteps.sample_step(options.users, mask),
        security.transport_step(),
        security.anonymous_step(),
        security.password_attrs_step(),
    ]


def run_validate(
    settings: Settings,
    options: ValidateOptions,
    *,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Run every step and build the report: per-problem summary and full lists in `meta`."""
    ctx = HostContext(
        settings=settings, options=ChainOptions(count=False, page_size=options.page_size, wire=True), progress=progress
    )
    try:
        results, internal = run_steps([guarded(s) for s in validate_steps(settings, options)], ctx)
    finally:
        ctx.close()
    scan = ctx.values.get(dscan.SCAN)
    meta: dict[str, object] = {"servers": [s.url for s in settings.servers], "filter": settings.filter}
    if isinstance(scan, dscan.ScanOutcome):
        mask = mask_login if options.sanitize else _identity
        meta["summary"] = summary(scan, results, mask)
        meta["directory"] = full_lists(scan, ctx.values.get("dir.sample.results"), mask)
    return Report(
        command="validate",
        steps=results,
        verdict=headline(meta["summary"], results)
        if "summary" in meta
        else chain.verdict_of(results, judge_success=False),
        meta=meta,
        secrets=settings.secrets() | _revealed(options.compare_password),
        internal_error=internal,
    )


def summary(scan: dscan.ScanOutcome, results: Sequence[StepResult], mask: Callable[[str], str]) -> list[object]:
    """One line per problem found: count, level, a few examples, the fix (what an admin acts on)."""
    found = scan.findings
    lines: list[object] = []
    for kind in ALL_KINDS:
        problem = found.problem(kind)
        if problem.count:
            lines.append(
                {
                    "problem": kind.key,
                    "title": kind.title,
                    "failure_id": kind.failure_id,
                    "level": kind.level.value,
                    "count": problem.count,
                    "examples": [mask(x) for x in problem.examples[:SUMMARY_EXAMPLES]],
                    "fix": kind.fix,
                }
            )
    for result in results:
        if result.id.startswith(("sec.", "dir.sample")) and result.status in (Status.WARN, Status.FAIL):
            lines.append(
                {
                    "problem": result.id,
                    "title": result.summary,
                    "failure_id": result.failure_id,
                    "level": "error" if result.status is Status.FAIL else "warning",
                    "count": None,
                    "examples": [],
                    "fix": result.hint,
                }
            )
    scan_step = next((r for r in results if r.id == dscan.SCAN), None)
    if scan.truncated and scan_step is not None:
        lines.insert(
            0,
            {
                "problem": "truncated",
                "title": f"entries visible before the server's limit (code {scan.result_code}); "
                "duplicate and login-value counts cover only them",
                "failure_id": scan_step.failure_id,
                "level": "warning",
                "count": found.entries,
                "examples": [],
                "fix": "Counts cover only the entries the server returned before its limit; see dir.scan.",
            },
        )
    return lines


def full_lists(scan: dscan.ScanOutcome, sample: object, mask: Callable[[str], str]) -> dict[str, object]:
    """Every count and (up to `keep`) every example, for --json."""
    found = scan.findings
    problems: dict[str, object] = {}
    for key, problem in found.problems.items():
        problems[key] = {
            "failure_id": problem.kind.failure_id,
            "count": problem.count,
            "complete": problem.complete,
            "items": [mask(x) for x in problem.examples],
        }
    problems["duplicate-login"] = {
        "failure_id": ids.SA_ENTRY_COUNT,
        "count": found.duplicate_logins,
        "entries_involved": found.duplicate_entries,
        "complete": len(found.duplicates) == found.duplicate_logins,
        "items": [{"login": mask(d.login), "entries": d.entries} for d in found.duplicates],
    }
    samples = sample if isinstance(sample, list) else []
    return {
        "base": scan.base,
        "user_filter": scan.login.presence,
        "scan_filter": scan.login.scan,
        "entries_scanned": found.entries,
        "selected": found.selected,
        "login_values": found.login_values,
        "truncated": scan.truncated,
        "result_code": scan.result_code,
        "scan_seconds": round(scan.seconds, 3),
        "dedup_bytes": found.dedup_bytes,
        "problems": problems,
        "sample": [
            {"login": mask(r.typed), "filter": r.filter, "entries": r.entries, "result_code": r.result_code}
            for r in samples
            if isinstance(r, dsteps.SampleResult)
        ],
    }


def headline(lines: object, results: Sequence[StepResult]) -> Verdict | None:
    """The summary on top of the text and Markdown reports: each problem with its count and examples."""
    if not isinstance(lines, list) or not lines:
        return None
    errors = [r for r in results if r.status is Status.FAIL]
    warnings = [r for r in results if r.status is Status.WARN]
    facts = []
    for line in lines:
        if not isinstance(line, dict):
            continue
        count = "" if line["count"] is None else f": {line['count']}"
        examples = f" (e.g. {', '.join(line['examples'])})" if line["examples"] else ""
        facts.append(f"{line['level']}: {line['title']}{count}{examples} [{line['failure_id']}]")
    first = errors[0] if errors else (warnings[0] if warnings else None)
    return Verdict(
        cause=f"{len(errors)} check(s) failed, {len(warnings)} warning(s): "
        + ("some users cannot log in" if errors else "logins work, with caveats"),
        failure_id=(first.failure_id if first and first.failure_id else "VALIDATE"),
        facts=facts,
        hint="Each step below gives the fix; --json lists every affected login.",
    )


def _revealed(secret: Secret | None) -> frozenset[str]:
    return frozenset({secret.reveal()}) if secret else frozenset()
