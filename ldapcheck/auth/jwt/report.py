"""A verification as report steps `jwt.<rule>` in prosody's order, and the verdict naming the first failing rule.

Steps show what prosody would log (the exact reason), the stable id and the fix; the first step shows the decoded
header and claims (never the signature). The time, the clock and the configuration source are stated: the running
container's settings against the `.env` (`jwt.rendered`) and its clock against this host's (`jwt.clock`), or, without
a container, that they were not checked and why (a skipped step).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ldapcheck.auth.jwt.clock import ALLOWED, CLOCK_FIX, CLOCK_SKEW_MAX
from ldapcheck.auth.jwt.model import JoinResult, RuleResult, RuleStatus, TokenConfig, Verification
from ldapcheck.auth.jwt.rules import JOIN_RULES
from ldapcheck.core import catalogue as ids
from ldapcheck.core.model import Status, StepResult, Verdict
from ldapcheck.jitsi.fixes import RECREATE

if TYPE_CHECKING:
    from ldapcheck.auth.jwt.clock import ContainerClock

_SHOWN_JSON = 2000  # characters of header/claims JSON shown (cjson allows 1000 levels of nesting)
_STATUS = {
    RuleStatus.PASSED: Status.PASS,
    RuleStatus.FAILED: Status.FAIL,
    RuleStatus.ERROR: Status.FAIL,
    RuleStatus.NOT_RUN: Status.SKIP,
}


@dataclass(kw_only=True)
class Running:
    """The running prosody container `token check` read, or why there is none."""

    name: str | None = None
    env: dict[str, str] | None = None  # None: no container (then `missing` says why; "" for --no-container)
    clock: ContainerClock | None = None
    clock_note: str = ""  # why the clock was not read
    missing: str = ""
    failure_id: str | None = None  # a container that was asked for (or is ambiguous) and not read: a warning
    hint: str = ""
    differences: list[str] = field(default_factory=list)  # rendered options, container vs .env (secret not shown)
    env_error: str = ""  # the .env does not render token settings (the container's do)


@dataclass(frozen=True, kw_only=True)
class CheckInput:
    """What was judged, and against what: for the steps' wording."""

    now: float
    clock: str  # "the prosody container's clock", "this host's clock" or "--at"
    env_file: str
    room: str | None = None  # as given to --room
    room_jid: str | None = None
    host_now: float | None = None  # this host's clock when the token was judged
    running: Running = field(default_factory=Running)


def step_id(rule_id: str) -> str:
    """`JWT-KID-ALG` → `jwt.kid_alg`."""
    return "jwt." + rule_id.removeprefix("JWT-").lower().replace("-", "_")


def when(epoch: float) -> str:
    """An epoch time as ISO 8601 UTC (or the number, if it is out of range)."""
    try:
        return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return repr(epoch)


