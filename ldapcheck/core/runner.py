"""Run steps: order them by `requires`, time each, turn domain errors into failed steps, skip dependants.

Several phases (the host chain, then the container chain) share one `Run`, so a later phase can require, and
its verdict can see, the results of an earlier one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence

from ldapcheck.core.catalogue import LDAPCHECK_INTERNAL
from ldapcheck.core.errors import LdapCheckError
from ldapcheck.core.model import Status, StepResult
from ldapcheck.core.record import replace
from ldapcheck.core.step import C, CheckFailed, Step, StepSkipped


def _log_debug(message: str, *args: object) -> None:
    """A debug record with the current exception (logging is imported only then: ~4 ms of every start-up)."""
    import logging

    logging.getLogger(__name__).debug(message, *args, exc_info=True)


def ordered(steps: Sequence[Step[C]]) -> list[Step[C]]:
    """Steps in an order where each comes after the steps of this list it requires.

    Stable: a step keeps its place unless a requirement listed after it must move ahead. Requirements that are
    not in the list (an earlier phase's steps) and cycles do not reorder anything; the runner reports them.
    """
    ids = {s.id for s in steps}
    done: set[str] = set()
    pending = list(steps)
    out: list[Step[C]] = []
    while pending:
        ready = next((s for s in pending if all(r in done or r not in ids for r in s.requires)), pending[0])
        pending.remove(ready)
        done.add(ready.id)
        out.append(ready)
    return out


class Run:
    """The results of one command, over one or more phases of steps."""

    def __init__(self, *, on_result: Callable[[StepResult], None] | None = None) -> None:
        self.results: dict[str, StepResult] = {}
        self.ordered: list[StepResult] = []
        self.internal = False
        self._on_result = on_result

    def passed(self, step_id: str) -> bool:
        """Whether that step ran and passed (or warned)."""
        r = self.results.get(step_id)
        return r is not None and r.status in (Status.PASS, Status.WARN)

    def phase(
        self,
        steps: Iterable[Step[C]],
        ctx: C,
        *,
        background_ms: Callable[[], float] | None = None,
    ) -> list[StepResult]:
        """Run `steps` (ordered by `requires`) against `ctx`; returns this phase's results.

        `background_ms`, called after each step, returns the time of prefetched work that step consumed
        (done in another thread while earlier steps ran), so its duration is that of its work, not ~0 ms.
        """
        mine: list[StepResult] = []
        for step in ordered(list(steps)):
            result, bug = _run_one(step, ctx, self.results)
            if background_ms is not None:
                extra = background_ms()
                if extra and result.status is not Status.SKIP:
                    result = replace(result, duration_ms=round(result.duration_ms + extra, 1))
            self.internal = self.internal or bug
            self.results[step.id] = result
            self.ordered.append(result)
            mine.append(result)
            if self._on_result is not None:
                self._on_result(result)
        return mine


def run_steps(
    steps: Iterable[Step[C]],
    ctx: C,
    *,
    on_result: Callable[[StepResult], None] | None = None,
    background_ms: Callable[[], float] | None = None,
) -> tuple[list[StepResult], bool]:
    """One phase on its own: the results and whether an unexpected error (a bug) occurred."""
    run = Run(on_result=on_result)
    results = run.phase(steps, ctx, background_ms=background_ms)
    return results, run.internal


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
            facts=exc.facts,
        )
    except LdapCheckError as exc:
        result = StepResult(id=step.id, title=step.title, status=Status.FAIL, summary=str(exc), reproduce=reproduce)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # a bug in ldapcheck: keep the report, exit 3
        _log_debug("step %s crashed", step.id)
        bug = True
        result = StepResult(
            id=step.id,
            title=step.title,
            status=Status.FAIL,
            summary=f"internal error: {type(exc).__name__}",
            failure_id=LDAPCHECK_INTERNAL,
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
            facts=outcome.facts,
        )
    elapsed = (time.perf_counter() - start) * 1000
    return replace(result, duration_ms=round(elapsed, 1)), bug


def _reproduce(step: Step[C], ctx: C) -> str:
    if step.reproduce is None:
        return ""
    try:
        return step.reproduce(ctx)
    except Exception:  # a reproduce line is a courtesy; never let it break the step
        _log_debug("reproduce for %s failed", step.id)
        return ""
