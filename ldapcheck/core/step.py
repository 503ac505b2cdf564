"""What a step is, and the three ways it ends: an Outcome (pass or warn), CheckFailed (fail), StepSkipped (skip).

A step never calls another step; it declares what it `requires`, and only the runner decides to skip. Values a
step hands to its dependants go into `ctx.values[step_id]`. What the verdict needs from a step goes into its
`facts` (keys in `ldapcheck.core.facts`), never into the text of its summary.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Generic, Protocol, TypeVar

from ldapcheck.core.errors import LdapCheckError
from ldapcheck.core.record import field, record


class HasValues(Protocol):
    """A context the runner can hand step values through."""

    values: dict[str, object]


C = TypeVar("C", bound=HasValues)


class StepSkipped(LdapCheckError):
    """Raised by a step that does not apply to this configuration (e.g. TLS on plain ldap://)."""


class CheckFailed(LdapCheckError):
    """A check found a problem: carries the catalogue failure id, the evidence and the fix.

    Raised by checks (never by adapters, which raise their own errors); the runner turns it into a failed step.
    """

    def __init__(
        self,
        failure_id: str,
        message: str,
        *,
        hint: str = "",
        detail: Mapping[str, object] | None = None,
        reproduce: str = "",
        facts: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.failure_id = failure_id
        self.message = message
        self.hint = hint
        self.detail = dict(detail or {})
        self.reproduce = reproduce
        self.facts = dict(facts or {})


@record(kw_only=True)
class Outcome:
    """What a passing (or warning) step returns."""

    summary: str
    detail: Mapping[str, object] = field(default_factory=dict)
    warn: bool = False
    failure_id: str | None = None
    hint: str = ""
    reproduce: str = ""
    value: object = None
    facts: Mapping[str, object] = field(default_factory=dict)


@record(kw_only=True)
class Step(Generic[C]):
    """One link of a chain. `run` returns an Outcome or raises CheckFailed / StepSkipped."""

    id: str
    title: str
    run: Callable[[C], Outcome]
    requires: frozenset[str] = frozenset()
    reproduce: Callable[[C], str] | None = None
