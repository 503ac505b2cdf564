"""The report model shared by every command: statuses, step results, verdicts, exit codes."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence

from ldapcheck.core.record import field, record


class Status(enum.StrEnum):
    """Outcome of one step. Order matters: later is worse (see `worst`)."""

    PASS = "pass"
    SKIP = "skip"
    WARN = "warn"
    FAIL = "fail"


_RANK = {Status.PASS: 0, Status.SKIP: 0, Status.WARN: 1, Status.FAIL: 2}


def worst(statuses: Sequence[Status]) -> Status:
    """The overall status of a run: fail > warn > pass; skips alone count as pass."""
    result = Status.PASS
    for status in statuses:
        if _RANK[status] > _RANK[result]:
            result = status
    return result


class ExitCode(enum.IntEnum):
    """Documented process exit codes (README, "Exit codes")."""

    OK = 0
    FAILED = 1
    USAGE = 2
    INTERNAL = 3
    INTERRUPTED = 130  # SIGINT (Ctrl-C)
    TERMINATED = 143  # SIGTERM


@record(kw_only=True)
class StepResult:
    """What one step of a chain saw, and what to do about it."""

    id: str
    title: str
    status: Status
    duration_ms: float = 0.0
    summary: str = ""
    detail: Mapping[str, object] = field(default_factory=dict)
    failure_id: str | None = None
    hint: str = ""
    reproduce: str = ""
    # Structured evidence for the verdict (keys in ldapcheck.core.facts); `detail` is for people.
    facts: Mapping[str, object] = field(default_factory=dict)


@record(kw_only=True)
class Verdict:
    """The most likely cause of a failed login, with the facts that support it; or that the login works.

    `failure_id` is None for a working login. `recreate` says whether the advice includes recreating prosody
    (never when that would replace a working container with a broken `.env`); `later` is the failure id the
    `.env` would bring after a recreate, when it differs from today's.
    """

    cause: str
    failure_id: str | None
    facts: Sequence[str] = ()
    hint: str = ""
    recreate: bool = False
    later: str | None = None


@record(frozen=False, kw_only=True)
class Report:
    """A run of steps, as rendered by `ldapcheck.report`.

    `secrets` never leaves the process: every renderer masks these values in its output
    as a last line of defence (steps are written not to include them in the first place).
    """

    command: str
    steps: list[StepResult] = field(default_factory=list)
    verdict: Verdict | None = None
    meta: dict[str, object] = field(default_factory=dict)
    secrets: frozenset[str] = field(default_factory=frozenset, repr=False)
    internal_error: bool = False

    @property
    def status(self) -> Status:
        """Overall status; a run in which nothing ran is not a pass."""
        if not self.steps:
            return Status.FAIL
        return worst([s.status for s in self.steps])

    def exit_code(self) -> ExitCode:
        """Exit code for this report (3 wins over 1: a bug must not look like a finding)."""
        if self.internal_error:
            return ExitCode.INTERNAL
        return ExitCode.FAILED if self.status is Status.FAIL else ExitCode.OK

    def step(self, step_id: str) -> StepResult | None:
        """The result of a step by id, if it ran."""
        return next((s for s in self.steps if s.id == step_id), None)
