"""Run an ordered chain of steps: time each, turn domain errors into failed steps, skip dependants.

A step never calls another step; it declares what it `requires`, and only the runner decides to skip.
Values a step hands to its dependants go into `ctx.values[step_id]`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from ldapcheck.errors import CheckFailed, LdapCheckError
from ldapcheck.model import Status, StepResult

log = logging.getLogger(__name__)

INTERNAL_FAILURE = "LDAPCHECK-INTERNAL"


class HasValues(Protocol):
    """A context the runner can hand step values through."""

    values: dict[str, object]


C = TypeVar("C", bound=HasValues)


class StepSkipped(LdapCheckError):
    """Raised by a step that does not apply to this configuration (e.g. TLS on plain ldap://)."""


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What a passing (or warning) step returns."""

    summary: str
    detail: Mapping[str, object] = field(default_factory=dict)
    warn: bool = False
    failure_id: str | None = None
    hint: str = ""
    reproduce: str = ""
    value: object = None


@dataclass(frozen=True, kw_only=True)
class Step(Generic[C]):
    """One link of a chain. `run` returns an Outcome or raises CheckFailed / StepSkipped."""

    id: str
    title: str
    run: Callable[[C], Outcome]
    requires: frozenset[str] = frozenset()
    reproduce: Callable[[C], str] | None = None


def run_steps(
    steps: Iterable[Step[C]],
    ctx: C,
    *,
    on_result: Callable[[StepResult], None] | None = None,
    on_start: Callable[[Step[C]], None] | None = None,
    background_ms: Callable[[], float] | None = None,
) -> tuple[list[StepResult], bool]:
    """Run `steps` in order. Returns the results and whether an unexpected error (a bug) occurred.

    `background_ms`, called after each step, returns the time of prefetched work that step consumed
    (done in another thread while earlier steps ran), so its duration is that of its work, not ~0 ms.
    """
    results: dict[str, StepResult] = {}
    ordered: list[StepResult] = []
    internal = False
    for step in steps:
        if on_start is not None:
            on_start(step)
        result, bug = _run_one(step, ctx, results)
        if background_ms is not None:
            extra = background_ms()
            if extra and result.status is not Status.SKIP:
                result = _with_duration(result, result.duration_ms + extra)
        internal = internal or bug
        results[step.id] = result
        ordered.append(result)
        if on_result is not None:
            on_result(result)
    return ordered, internal


def _blocked_by(step: Step[C], results: Mapping[str, StepResult]) -> str | None:
    for req in sorted(step.requires):
        prior = results.get(req)
        if prior is None:
            return f"requires {req}, which did not run"
        if prior.status in (Status.FAIL, Status.SKIP):
            return f"skipped: {req} {'failed' if prior.status is Status.FAIL else 'was skipped'}"
    return None


def _run_one(step: Step[C], ctx: C, results: Mapping[str, StepResult]) -> tuple[StepResult, bool]:
    reason = _blocked_by(step, results)
    if reason is not None:
        return StepResult(id=step.id, title=step.title, status=Status.SKIP, summary=reason), False
    reproduce = _reproduce(step, ctx)
    start = time.perf_counter()
    bug = False
    try:
        outcome = step.run(ctx)
    except StepSkipped as exc:
        result = StepResult(id=step.id, title=step.title, status=Status.SKIP, summary=str(exc))
    except CheckFailed as exc:
        result = StepResult(
            id=step.id,
            title=step.title,
            status=Status.FAIL,
            summary=exc.message,
            detail=exc.detail,
            failure_id=exc.failure_id,
            hint=exc.hint,
            reproduce=exc.reproduce or reproduce,
        )
    except LdapCheckError as exc:
        result = StepResult(id=step.id, title=step.title, status=Status.FAIL, summary=str(exc), reproduce=reproduce)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # a bug in ldapcheck: keep the report, exit 3
        log.debug("step %s crashed", step.id, exc_info=True)
        bug = True
        result = StepResult(
            id=step.id,
            title=step.title,
            status=Status.FAIL,
            summary=f"internal error: {type(exc).__name__}",
            failure_id=INTERNAL_FAILURE,
            hint="This is a bug in ldapcheck; rerun with --debug and report it.",
        )
    else:
        ctx.values[step.id] = outcome.value
        result = StepResult(
            id=step.id,
            title=step.title,
            status=Status.WARN if outcome.warn else Status.PASS,
            summary=outcome.summary,
            detail=outcome.detail,
            failure_id=outcome.failure_id,
            hint=outcome.hint,
            reproduce=outcome.reproduce or reproduce,
        )
    elapsed = (time.perf_counter() - start) * 1000
    return _with_duration(result, elapsed), bug


def _with_duration(result: StepResult, ms: float) -> StepResult:
    from dataclasses import replace

    return replace(result, duration_ms=round(ms, 1))


def _reproduce(step: Step[C], ctx: C) -> str:
    if step.reproduce is None:
        return ""
    try:
        return step.reproduce(ctx)
    except Exception:  # a reproduce line is a courtesy; never let it break the step
        log.debug("reproduce for %s failed", step.id, exc_info=True)
        return ""
