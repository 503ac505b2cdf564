"""Combine host and container step results into the most likely cause of a failed login (shown first)."""

from __future__ import annotations

from collections.abc import Sequence

from ldapcheck.core import catalogue as ids
from ldapcheck.core.model import Status, StepResult, Verdict
from ldapcheck.core.verdict import Evidence, Rule, fact_line
from ldapcheck.core.verdict import decide as decide_with
from ldapcheck.core.verdict import verdict as _verdict
from ldapcheck.jitsi.container.steps import RECREATE

HOST_LDAP_STEPS = ("ldap.service_bind", "ldap.base", "ldap.user_search", "ldap.user_bind")
DRIFT_STEPS = {"container.env_drift": ids.JM_RECREATE, "container.saslauthd_conf": ids.JM_STALE_CONFIG}


def host_login_failed(ev: Evidence) -> bool:
    """The host chain, which uses the .env values, fails on the LDAP side too (so config drift is not why)."""
    return any(ev.failed(i) for i in HOST_LDAP_STEPS)


def login_ok(ev: Evidence) -> bool:
    """saslauthd answered OK (socket protocol or testsaslauthd)."""
    return ev.passed("container.saslauthd_protocol") or ev.passed("container.testsaslauthd")


def auth_type(ev: Evidence) -> Verdict | None:
    """AUTH_TYPE / ENABLE_AUTH gates: saslauthd not started, or prosody not using cyrus."""
    steps = [r for r in ev.with_id(ids.JM_AUTH_TYPE) if r.id.startswith("container.")]
    if not steps:
        return None
    gates = {str(r.detail.get("gate", "")) for r in steps}
    if "ENABLE_AUTH" in gates and "AUTH_TYPE" not in gates:
        cause = "ENABLE_AUTH is off: prosody lets everyone in anonymously and never asks saslauthd"
        hint = f"Set ENABLE_AUTH=1 in .env, then `{RECREATE}`."
    else:
        cause = "AUTH_TYPE is not exactly `ldap`: saslauthd is not configured/started (and prosody may not use cyrus)"
        hint = f"Set AUTH_TYPE=ldap (lower case, no quotes) in .env, then `{RECREATE}`."
    return _verdict(cause, ids.JM_AUTH_TYPE, steps, hint)


def recreate(ev: Evidence) -> Verdict | None:
    """The container runs older .env values."""
    r = ev.failed("container.env_drift")
    if r is None or host_login_failed(ev):
        return None
    consequences = [x for x in ev.failures("container.") if x.id != r.id][:3]
    return _verdict(
        "the prosody container still runs with the values .env had when it was created (not recreated since)",
        ids.JM_RECREATE,
        [r, *consequences],
        f"Run `{RECREATE}` (a restart does not reload .env).",
    )


def env_would_break(ev: Evidence) -> Verdict | None:
    """Logins work today with the container's (older) values, but the edited .env fails: a recreate breaks them."""
    drift = ev.failed("container.env_drift")
    host = [r for r in (ev.failed(i) for i in HOST_LDAP_STEPS) if r is not None]
    if drift is None or not host or not login_ok(ev):
        return None
    return _verdict(
        "logins work now with the values the container was created with, but the edited .env fails at "
        f"{host[0].id}: recreating prosody from this .env would break them",
        host[0].failure_id or ids.JM_RECREATE,
        [host[0], drift],
        f"Fix .env first: {host[0].hint} Only then run `{RECREATE}`.",
    )


def stale_conf(ev: Evidence) -> Verdict | None:
    """saslauthd.conf in use differs from what the container's env renders."""
    r = ev.failed("container.saslauthd_conf")
    if r is None or r.failure_id not in (ids.JM_STALE_CONFIG, ids.JM_CUSTOM_CONF, ids.SA_CONF_INVALID):
        return None
    if r.failure_id != ids.SA_CONF_INVALID and host_login_failed(ev):
        return None
    causes = {
        ids.JM_CUSTOM_CONF: "a mounted /etc/saslauthd.conf overrides the LDAP_* values of .env",
        ids.JM_STALE_CONFIG: "saslauthd reads a stale saslauthd.conf that no longer matches the container's env",
        ids.SA_CONF_INVALID: "saslauthd rejects its saslauthd.conf as a whole, so every login is refused",
    }
    failure_id = r.failure_id or ids.JM_STALE_CONFIG
    return _verdict(causes[failure_id], failure_id, [r], r.hint, _difffact_line(r))


