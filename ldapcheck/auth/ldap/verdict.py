"""The LDAP verdict: the first broken link of each path saslauthd can walk, decided from structured facts only.

Two paths: the one saslauthd walks today (the running container's values: `container.*` steps) and the one the
`.env` gives after a recreate (the host steps, which read the `.env`). When the container runs the `.env`'s values
(no `container.env_drift` failure) they are one path. A path's cause is its first broken link in chain order
(`core.facts.LINKS`); a later failure is a consequence. Today's failure is named first; the `.env`'s second; a
recreate is advised only when it cannot break a working login. Rules read step ids, statuses, failure ids and
`facts` (keys in `ldapcheck.core.facts`), never the text of a summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ldapcheck.core import catalogue as ids
from ldapcheck.core import facts as F
from ldapcheck.core.model import Status, StepResult, Verdict
from ldapcheck.core.verdict import Evidence, Rule, fact_line
from ldapcheck.core.verdict import decide as decide_with
from ldapcheck.jitsi import verdict as shared
from ldapcheck.jitsi.fixes import RECREATE

# Step id (or id prefix, ending in "[") → the link it tests. Steps not listed are not links of the login chain.
_LINK_OF_STEP = {
    "config.parse": "settings",
    "net.dns[": "dns",
    "net.tcp[": "tcp",
    "tls.handshake[": "tls",
    "net.plain[": "tls",
    "net.select": "tcp",
    "ldap.rootdse": "rootdse",
    "ldap.service_bind": "service_bind",
    "ldap.base": "base",
    "ldap.user_count": "user_search",
    "ldap.user_search": "user_search",
    "ldap.account_state": "account",
    "ldap.user_bind": "user_bind",
    "container.saslauthd_conf": "settings",
    "container.saslauthd_process": "saslauthd",
    "container.saslauthd_socket": "saslauthd",
    "container.sasl_app_conf": "prosody",
    "container.prosody_config": "prosody",
    "container.net[": "tcp",
    "container.ldap_chain": "service_bind",
}
# Of two failures at one link, the more specific one names it (the search of this login over the user count).
_LESS_SPECIFIC = frozenset({"ldap.user_count", "net.select"})
LOGIN_STEPS = ("container.saslauthd_protocol", "container.testsaslauthd")
DRIFT = "container.env_drift"
_NET_LINKS = frozenset({"dns", "tcp", "tls", "rootdse"})
_DIFFERENCE_LINKS = _NET_LINKS | {"service_bind"}


def link_of(r: StepResult) -> str | None:
    """The link of the login chain this result is about (None for steps that are not links)."""
    if isinstance(r.facts.get(F.GATE), str):
        return "settings"
    explicit = r.facts.get(F.LINK)
    if isinstance(explicit, str) and explicit in F.LINKS:
        return explicit
    if r.id.startswith("container.net[") and r.facts.get(F.NET) == "dns":
        return "dns"
    for key, link in _LINK_OF_STEP.items():
        if r.id == key or (key.endswith("[") and r.id.startswith(key)):
            return link
    return None


def in_container(r: StepResult) -> bool:
    """Whether the step tells about today's path (the running container's values) rather than the `.env`'s."""
    return r.id.startswith("container.") and r.facts.get(F.PATH) != "env"


# The host checks a certificate against its own trust store, which is not saslauthd's: where the container's TLS
# failed too, the container's failure says what saslauthd meets.
_HOST_STORE_IDS = frozenset({ids.TLS_SELF_SIGNED, ids.TLS_CHAIN, ids.TLS_HOSTNAME, ids.TLS_EXPIRED})


def _less_specific(r: StepResult) -> bool:
    return r.id in _LESS_SPECIFIC or (not in_container(r) and r.failure_id in _HOST_STORE_IDS)


