"""The runner: timing, domain errors become failed steps, dependants are skipped with the reason."""

from __future__ import annotations

from dataclasses import dataclass, field

from ldapcheck.core.catalogue import LDAPCHECK_INTERNAL as INTERNAL_FAILURE
from ldapcheck.core.errors import LdapCheckError
from ldapcheck.core.model import Status
from ldapcheck.core.runner import run_steps
from ldapcheck.core.step import CheckFailed, Outcome, Step, StepSkipped


@dataclass
class Ctx:
    values: dict[str, object] = field(default_factory=dict)


def ok(value: object = None) -> Outcome:
    return Outcome(summary="fine", value=value)


def fail(_: Ctx) -> Outcome:
    raise CheckFailed("RC-49", "rejected", hint="fix it", detail={"code": 49}, reproduce="ldapwhoami -W")


def test_failure_skips_dependants_and_keeps_independents() -> None:
    steps = [
        Step[Ctx](id="a", title="A", run=fail),
        Step[Ctx](id="b", title="B", run=lambda c: ok(), requires=frozenset({"a"})),
        Step[Ctx](id="c", title="C", run=lambda c: ok(), requires=frozenset({"b"})),
        Step[Ctx](id="d", title="D", run=lambda c: ok()),
    ]
    results, internal = run_steps(steps, Ctx())
    assert not internal
    assert [r.status for r in results] == [Status.FAIL, Status.SKIP, Status.SKIP, Status.PASS]
    assert results[0].failure_id == "RC-49" and results[0].hint == "fix it" and results[0].detail == {"code": 49}
    assert results[0].reproduce == "ldapwhoami -W"
    assert results[1].summary == "skipped: a failed"
    assert results[2].summary == "skipped: b was skipped"


def test_values_flow_and_warn_and_skip() -> None:
    seen: list[object] = []

    def second(ctx: Ctx) -> Outcome:
        seen.append(ctx.values["first"])
        return Outcome(summary="careful", warn=True, failure_id="RC-4")

    def third(_: Ctx) -> Outcome:
        raise StepSkipped("not for plain ldap://")

    steps = [
        Step[Ctx](id="first", title="1", run=lambda c: ok(42)),
        Step[Ctx](id="second", title="2", run=second, requires=frozenset({"first"})),
        Step[Ctx](id="third", title="3", run=third),
        Step[Ctx](id="fourth", title="4", run=lambda c: ok(), requires=frozenset({"third"})),
    ]
    results, _ = run_steps(steps, Ctx())
    assert seen == [42]
    assert results[1].status is Status.WARN and results[1].failure_id == "RC-4"
    assert results[2].status is Status.SKIP and results[2].summary == "not for plain ldap://"
    assert results[3].status is Status.SKIP
    assert all(r.duration_ms >= 0 for r in results)


def test_bug_is_internal_and_plain_domain_error_is_a_failure() -> None:
    def crash(_: Ctx) -> Outcome:
        raise ZeroDivisionError

    def domain(_: Ctx) -> Outcome:
        raise LdapCheckError("cannot do that")

    results, internal = run_steps(
        [Step[Ctx](id="x", title="X", run=crash), Step[Ctx](id="y", title="Y", run=domain)], Ctx()
    )
    assert internal
    assert results[0].failure_id == INTERNAL_FAILURE
    assert results[1].status is Status.FAIL and results[1].summary == "cannot do that"


def test_missing_requirement_and_broken_reproduce() -> None:
    def bad_reproduce(_: Ctx) -> str:
        raise KeyError("x")

    results, _ = run_steps(
        [
            Step[Ctx](id="z", title="Z", run=lambda c: ok(), requires=frozenset({"nope"})),
            Step[Ctx](id="w", title="W", run=lambda c: ok(), reproduce=bad_reproduce),
        ],
        Ctx(),
    )
    assert results[0].status is Status.SKIP and "nope" in results[0].summary
    assert results[1].status is Status.PASS and results[1].reproduce == ""


def test_prefetched_work_is_added_to_the_step_that_consumed_it() -> None:
    claims = iter([0.0, 40.0, 7.5])  # what the context says each step consumed of work done elsewhere

    steps = [
        Step[Ctx](id="a", title="A", run=lambda c: ok()),
        Step[Ctx](id="b", title="B", run=fail),
        Step[Ctx](id="c", title="C", run=lambda c: ok(), requires=frozenset({"b"})),
    ]
    results, _ = run_steps(steps, Ctx(), background_ms=lambda: next(claims))
    assert results[0].duration_ms < 40
    assert results[1].duration_ms >= 40  # a failed step keeps the time of the work it read, too
    assert results[2].status is Status.SKIP and results[2].duration_ms == 0.0