def _difffact_line(r: StepResult) -> str:
    keys = r.detail.get("differing keys")
    return f"differing keys: {', '.join(str(k) for k in keys)}" if isinstance(keys, list | tuple) else ""


def saslauthd_down(ev: Evidence) -> Verdict | None:
    """saslauthd not running or its socket not reachable for prosody."""
    steps = [r for r in ev.with_id(ids.SA_SOCKET) if r.id.startswith("container.saslauthd_")]
    if not steps:
        return None
    first = steps[0]
    if first.id == "container.saslauthd_process":
        cause = "saslauthd is not running in the prosody container: prosody's logins fail with a generic failure"
    else:
        cause = "prosody's user cannot reach saslauthd's socket: every login fails with a generic failure"
    return _verdict(cause, ids.SA_SOCKET, steps, first.hint)


def container_network(ev: Evidence) -> Verdict | None:
    """The directory is reachable from the host but not from inside the container."""
    steps = [r for r in ev.with_id(ids.NET_CONTAINER) if r.id.startswith("container.")]
    if not steps:
        return None
    host_ok = [r for r in ev.results if r.id.startswith(("net.", "ldap.service_bind")) and r.status is Status.PASS]
    return _verdict(
        "the directory works from the host but not from inside the prosody container (DNS, network or TLS differ)",
        ids.NET_CONTAINER,
        steps,
        steps[0].hint,
        *[f"from the host: {fact_line(r)}" for r in host_ok[:2]],
    )


def tls_files(ev: Evidence) -> Verdict | None:
    """saslauthd.conf names TLS files (CA, client cert) that do not exist inside the container."""
    r = ev.failed("container.ldap_chain")
    if r is None or r.failure_id != ids.TLS_CA_PATH:
        return None
    return _verdict(
        "saslauthd cannot set up TLS: the CA/certificate files its config names do not exist inside the container",
        ids.TLS_CA_PATH,
        [r],
        r.hint,
    )


def _user_bind_failures(ev: Evidence) -> list[StepResult]:
    return [
        r
        for r in (ev.failed("ldap.user_bind"), ev.failed("container.ldap_chain"))
        if r is not None
        and r.failure_id in (ids.RC_49, ids.AD_52E)
        and ("user bind" in r.summary or r.id == "ldap.user_bind")
    ]


def cached_password(ev: Evidence) -> Verdict | None:
    """saslauthd accepts a password the directory rejects: its -c cache answers."""
    if not login_ok(ev):
        return None
    binds = _user_bind_failures(ev)
    if not binds:
        return None
    ok = [
        r
        for r in (ev.get("container.saslauthd_protocol"), ev.get("container.testsaslauthd"))
        if r and r.status is Status.PASS
    ]
    cache = ev.detail("container.saslauthd_process", "credential cache")
    if ev.detail("container.saslauthd_protocol", "answered from cache") == "True":
        cache = "saslauthd logged `auth success (cached)` for this login"
    return _verdict(
        "saslauthd accepts a password the directory rejects: it answers from its credential cache (-c), "
        "so an old password keeps working for up to 8 hours after a change",
        ids.SA_CACHE,
        [*binds, *ok],
        f"Recreate prosody to flush the cache (`{RECREATE}`); the directory itself is right.",
        f"saslauthd credential cache: {cache}" if cache else "",
    )


def tokens(ev: Evidence) -> Verdict | None:
    """No entry because of how the login reaches saslauthd (`@domain` stripped, `%d` empty)."""
    r = ev.failed("container.ldap_chain") or ev.failed("ldap.user_search")
    if r is None or r.failure_id != ids.SA_ENTRY_COUNT or "two or more" in r.summary:
        return None
    pattern = ev.detail("container.ldap_chain", "pattern")
    typed = ev.detail("container.ldap_chain", "typed") or ev.detail("container.saslauthd_protocol", "typed")
    login = ev.detail("container.ldap_chain", "login")
    if "%d" in pattern:
        return _verdict(
            f"LDAP_FILTER {pattern} uses %d, which saslauthd leaves empty for prosody logins (realm goes to %r)",
            ids.SA_TOKENS,
            [r],
            "Use %u (the login without @domain) or %r (XMPP_DOMAIN) instead of %d.",
        )
    if "@" in typed and login and login != typed:
        return _verdict(
            f"the login {typed!r} reaches saslauthd as {login!r}: prosody strips everything from the first @",
            ids.SA_TOKENS,
            [r],
            "Log in with the part before @, or make LDAP_FILTER match that part (e.g. uid=%u).",
        )
    return None


