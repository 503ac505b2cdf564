"""The jwt mode's verdict: shared Jitsi rules (jitsi.verdict) around the token rules, in chain order — prosody's
rendered settings, the module, the container's clock, the token itself, the live login — and what works.

A live login that could not be tried because the module is absent is "not checked", never a pass.
"""

from __future__ import annotations

from ldapcheck.auth.jwt import steps as jwt
from ldapcheck.core.model import Status, Verdict
from ldapcheck.core.verdict import Evidence, Rule, fact_line
from ldapcheck.jitsi import login
from ldapcheck.jitsi import verdict as shared

LOGINS = (jwt.LOGIN_BOSH, jwt.LOGIN_WEBSOCKET)


def _first(ev: Evidence, *step_ids: str, recreate: bool = False, prefix: str = "") -> Verdict | None:
    for step in step_ids:
        r = ev.failed(step)
        if r is not None:
            more = [x for x in (ev.failed(s) for s in step_ids if s != step) if x is not None][:2]
            return Verdict(
                cause=f"{prefix}{r.summary}",
                failure_id=r.failure_id,
                facts=[fact_line(x) for x in [r, *more]],
                hint=r.hint,
                recreate=recreate,
            )
    return None


def settings(ev: Evidence) -> Verdict | None:
    """prosody's main host does not run token auth as configured (mode, app_id, secret, toBool)."""
    return _first(ev, jwt.CONFIG, recreate=True)


def module(ev: Evidence) -> Verdict | None:
    """The token module did not load, or turned itself off."""
    return _first(ev, jwt.MODULE, prefix="no token login can succeed: ")


def clock(ev: Evidence) -> Verdict | None:
    return _first(ev, jwt.CLOCK)


def token(ev: Evidence) -> Verdict | None:
    """The token itself is refused by the running settings, or prosody refused it live."""
    return _first(ev, jwt.TOKEN, *LOGINS)


def _works(ev: Evidence) -> str:
    ok = [s for s in LOGINS if ev.fact(s, login.SUCCESS) is True]
    if ok:
        return f"the token logs in through Jitsi ({', '.join(ok)})"
    skipped = [r for r in (ev.get(s) for s in LOGINS) if r is not None and r.status is Status.SKIP]
    if ev.passed(jwt.TOKEN):
        why = skipped[0].summary if skipped else "not tried"
        return f"prosody would accept this token by its settings; the live login was {why}"
    if not ev.passed(jwt.CONFIG):
        return "nothing failed, but prosody was not inspected (no container found or --no-container): not judged"
    return "prosody's token authentication is wired as Jitsi needs it; give a token (--token-stdin) to test a login"


RULES: tuple[Rule, ...] = (
    *shared.BEFORE,
    settings,
    module,
    clock,
    token,
    *shared.AFTER,
    shared.any_failure,
    shared.works(_works),
)
