"""The verdict engine: structured evidence in, the most likely cause out; the rules are passed in.

A rule is a pure function of the step results (their ids, statuses, failure ids and `facts`), never of their
text. Rules are tried in order, most specific first; the first that returns a Verdict wins. A mode's last rule
usually says that a login works (a Verdict with no failure id).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ldapcheck.core.model import Status, StepResult, Verdict

Rule = Callable[["Evidence"], Verdict | None]


class Evidence:
    """Lookups over one run's results (host steps and container steps alike)."""

    def __init__(self, results: Sequence[StepResult], *, login: str | None = None) -> None:
        self.results = list(results)
        self.by_id = {r.id: r for r in results}
        self.login = login  # the login that was tried, if any

    def get(self, step_id: str) -> StepResult | None:
        """A result by id."""
        return self.by_id.get(step_id)

    def failed(self, step_id: str) -> StepResult | None:
        """The result if that step failed."""
        r = self.by_id.get(step_id)
        return r if r is not None and r.status is Status.FAIL else None

    def passed(self, step_id: str) -> bool:
        """Whether that step ran and passed (or warned)."""
        r = self.by_id.get(step_id)
        return r is not None and r.status in (Status.PASS, Status.WARN)

    def failures(self, prefix: str = "") -> list[StepResult]:
        """Failed steps whose id starts with `prefix`."""
        return [r for r in self.results if r.status is Status.FAIL and r.id.startswith(prefix)]

    def with_id(self, *failure_ids: str) -> list[StepResult]:
        """Failed steps carrying one of these catalogue ids."""
        return [r for r in self.results if r.status is Status.FAIL and r.failure_id in failure_ids]

    def detail(self, step_id: str, key: str) -> str:
        """A detail value as text ("" if absent)."""
        r = self.by_id.get(step_id)
        return str(r.detail.get(key, "")) if r is not None else ""

    def fact(self, step_id: str, key: str) -> object:
        """A structured fact of a step (None if the step did not run or did not record it)."""
        r = self.by_id.get(step_id)
        return r.facts.get(key) if r is not None else None


def fact_line(r: StepResult) -> str:
    """How a step is cited among a verdict's facts."""
    return f"{r.id}: {r.summary}"


def decide(results: Sequence[StepResult], rules: Sequence[Rule], *, login: str | None = None) -> Verdict | None:
    """The first verdict a rule gives for this run (None when no rule speaks)."""
    ev = Evidence(results, login=login)
    for rule in rules:
        found = rule(ev)
        if found is not None:
            return found
    return None