def entry_count(ev: Evidence) -> Verdict | None:
    """The filter matches no entry or several."""
    steps = [r for r in ev.with_id(ids.SA_ENTRY_COUNT)]
    if not steps:
        return None
    r = steps[0]
    many = "two or more" in r.summary or "more than one" in r.summary
    cause = (
        "LDAP_FILTER matches more than one entry for this login; saslauthd needs exactly one"
        if many
        else "LDAP_FILTER/LDAP_BASE find no entry for this login (unknown user or wrong filter)"
    )
    return _verdict(cause, ids.SA_ENTRY_COUNT, steps, r.hint)


def wrong_password(ev: Evidence) -> Verdict | None:
    """The entry is found but its password is rejected."""
    binds = _user_bind_failures(ev)
    if not binds:
        return None
    return _verdict(
        "the user's entry is found but the directory rejects this password",
        binds[0].failure_id or ids.RC_49,
        binds,
        "The password is wrong (or was changed); check the account's state (locked/expired) in the directory.",
    )


def service_bind(ev: Evidence) -> Verdict | None:
    """The service account's bind fails (host or container)."""
    steps = [r for r in (ev.failed("ldap.service_bind"), ev.failed("container.ldap_chain")) if r is not None]
    steps = [r for r in steps if r.id == "ldap.service_bind" or "service bind" in r.summary]
    if not steps:
        return None
    return _verdict(
        "the service bind (LDAP_BINDDN / LDAP_BINDPW) fails, so saslauthd cannot search for users",
        steps[0].failure_id or ids.RC_49,
        steps,
        steps[0].hint,
    )


def container_unreachable(ev: Evidence) -> Verdict | None:
    """The container could not be inspected at all (and nothing else failed)."""
    r = ev.failed("container.find")
    if r is None or [x for x in ev.failures() if not x.id.startswith("container.")]:
        return None
    return _verdict(
        "the prosody container could not be inspected: " + r.summary,
        r.failure_id or ids.DOCKER_UNAVAILABLE,
        [r],
        r.hint,
    )


def first_failure(ev: Evidence) -> Verdict | None:
    """Fallback: the first failed step names the cause (saslauthd stops at the same place)."""
    failures = ev.failures()
    if not failures:
        return None
    first = next((r for r in failures if r.failure_id), None)
    if first is None:
        return None
    return _verdict(first.summary, first.failure_id or ids.SA_OPAQUE_NO, [first], first.hint)


# Most specific first: a cause that explains the others wins.
RULES: tuple[Rule, ...] = (
    auth_type,
    env_would_break,
    recreate,
    stale_conf,
    saslauthd_down,
    tls_files,
    container_network,
    cached_password,
    tokens,
    entry_count,
    wrong_password,
    service_bind,
    container_unreachable,
    first_failure,
)


def decide(results: Sequence[StepResult]) -> Verdict | None:
    """The verdict for a run, or None when nothing failed."""
    return decide_with(results, RULES, finish=_with_drift_note)


def _with_drift_note(ev: Evidence, verdict: Verdict) -> Verdict:
    """Config drift that is not the cause still matters: after the fix, the container must be recreated."""
    notes = [
        f"also {r.failure_id}: {r.summary}"
        for step_id in DRIFT_STEPS
        if (r := ev.failed(step_id)) is not None
        and r.failure_id != verdict.failure_id
        and fact_line(r) not in verdict.facts  # already cited as evidence
    ]
    if not notes:
        return verdict
    return Verdict(
        cause=verdict.cause, failure_id=verdict.failure_id, facts=[*verdict.facts, *notes], hint=verdict.hint
    )