def first_broken(results: Sequence[StepResult]) -> StepResult | None:
    """The failed step at the earliest link in chain order (at one link: the more specific, then the first)."""
    broken = [
        (F.LINKS.index(link), _less_specific(r), n, r)
        for n, r in enumerate(results)
        if r.status is Status.FAIL and (link := link_of(r)) is not None
    ]
    return min(broken, key=lambda t: t[:3])[3] if broken else None


@dataclass(frozen=True)
class Paths:
    """What the run says about the two paths."""

    host: list[StepResult]
    container: list[StepResult]
    inspected: bool  # the container was found and its steps ran
    drift: StepResult | None  # the container runs other values than the .env
    login: StepResult | None  # saslauthd's own answer to the login, if it was asked

    @property
    def login_ok(self) -> bool:
        return self.login is not None and self.login.status in (Status.PASS, Status.WARN)

    @property
    def login_refused(self) -> bool:
        return self.login is not None and self.login.status is Status.FAIL


def paths_of(ev: Evidence) -> Paths:
    """Split a run into its host and container paths."""
    asked = [r for i in LOGIN_STEPS if (r := ev.get(i)) is not None and r.status is not Status.SKIP]
    login = next((r for r in asked if r.status is Status.FAIL), asked[0] if asked else None)
    return Paths(
        host=[r for r in ev.results if not in_container(r)],
        container=[r for r in ev.results if in_container(r)],
        inspected=ev.passed("container.find"),
        drift=ev.failed(DRIFT),
        login=login,
    )


# --- what a broken link means ------------------------------------------------------------------------------------


def _entries(r: StepResult) -> int | None:
    value = r.facts.get(F.ENTRIES)
    return value if isinstance(value, int) else None


def _search_cause(r: StepResult) -> tuple[str, str]:
    """The cause of a user-search failure, from its facts: no entry (and why) or several."""
    count = _entries(r)
    if count is not None and count >= 2:
        return f"LDAP_FILTER matches {count} entries for this login; saslauthd needs exactly one", ids.SA_ENTRY_COUNT
    pattern = str(r.facts.get(F.FILTER, ""))
    typed = str(r.facts.get(F.LOGIN_TYPED, ""))
    seen = str(r.facts.get(F.LOGIN_SEEN, ""))
    if count == 0 and "%d" in pattern:
        return (
            f"LDAP_FILTER {pattern} uses %d, which saslauthd leaves empty for prosody's logins (the realm goes to %r)",
            ids.SA_TOKENS,
        )
    if count == 0 and "@" in typed and seen and seen != typed:
        return f"the login {typed!r} reaches saslauthd as {seen!r}: prosody cuts it at the first @", ids.SA_TOKENS
    if count == 0:
        return "LDAP_FILTER/LDAP_BASE find no entry for this login (unknown user or wrong filter)", ids.SA_ENTRY_COUNT
    return r.summary, r.failure_id or ids.SA_ENTRY_COUNT


def _bind_cause(r: StepResult) -> tuple[str, str]:
    if r.facts.get(F.EMPTY_PASSWORD):
        return "the password is empty: directories take that as an anonymous bind, never as a login", ids.RC_53
    if r.facts.get(F.ACCOUNT):
        return f"the account is {r.facts[F.ACCOUNT]} in the directory (the password is not the problem)", (
            r.failure_id or ids.RC_49
        )
    return "the user's entry is found but the directory rejects this password", r.failure_id or ids.RC_49


# Result codes a failed bind carries (the service bind is the link when one of these is its answer).
_BIND_IDS = frozenset({ids.RC_49, ids.AD_52E, ids.RC_53, ids.RC_50, ids.RC_48, ids.RC_13, ids.RC_8, ids.RC_32})