def _json(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _SHOWN_JSON else text[: _SHOWN_JSON - 1] + "…"


def _claim_time(claims: object, name: str) -> float | None:
    value = claims.get(name) if isinstance(claims, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _token_step(v: Verification) -> StepResult:
    if v.header is None and v.claims is None:
        return StepResult(
            id="jwt.token",
            title="token header and claims",
            status=Status.SKIP,
            summary="not decoded: see the failing rule below",
        )
    summary = f"header {_json(v.header)}; claims {_json(v.claims)}"
    return StepResult(
        id="jwt.token",
        title="token header and claims",
        status=Status.PASS,
        summary=summary,
        detail={"signature": "not shown"},
    )


def _time_summary(rule: RuleResult, v: Verification, at: CheckInput) -> str:
    name = "exp" if rule.id == ids.JWT_EXP else "nbf"
    value = _claim_time(v.claims, name)
    judged = f"judged at {when(at.now)} by {at.clock}"
    if value is None:
        return f"no numeric {name}: nothing to compare ({judged})"
    delta = value - int(at.now)
    relation = "ahead of" if delta > 0 else "behind"
    return f"{name} {when(value)} is {abs(delta):.0f} s {relation} the time {judged}"


def _rule_step(rule: RuleResult, v: Verification, at: CheckInput) -> StepResult:
    status = _STATUS[rule.status]
    detail: dict[str, object] = {}
    hint = ""
    failure_id = None
    if rule.status is RuleStatus.PASSED:
        summary = rule.detail or "passed"
        if rule.id in (ids.JWT_EXP, ids.JWT_NBF):
            summary = _time_summary(rule, v, at)
    elif rule.status is RuleStatus.NOT_RUN:
        summary = rule.detail or "not reached"
    else:
        failure_id, hint = rule.id, rule.fix
        if rule.status is RuleStatus.ERROR:
            summary = f"prosody's Lua code raises an error here, so the login fails: {rule.reason}"
            detail["provoked by"] = rule.detail or "(unknown)"
        else:
            summary = f"prosody refuses: {rule.reason}"
            if v.stage == "config":
                detail["prosody logs at start"] = f"error: {rule.reason}"
            else:
                detail["prosody logs"] = f"Error verifying token err:{v.error}, reason:{v.reason}"
                detail["the client sees"] = f"SASL not-allowed: {v.reason or v.error}"
            if rule.detail:
                detail["why"] = rule.detail
        if rule.id in (ids.JWT_EXP, ids.JWT_NBF):
            detail["time"] = _time_summary(rule, v, at)
    return StepResult(
        id=step_id(rule.id),
        title=rule.title,
        status=status,
        summary=summary,
        detail=detail,
        failure_id=failure_id,
        hint=hint,
    )


def _join_steps(join: JoinResult | None, config: TokenConfig, at: CheckInput) -> list[StepResult]:
    if at.room is None or join is None:
        reason = "not checked: pass --room NAME" if at.room is None else "not reached: the login is refused"
        return [StepResult(id="jwt.join", title="the room rules at join", status=Status.SKIP, summary=reason)]
    steps: list[StepResult] = []
    decided = False
    for rule in JOIN_RULES:
        if decided:
            steps.append(StepResult(id=step_id(rule.id), title=rule.title, status=Status.SKIP, summary="not reached"))
            continue
        if not join.ok and join.rule == rule.id:
            decided = True
            raised = join.error == "lua-error"
            summary = (
                f"prosody's Lua code raises an error at the join: {join.reason}"
                if raised
                else f"prosody refuses the join of {at.room_jid}: {join.client_text}"
            )
            detail: dict[str, object] = {"room JID": at.room_jid or ""}
            if join.returned is not None:
                detail["verify_room returns"] = ", ".join(map(str, join.returned))
            if join.detail:
                detail["why"] = join.detail
            steps.append(
                StepResult(
                    id=step_id(rule.id),
                    title=rule.title,
                    status=Status.FAIL,
                    summary=summary,
                    detail=detail,
                    failure_id=rule.id,
                    hint=join.fix or rule.fix,
                )
            )
            continue
        summary = f"{at.room_jid}: passed"
        if rule.id == ids.JWT_SUB and not config.enable_domain_verification:
            steps.append(
                StepResult(
                    id=step_id(rule.id),
                    title=rule.title,
                    status=Status.SKIP,
                    summary="domain verification is off (JWT_ENABLE_DOMAIN_VERIFICATION): sub is not compared",
                )
            )
            continue
        steps.append(StepResult(id=step_id(rule.id), title=rule.title, status=Status.PASS, summary=summary))
    return steps


def _rendered_step(at: CheckInput) -> StepResult:
    live = at.running
    title = "the running prosody's token settings"
    if live.env is None:
        why = f"no prosody container ({live.missing})" if live.missing else "--no-container"
        return StepResult(
            id="jwt.rendered",
            title=title,
            status=Status.WARN if live.failure_id else Status.SKIP,
            summary=f"not checked ({why}): judged with {at.env_file}'s settings as docker-jitsi-meet's template "
            "renders them; a running container has them only after a recreate (docker compose up -d)",
            failure_id=live.failure_id,
            hint=live.hint if live.failure_id else "",
        )
    detail: dict[str, object] = {"container": live.name, "compared with": at.env_file}
    if live.env_error:
        return StepResult(
            id="jwt.rendered",
            title=title,
            status=Status.WARN,
            summary=f"judged with {live.name}'s settings; {live.env_error}",
            detail=detail,
            failure_id=ids.JM_RECREATE,
            hint=f"The container runs with another environment than the .env: fix the .env, then `{RECREATE}`.",
        )
    if live.differences:
        detail["differences"] = live.differences
        return StepResult(
            id="jwt.rendered",
            title=title,
            status=Status.WARN,
            summary=f"judged with {live.name}'s settings, which differ from {at.env_file}'s: "
            + "; ".join(live.differences),
            detail=detail,
            failure_id=ids.JM_RECREATE,
            hint="The container was not recreated after .env changed (a restart keeps the old environment): "
            f"`{RECREATE}`; tokens signed for the .env are refused until then.",
        )
    return StepResult(
        id="jwt.rendered",
        title=title,
        status=Status.PASS,
        summary=f"judged with {live.name}'s settings, as prosody's template renders them; {at.env_file} renders "
        "the same",
        detail=detail,
    )


def _clock_step(at: CheckInput) -> StepResult:
    live = at.running
    title = "prosody's clock"
    judged = f"exp and nbf judged at {when(at.now)} by {at.clock}"
    if live.env is None or live.clock is None:
        why = "no container" if live.env is None else f"not read: {live.clock_note}"
        return StepResult(
            id="jwt.clock",
            title=title,
            status=Status.SKIP,
            summary=f"not checked ({why}): {judged}; prosody uses the Docker host's clock, with no leeway",
        )
    skew = live.clock.skew
    host = at.host_now if at.host_now is not None else at.now
    way = "in agreement with" if skew == 0 else "ahead of" if skew > 0 else "behind"
    detail: dict[str, object] = {
        "container clock": when(host + skew),
        "this host's clock": when(host),
        "skew seconds": round(skew, 3),
        "allowed": ALLOWED,
    }
    apart = "" if skew == 0 else f"{abs(skew):.1f} s "
    summary = f"{live.name}'s clock is {apart}{way} this host's ({when(host)}): {judged}"
    if abs(skew) > CLOCK_SKEW_MAX:
        return StepResult(
            id="jwt.clock",
            title=title,
            status=Status.WARN,
            summary=summary,
            detail=detail,
            failure_id=ids.JWT_CLOCK,
            hint=CLOCK_FIX,
        )
    return StepResult(id="jwt.clock", title=title, status=Status.PASS, summary=summary, detail=detail)


def steps(v: Verification, join: JoinResult | None, config: TokenConfig, at: CheckInput) -> list[StepResult]:
    """Every step of a `token check` report, in prosody's order."""
    return [
        _token_step(v),
        *(_rule_step(r, v, at) for r in v.rules),
        *_join_steps(join, config, at),
        _rendered_step(at),
        _clock_step(at),
    ]


def verdict(v: Verification, join: JoinResult | None, results: Sequence[StepResult], at: CheckInput) -> Verdict:
    """The first failing rule, or that prosody would accept the token (failure_id None)."""
    failed = next((s for s in results if s.status is Status.FAIL), None)
    if failed is None:
        room = f" and let it join {at.room_jid}" if join is not None and join.ok else ""
        return Verdict(cause=f"prosody would accept this token{room}", failure_id=None)
    if failed.id.startswith("jwt.") and failed.failure_id in {r.id for r in JOIN_RULES}:
        cause = f"prosody accepts the login but refuses the join of {at.room_jid} ({failed.title})"
    elif v.error == "lua-error":
        where = failed.detail.get("provoked by", "")
        cause = f"the login fails: prosody's token code raises a Lua error ({failed.title}); provoked by {where}"
    else:
        cause = f"prosody would refuse this token: {v.reason or v.error} ({failed.title})"
    return Verdict(cause=cause, failure_id=failed.failure_id, facts=[failed.summary], hint=failed.hint)
