"""The internal mode's verdict: shared Jitsi rules (jitsi.verdict) around the account rules, and the restart
question: an account problem never needs a restart (prosody reads accounts at each login, auth-modes.md §3.2),
an environment difference needs a recreate, not a restart.
"""

from __future__ import annotations

from ldapcheck.auth.internal.steps import ACCOUNT, CONFIG, WHERE
from ldapcheck.core import catalogue as ids
from ldapcheck.core.model import Verdict
from ldapcheck.core.verdict import Evidence, Rule, fact_line
from ldapcheck.jitsi import login
from ldapcheck.jitsi import verdict as shared

NO_RESTART = "No restart is needed: prosody reads the account at each login."


def main_host(ev: Evidence) -> Verdict | None:
    """The main VirtualHost is not internal_hashed (still token, or another mode)."""
    r = ev.failed(CONFIG)
    if r is None:
        return None
    return Verdict(cause=r.summary, failure_id=r.failure_id, facts=[fact_line(r)], hint=r.hint, recreate=True)


def account(ev: Evidence) -> Verdict | None:
    """The account is missing, on another host, in a data path prosody does not read, or disabled."""
    r = ev.failed(ACCOUNT)
    if r is None:
        return None
    refused = [
        x
        for x in (ev.get(s) for s in (login.BOSH, login.WEBSOCKET, login.C2S))
        if x is not None and x.failure_id == ids.XMPP_SASL
    ]
    return Verdict(
        cause=f"{ev.login or 'the user'} cannot log in: {r.summary}",
        failure_id=r.failure_id,
        facts=[fact_line(x) for x in [r, *refused[:1]]],
        hint=f"{r.hint} {NO_RESTART}",
    )


def bad_password(ev: Evidence) -> Verdict | None:
    """prosody said not-authorized while the account exists: the password is wrong."""
    if ev.fact(ACCOUNT, WHERE) != "present":
        return None
    for step in (login.BOSH, login.WEBSOCKET, login.C2S):
        r = ev.failed(step)
        if (
            r is not None
            and r.facts.get(login.ATTEMPT) == "password"
            and r.facts.get(login.CONDITION) == "not-authorized"
        ):
            acct = ev.get(ACCOUNT)
            return Verdict(
                cause=f"{ev.login} exists on the main host, and prosody refused the password: {r.summary}",
                failure_id=ids.INT_BADPASS,
                facts=[fact_line(x) for x in (r, acct) if x is not None],
                hint="The password is wrong: type the right one, or set a new one (it prompts): `"
                + str(acct.detail.get("passwd", "prosodyctl passwd USER@XMPP_DOMAIN") if acct is not None else "")
                + "`. "
                + NO_RESTART,
            )
    return None


def _works(ev: Evidence) -> str:
    ok = [s for s in (login.BOSH, login.WEBSOCKET, login.C2S) if ev.fact(s, login.SUCCESS) is True]
    if ev.login and ok and not ev.passed(ACCOUNT):
        return f"{ev.login} can log in through Jitsi ({ok[0]}); prosody's container was not inspected. {NO_RESTART}"
    if ev.login and ev.fact(ACCOUNT, WHERE) == "present":
        logged = any(ev.fact(s, login.SUCCESS) is True for s in (login.BOSH, login.WEBSOCKET, login.C2S))
        if logged:
            return f"{ev.login} can log in through Jitsi (internal accounts). {NO_RESTART}"
        return f"{ev.login} has an account on the main host (no password was tried). {NO_RESTART}"
    if not ev.passed(CONFIG):
        return "nothing failed, but prosody was not inspected (no container found or --no-container): not judged"
    return "prosody's internal accounts are wired as Jitsi needs them; give --user to test a login"


RULES: tuple[Rule, ...] = (
    *shared.BEFORE,
    main_host,
    account,
    bad_password,
    *shared.AFTER,
    shared.any_failure,
    shared.works(_works),
)