# Causes that a failure id names by itself, whatever step saw it.
_BY_ID = {
    ids.JM_CUSTOM_CONF: "a mounted /etc/saslauthd.conf overrides the LDAP_* values of .env",
    ids.JM_STALE_CONFIG: "saslauthd reads a stale saslauthd.conf that no longer matches the container's env",
    ids.SA_CONF_INVALID: "saslauthd rejects its saslauthd.conf as a whole, so every login is refused",
    ids.SA_CONF_EMPTY: "saslauthd rejects its saslauthd.conf as a whole (a key without a value), so every login fails",
    ids.TLS_CA_PATH: "saslauthd cannot set up TLS: the CA/certificate files its config names do not exist "
    "inside the container",
}


def cause_of(r: StepResult) -> tuple[str, str]:
    """(cause, failure id) for the first broken link `r`."""
    link = link_of(r)
    fid = r.failure_id or ids.SA_OPAQUE_NO
    if fid in _BY_ID:
        return _BY_ID[fid], fid
    gate = r.facts.get(F.GATE)
    if gate == "ENABLE_AUTH":
        return "ENABLE_AUTH is off: prosody lets everyone in anonymously and never asks saslauthd", fid
    if gate == "AUTH_TYPE":
        return "AUTH_TYPE is not exactly `ldap`: saslauthd is not configured or started, Jitsi never asks it", fid
    if gate == "PROSODY_AUTH_TYPE":
        return "PROSODY_AUTH_TYPE is not `ldap`: prosody does not ask saslauthd (authentication is not cyrus)", fid
    if link == "service_bind" and r.facts.get(F.BIND, "service") == "service" and fid in _BIND_IDS:
        return "the service bind (LDAP_BINDDN / LDAP_BINDPW) fails, so saslauthd cannot search for users", fid
    if link == "user_search" or (r.id == "container.ldap_chain" and _entries(r) is not None):
        return _search_cause(r)
    if link == "account":
        return f"the account is {r.facts.get(F.ACCOUNT, 'not usable')} in the directory (not a wrong password)", fid
    if link == "user_bind" or r.facts.get(F.BIND) == "user":
        return _bind_cause(r)
    if link == "saslauthd" and r.id == "container.saslauthd_process":
        return "saslauthd is not running in the prosody container: every login fails with a generic failure", fid
    if link == "saslauthd":
        return "prosody's user cannot reach saslauthd's socket: every login fails with a generic failure", fid
    return r.summary, fid


def _hint(r: StepResult) -> str:
    return r.hint or "See the failed step above."


def _verdict(
    cause: str,
    failure_id: str | None,
    steps: Sequence[StepResult],
    hint: str,
    *extra: str,
    recreate: bool = False,
    later: str | None = None,
) -> Verdict:
    facts = [fact_line(r) for r in steps] + [e for e in extra if e]
    return Verdict(cause=cause, failure_id=failure_id, facts=facts, hint=hint, recreate=recreate, later=later)


def _corroborating(r: StepResult, others: Sequence[StepResult]) -> list[StepResult]:
    """Failed steps of the other path at the same link: the same cause seen twice."""
    link = link_of(r)
    return [o for o in others if o.status is Status.FAIL and link_of(o) == link and o is not r][:2]


def _broken(r: StepResult, others: Sequence[StepResult] = ()) -> Verdict:
    cause, fid = cause_of(r)
    return _verdict(cause, fid, [r, *_corroborating(r, others)], _hint(r))


# --- the decision ------------------------------------------------------------------------------------------------


def _warnings(ev: Evidence) -> int:
    return sum(1 for r in ev.results if r.status is Status.WARN)


def _success(ev: Evidence, p: Paths, login: str | None) -> Verdict | None:
    warned = _warnings(ev)
    note = f"; {warned} warning(s) do not affect logins" if warned else ""
    who = login or "the user"
    if p.login_ok:
        return _verdict(f"{who} can log in through Jitsi{note}", None, [p.login] if p.login else [], "")
    if login and ev.passed("ldap.user_bind"):
        where = "" if p.inspected else " (checked from this host: prosody's side was not inspected)"
        return _verdict(f"{who} can log in with this .env{where}{note}", None, [ev.by_id["ldap.user_bind"]], "")
    if ev.passed("ldap.base") or ev.passed("ldap.user_search"):
        return _verdict(
            f"saslauthd's path to the directory works (service bind and base){note}; give --user LOGIN to try a login",
            None,
            [],
            "",
        )
    return None


