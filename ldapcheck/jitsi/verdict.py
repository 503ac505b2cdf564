"""Verdict rules every auth mode shares beyond prosody's own: the container could not be inspected, the
container runs an older .env (recreate, not restart), the web transports, jicofo, the env split, the guest host.

Rules read step ids, statuses, failure ids and facts (never text); a mode puts its own between them.
"""

from __future__ import annotations

from collections.abc import Callable

from ldapcheck.core import catalogue as ids
from ldapcheck.core.model import StepResult, Verdict
from ldapcheck.core.verdict import Evidence, Rule, fact_line
from ldapcheck.jitsi import login
from ldapcheck.jitsi.fixes import RECREATE

RECREATE_NOT_RESTART = (
    f"Recreate, do not restart: `{RECREATE}` (and `docker compose up -d` for web and jicofo). "
    "`docker compose restart` keeps the old environment."
)


def _cite(
    r: StepResult, cause: str, *, hint: str = "", recreate: bool = False, more: list[StepResult] | None = None
) -> Verdict:
    return Verdict(
        cause=cause,
        failure_id=r.failure_id,
        facts=[fact_line(x) for x in [r, *(more or [])]],
        hint=hint or r.hint,
        recreate=recreate,
    )


def not_inspected(ev: Evidence) -> Verdict | None:
    """The prosody container could not be found or read: nothing inside was judged."""
    find = ev.failed("container.find")
    if find is None:
        return None
    return _cite(find, f"the prosody container could not be inspected: {find.summary}")


def drift(ev: Evidence) -> Verdict | None:
    """The running prosody has other values than the .env: it was not recreated."""
    r = ev.failed("container.env_drift")
    if r is None:
        return None
    return _cite(
        r,
        "prosody runs with other values than the .env (it was restarted, or not touched, after .env changed): "
        "what you configured is not what runs",
        hint=RECREATE_NOT_RESTART,
        recreate=True,
    )


def by_id(*failure_ids: str, what: str, hint: str = "") -> Rule:
    """The first failed step carrying one of `failure_ids`, explained as `what`."""

    def rule(ev: Evidence) -> Verdict | None:
        found = ev.with_id(*failure_ids)
        if not found:
            return None
        return _cite(found[0], f"{what}: {found[0].summary}", hint=hint, more=found[1:3])

    return rule


def transport(ev: Evidence) -> Verdict | None:
    """BOSH or WebSocket through web fails while prosody itself answers (another transport reached it)."""
    broken = [
        r
        for r in (ev.failed(login.BOSH), ev.failed(login.WEBSOCKET))
        if r is not None and r.failure_id in (ids.WEB_BOSH, ids.WEB_WS)
    ]
    if not broken:
        return None
    working = [s for s in (login.BOSH, login.WEBSOCKET, login.C2S) if ev.passed(s)]
    first = broken[0]
    where = f" ({', '.join(working)} works)" if working else ""
    return _cite(
        first,
        f"the browser cannot reach prosody through the web container{where}: {first.summary}",
        more=broken[1:],
    )


jicofo = by_id(ids.JICOFO_AUTH_OFF, ids.JICOFO_LOGINURL, what="jicofo does not treat logged-in users as hosts")
env_split = by_id(ids.ENV_SPLIT, what="prosody, jicofo and web disagree", hint=RECREATE_NOT_RESTART)
guest = by_id(ids.GUEST_NOHOST, what="guests cannot join")
sasl = by_id(ids.XMPP_SASL, ids.XMPP_NOMECH, what="prosody refused the login")


# A package install's own setup, most basic first: what prosody loads, what starts saslauthd and with which
# mechanism, who may reach its socket, the modules prosody needs; a stopped service last (these explain it).
HOST_SETUP = (
    ids.HOST_NO_PROSODY,
    ids.HOST_CONF_UNLINKED,
    ids.HOST_SASLAUTHD_OFF,
    ids.HOST_MECH,
    ids.HOST_SASL_GROUP,
    ids.HOST_NO_CYRUS,
    ids.HOST_LUA_LIB,
    ids.HOST_SERVICE,
)


def host_setup(ev: Evidence) -> Verdict | None:
    """A Debian-package host is not set up as the mode needs: the most basic of its HOST-* failures."""
    for fid in HOST_SETUP:
        found = ev.with_id(fid)
        if found:
            others = [r for r in ev.with_id(*HOST_SETUP) if r is not found[0]]
            return _cite(
                found[0], f"this host's packages are not set up for the login: {found[0].summary}", more=others[:2]
            )
    return None


def any_failure(ev: Evidence) -> Verdict | None:
    """Any other failed step, cited as it is."""
    failed = ev.failures()
    return _cite(failed[0], failed[0].summary) if failed else None


def experience(ev: Evidence) -> list[str]:
    """What users will see (the informational step), for a verdict's facts."""
    r = ev.get(login.EXPERIENCE)
    return [fact_line(r)] if r is not None else []


BEFORE: tuple[Rule, ...] = (not_inspected, host_setup, drift)
AFTER: tuple[Rule, ...] = (transport, jicofo, env_split, guest, sasl)


def works(describe: Callable[[Evidence], str]) -> Rule:
    """The last rule: no failure; `describe` says what works."""

    def rule(ev: Evidence) -> Verdict | None:
        if ev.failures():
            return None
        return Verdict(cause=describe(ev), failure_id=None, facts=experience(ev))

    return rule