def gate(ev: Evidence) -> Verdict | None:
    """Jitsi never asks saslauthd: AUTH_TYPE / ENABLE_AUTH. Today's gate (the container's) first; a gate only the
    edited .env has is a future break, for the two-path rule to name."""
    gates = [r for r in ev.results if r.status is Status.FAIL and isinstance(r.facts.get(F.GATE), str)]
    today = [r for r in gates if in_container(r)]
    p = paths_of(ev)
    if not today and p.inspected and p.drift is not None:
        return None
    chosen = today or gates
    if not chosen:
        return None
    first = chosen[0]
    cause, fid = cause_of(first)
    return _verdict(cause, fid, gates[:3], _hint(first))


def _cached(ev: Evidence, p: Paths) -> Verdict | None:
    """saslauthd accepts a password the directory rejects: its -c cache answers (same values on both paths)."""
    bind = ev.failed("ldap.user_bind")
    if not p.login_ok or p.drift is not None or bind is None or bind.facts.get(F.BIND) != "user":
        return None
    if bind.failure_id not in (ids.RC_49, ids.AD_52E):
        return None
    login = p.login
    cached = login is not None and bool(login.facts.get(F.CACHED))
    return _verdict(
        "saslauthd accepts a password the directory rejects: it answers from its credential cache (-c), "
        "so an old password keeps working for up to 8 hours after a change",
        ids.SA_CACHE,
        [bind, *([login] if login else [])],
        f"Recreate prosody to flush the cache (`{RECREATE}`); the directory itself is right.",
        "saslauthd logged `auth success (cached)` for this login" if cached else "",
        recreate=True,
    )


def _container_difference(r: StepResult, host: Sequence[StepResult]) -> Verdict | None:
    """A link that passes on the host (same values) and fails only inside the container."""
    link = link_of(r)
    if link not in _DIFFERENCE_LINKS or not (r.id == "container.ldap_chain" or r.id.startswith("container.net[")):
        # saslauthd, its config and prosody exist only in the container, and a search that fails with the same
        # values would fail on the host too: only reaching the directory can differ between the two.
        return None
    host_at_link = [h for h in host if link_of(h) == link and h.status in (Status.PASS, Status.WARN)]
    if not host_at_link or any(h.status is Status.FAIL and link_of(h) == link for h in host):
        return None
    fid = r.failure_id if r.failure_id in (ids.TLS_CA_PATH, ids.NET_CONTAINER) else ids.NET_CONTAINER
    what = "DNS, network or TLS differ" if link in _NET_LINKS else "its CA store, DNS or network differ"
    return _verdict(
        f"the directory works from the host but not from inside the prosody container ({what})",
        fid,
        [r],
        _hint(r),
        *[f"from the host: {fact_line(h)}" for h in host_at_link[:2]],
    )


def _one_path(ev: Evidence, p: Paths, login: str | None) -> Verdict | None:
    cached = _cached(ev, p)
    if cached is not None:
        return cached
    first = first_broken(ev.results)
    if first is not None and in_container(first):
        differs = _container_difference(first, p.host)
        if differs is not None:
            return differs
    if first is not None and p.login_ok and not in_container(first):
        cause, fid = cause_of(first)
        return _verdict(
            f"{login or 'the user'} can log in through Jitsi; only this host fails at {link_of(first)}: {cause}",
            fid,
            [first, *([p.login] if p.login else [])],
            _hint(first),
        )
    if first is not None:
        return _broken(first, p.container if not in_container(first) else p.host)
    if p.login_refused and p.login is not None:
        return _verdict(
            "saslauthd refuses the login although every link ldapcheck tested works",
            p.login.failure_id or ids.SA_OPAQUE_NO,
            [p.login],
            _hint(p.login),
        )
    return None


def _two_paths(ev: Evidence, p: Paths, drift: StepResult) -> Verdict:
    """The container runs other values than the .env: today's path, and the .env's after a recreate."""
    future = first_broken(p.host)
    today = first_broken(p.container) or (p.login if p.login_refused else None)
    if today is None and p.login_ok and future is not None:
        cause, fid = cause_of(future)
        return _verdict(
            f"logins work now with the values prosody was created with, but the edited .env fails at "
            f"{link_of(future)} ({cause}): recreating prosody from this .env would break them",
            fid,
            [future, drift],
            f"Fix .env first: {_hint(future)} Do not recreate prosody until `ldapcheck diagnose` passes.",
            later=fid,
        )
    if today is None:
        return _verdict(
            "prosody runs older values than .env, and the .env works too: recreate prosody to use it",
            ids.JM_RECREATE,
            [drift],
            f"Run `{RECREATE}` (a restart does not reload .env).",
            recreate=True,
        )
    if future is None:
        return _verdict(
            "prosody still runs the values .env had when it was created (not recreated since); the .env works",
            ids.JM_RECREATE,
            [drift, today],
            f"Run `{RECREATE}` (a restart does not reload .env).",
            recreate=True,
        )
    cause, fid = cause_of(today)
    later_cause, later_fid = cause_of(future)
    return _verdict(
        f"{cause} (today, in the running container); after a recreate the edited .env would fail at "
        f"{link_of(future)} ({later_cause})",
        fid,
        [today, future, drift],
        f"Fix .env first: {_hint(future)} Then `{RECREATE}`.",
        recreate=True,
        later=later_fid,
    )


def not_inspected(ev: Evidence) -> Verdict | None:
    """No container to compare with: the host path's first broken link, else why the container was not seen."""
    p = paths_of(ev)
    if p.inspected:
        return None
    first = first_broken(p.host)
    if first is not None:
        return _broken(first)
    find = ev.failed("container.find")
    if find is not None:
        return _verdict(
            "the prosody container could not be inspected: " + find.summary,
            find.failure_id or ids.DOCKER_UNAVAILABLE,
            [find],
            _hint(find),
        )
    return None


def two_paths(ev: Evidence) -> Verdict | None:
    """The container runs other values than the .env: name today's failure first, never break a working login."""
    p = paths_of(ev)
    return _two_paths(ev, p, p.drift) if p.inspected and p.drift is not None else None


def one_path(ev: Evidence) -> Verdict | None:
    """The container runs the .env's values: the first broken link over both chains."""
    p = paths_of(ev)
    return _one_path(ev, p, ev.login) if p.inspected and p.drift is None else None


def any_failure(ev: Evidence) -> Verdict | None:
    """A failure on no link of the chain (the run still failed): name the first one."""
    failed = ev.failures()
    return _broken(failed[0]) if failed else None


def success(ev: Evidence) -> Verdict | None:
    """Nothing failed: say what works (a login, or saslauthd's path without one)."""
    return _success(ev, paths_of(ev), ev.login)


# Most specific first: the LDAP chain's own rules, then the shared Jitsi rules (web's transports while saslauthd
# answers, jicofo, the env split, the guest host, prosody's own refusal), then any other failure, then success.
# The shared rules come after the chain's, so a broken link of the LDAP chain is always named first.
LDAP_RULES: tuple[Rule, ...] = (gate, not_inspected, two_paths, one_path)
RULES: tuple[Rule, ...] = (shared.host_setup, *LDAP_RULES, *shared.AFTER, any_failure, success)


def decide(results: Sequence[StepResult], *, login: str | None = None) -> Verdict | None:
    """The verdict of an LDAP run: a cause or, when something was judged and works, a success; else None."""
    return decide_with(results, RULES, login=login)
