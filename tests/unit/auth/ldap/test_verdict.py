"""The LDAP verdict as a pure function of structured step results: tables of runs → cause, id, recreate advice.

Every row names the run as an admin would meet it; summaries are deliberately uninformative ("x"), so a rule
that reads text instead of facts fails here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from ldapcheck.auth.ldap.verdict import decide, first_broken, link_of
from ldapcheck.core import facts as F
from ldapcheck.core.model import Status, StepResult


def ok(step_id: str, **facts: object) -> StepResult:
    return StepResult(id=step_id, title=step_id, status=Status.PASS, summary="x", facts=facts)


def warn(step_id: str, failure_id: str, **facts: object) -> StepResult:
    return StepResult(id=step_id, title=step_id, status=Status.WARN, summary="x", failure_id=failure_id, facts=facts)


def fail(step_id: str, failure_id: str, **facts: object) -> StepResult:
    return StepResult(
        id=step_id, title=step_id, status=Status.FAIL, summary="x", failure_id=failure_id, hint="h", facts=facts
    )


def skip(step_id: str) -> StepResult:
    return StepResult(id=step_id, title=step_id, status=Status.SKIP, summary="skipped: earlier step failed")


H = "ldap.example.org"
HP = f"{H}:389"
HOST_NET = [ok("config.parse"), ok(f"net.dns[{H}]"), ok(f"net.tcp[{HP}]"), ok(f"net.plain[{HP}]")]
HOST_DIR = [ok("ldap.rootdse"), ok("ldap.service_bind"), ok("ldap.base")]
HOST_USER = [ok("ldap.user_search", entries=1), ok("ldap.account_state"), ok("ldap.user_bind", bind="user")]
HOST_OK = [*HOST_NET, *HOST_DIR, *HOST_USER]
C_HEAD = [ok("container.find"), ok("container.generation")]
C_CONF = [ok("container.env_drift"), ok("container.saslauthd_conf"), ok("container.saslauthd_process")]
C_SOCK = [ok("container.saslauthd_socket"), ok("container.sasl_app_conf"), ok("container.prosody_config")]
C_NET = [ok(f"container.net[{HP}]")]
C_OK = [*C_HEAD, *C_CONF, *C_SOCK, *C_NET, ok("container.ldap_chain")]
LOGIN_OK = ok("container.saslauthd_protocol", login_typed="alice", login_seen="alice")
LOGIN_NO = fail("container.saslauthd_protocol", "SA-OPAQUE-NO", login_typed="alice", login_seen="alice")
DRIFT = fail("container.env_drift", "JM-RECREATE", differing=["LDAP_BINDPW"])


def replace(results: list[StepResult], *new: StepResult) -> list[StepResult]:
    """`results` with the steps of the same id replaced by `new` (others appended)."""
    by_id = {r.id: r for r in new}
    out = [by_id.pop(r.id, r) for r in results]
    return out + list(by_id.values())


def host_broken_at(step: StepResult) -> list[StepResult]:
    """The host chain broken at `step`: later LDAP steps are skipped, as the runner does."""
    order = [r.id for r in HOST_OK]
    at = order.index(step.id) if step.id in order else len(order)
    return [*HOST_OK[:at], step, *[skip(i) for i in order[at + 1 :]]]


@dataclass(frozen=True)
class Row:
    name: str
    results: list[StepResult]
    failure_id: str | None
    recreate: bool = False
    later: str | None = None
    cause: tuple[str, ...] = ()
    login: str | None = "alice"
    not_in_cause: tuple[str, ...] = field(default=())


DNS = fail(f"net.dns[{H}]", "NET-DNS", net="dns")
REFUSED = fail(f"net.tcp[{HP}]", "NET-REFUSED", net="refused")
TIMEOUT = fail(f"net.plain[{HP}]", "NET-TIMEOUT", net="timeout")
PROTO = fail(f"net.plain[{HP}]", "NET-PROTO-MISMATCH", net="proto-mismatch")
SELF_SIGNED = fail(f"tls.handshake[{H}:636]", "TLS-SELF-SIGNED", net="tls")
SVC_BIND = fail("ldap.service_bind", "RC-49", bind="service")
BASE = fail("ldap.base", "RC-32")
NO_ENTRY = fail("ldap.user_search", "SA-ENTRY-COUNT", entries=0, login_typed="alice", login_seen="alice")
TWO = fail("ldap.user_search", "SA-ENTRY-COUNT", entries=2, login_typed="dupe", login_seen="dupe")
LOCKED = fail("ldap.account_state", "OL-PPOLICY", account="locked")
BAD_PW = fail("ldap.user_bind", "RC-49", bind="user")


# The shared Jitsi steps the LDAP path runs after its container phase (BOSH and WebSocket only read the
# mechanisms: saslauthd already tried the password), and BOSH broken at nginx.
JITSI_OK = [
    ok("xmpp.login.websocket", **{"xmpp.transport": "websocket", "xmpp.attempt": "probe"}),
    ok("xmpp.login.bosh", **{"xmpp.transport": "bosh", "xmpp.attempt": "probe"}),
    ok("web.config_js"),
    ok("jitsi.env_split"),
    ok("jicofo.auth"),
    ok("xmpp.login.c2s", **{"xmpp.transport": "c2s", "xmpp.attempt": "probe"}),
    warn("jitsi.experience", "GUEST-OFF-PROMPT", login_unaffected=True),
]
BOSH_BROKEN = fail("xmpp.login.bosh", "WEB-BOSH", link="bosh", **{"xmpp.attempt": "none"})


# A Debian-package host (`--deployment host`): the host's own steps, then the container steps that mean the
# same there (no env drift, no template comparison, no second LDAP chain: this host is prosody's).
D_HEAD = [ok("container.find"), ok("container.generation"), ok("host.services"), ok("host.conf_links")]
D_LDAP = [ok("host.saslauthd_defaults"), ok("host.sasl_group"), ok("host.cyrus_module")]
D_SHARED = [
    ok("container.saslauthd_conf_perms"),
    ok("container.saslauthd_process"),
    ok("container.saslauthd_socket"),
    ok("container.sasl_app_conf"),
    ok("container.prosody_config"),
]


def c_chain_fail(fid: str, link: str, **facts: object) -> StepResult:
    return fail("container.ldap_chain", fid, link=link, **facts)


ROWS = [
    # --- one path: the container was created from this .env ----------------------------------------------------
    Row("healthy login", [*HOST_OK, *C_OK, LOGIN_OK], None, cause=("alice can log in",)),
    Row(
        "healthy login with a warning that does not affect logins",
        [*HOST_OK, warn("ldap.user_count", "OL-SIZELIMIT", login_unaffected=True), *C_OK, LOGIN_OK],
        None,
        cause=("1 warning(s) do not affect logins",),
    ),
    Row(
        "DNS fails on host and in the container",
        [*host_broken_at(DNS), *C_HEAD, *C_CONF, *C_SOCK, fail(f"container.net[{HP}]", "NET-DNS", net="dns"), LOGIN_NO],
        "NET-DNS",
        not_in_cause=("service bind",),
    ),
    Row(
        "port closed",
        [*host_broken_at(REFUSED), *C_HEAD, *C_CONF, fail(f"container.net[{HP}]", "NET-REFUSED", net="refused")],
        "NET-REFUSED",
    ),
    Row("ldaps on the plain port", [*host_broken_at(PROTO), *C_OK, LOGIN_NO], "NET-PROTO-MISMATCH"),
    Row("server that never answers", [*host_broken_at(TIMEOUT), *C_OK, LOGIN_NO], "NET-TIMEOUT"),
    Row("untrusted certificate", [*host_broken_at(SELF_SIGNED), *C_OK, LOGIN_NO], "TLS-SELF-SIGNED"),
    Row(
        "service bind fails everywhere",
        [*host_broken_at(SVC_BIND), *C_OK[:-1], c_chain_fail("RC-49", "service_bind", bind="service"), LOGIN_NO],
        "RC-49",
        cause=("service bind",),
    ),
    Row("base does not exist", [*host_broken_at(BASE), *C_OK, LOGIN_NO], "RC-32"),
    Row("unknown user", [*host_broken_at(NO_ENTRY), *C_OK, LOGIN_NO], "SA-ENTRY-COUNT", cause=("no entry",)),
    Row(
        "two entries match the login",
        [*host_broken_at(TWO), *C_OK, LOGIN_NO],
        "SA-ENTRY-COUNT",
        cause=("2 entries",),
        not_in_cause=("no entry",),
    ),
    Row(
        "%d in the filter",
        [
            *HOST_OK,
            *C_OK[:-1],
            c_chain_fail("SA-ENTRY-COUNT", "user_search", entries=0, filter="(mail=%u@%d)", login_typed="alice"),
            LOGIN_NO,
        ],
        "SA-TOKENS",
        cause=("%d",),
    ),
    Row(
        "login typed with @domain",
        [
            *host_broken_at(
                fail(
                    "ldap.user_search", "SA-ENTRY-COUNT", entries=0, login_typed="carol@example.org", login_seen="carol"
                )
            ),
            *C_OK,
            LOGIN_NO,
        ],
        "SA-TOKENS",
        cause=("'carol@example.org'", "'carol'"),
    ),
    Row(
        "locked account is not a wrong password",
        [*host_broken_at(LOCKED), *C_OK, LOGIN_NO],
        "OL-PPOLICY",
        cause=("locked",),
        not_in_cause=("rejects this password",),
    ),
    Row(
        "AD disabled account at the bind",
        [*host_broken_at(fail("ldap.user_bind", "AD-533", bind="user", account="disabled")), *C_OK, LOGIN_NO],
        "AD-533",
        cause=("disabled",),
    ),
    Row("wrong password", [*host_broken_at(BAD_PW), *C_OK, LOGIN_NO], "RC-49", cause=("rejects this password",)),
    Row(
        "empty password",
        [
            *host_broken_at(fail("ldap.user_bind", "RC-53", bind="user", empty_password=True)),
            *C_OK,
            fail("container.saslauthd_protocol", "RC-53", empty_password=True),
        ],
        "RC-53",
        cause=("empty",),
    ),
    Row(
        "saslauthd answers from its cache",
        [*host_broken_at(BAD_PW), *C_OK, ok("container.saslauthd_protocol", cached=True)],
        "SA-CACHE",
        recreate=True,
        cause=("cache",),
    ),
    Row(
        "saslauthd not running",
        [*HOST_OK, *C_HEAD, ok("container.env_drift"), fail("container.saslauthd_process", "SA-SOCKET")],
        "SA-SOCKET",
        cause=("not running",),
    ),
    Row(
        "socket not reachable",
        [*HOST_OK, *C_HEAD, *C_CONF, fail("container.saslauthd_socket", "SA-SOCKET"), LOGIN_NO],
        "SA-SOCKET",
        cause=("socket",),
    ),
    Row(
        "DNS differs inside the container",
        [*HOST_OK, *C_HEAD, *C_CONF, *C_SOCK, fail(f"container.net[{HP}]", "NET-CONTAINER", net="dns"), LOGIN_NO],
        "NET-CONTAINER",
        cause=("from the host but not from inside",),
    ),
    Row(
        "CA files missing inside the container",
        [*HOST_OK, *C_OK[:-1], c_chain_fail("TLS-CA-PATH", "tls"), LOGIN_NO],
        "TLS-CA-PATH",
    ),
    Row(
        "host's trust store and the container's missing CA file: the container says what saslauthd meets",
        [*host_broken_at(SELF_SIGNED), *C_OK[:-1], c_chain_fail("TLS-CA-PATH", "tls"), LOGIN_NO],
        "TLS-CA-PATH",
    ),
    Row(
        "a server only the edited .env names is tried from inside too: that is the future, not today",
        [
            *host_broken_at(DNS),
            *replace(C_OK, DRIFT),
            fail("container.net[ldap.invalid:389]", "NET-DNS", net="dns", path="env"),
            LOGIN_OK,
        ],
        "NET-DNS",
        later="NET-DNS",
        cause=("logins work now", "would break"),
    ),
    Row(
        "a gate only in the edited .env is a future break",
        [fail("config.parse", "JM-AUTH-TYPE", gate="AUTH_TYPE"), *HOST_OK[1:], *replace(C_OK, DRIFT), LOGIN_OK],
        "JM-AUTH-TYPE",
        later="JM-AUTH-TYPE",
        cause=("logins work now", "would break"),
    ),
    Row(
        "stale saslauthd.conf",
        [*HOST_OK, *C_HEAD, ok("container.env_drift"), fail("container.saslauthd_conf", "JM-STALE-CONFIG"), LOGIN_NO],
        "JM-STALE-CONFIG",
        cause=("stale",),
    ),
    Row(
        "saslauthd rejects its config",
        [*HOST_OK, *C_HEAD, ok("container.env_drift"), fail("container.saslauthd_conf", "SA-CONF-INVALID"), LOGIN_NO],
        "SA-CONF-INVALID",
    ),
    Row(
        "AUTH_TYPE=LDAP in the container",
        [
            *HOST_OK,
            *C_HEAD,
            fail("container.saslauthd_process", "JM-AUTH-TYPE", gate="AUTH_TYPE"),
            fail("container.prosody_config", "JM-AUTH-TYPE", gate="AUTH_TYPE"),
        ],
        "JM-AUTH-TYPE",
        cause=("AUTH_TYPE",),
    ),
    Row(
        "ENABLE_AUTH off",
        [*HOST_OK, *C_HEAD, *C_CONF, fail("container.prosody_config", "JM-AUTH-TYPE", gate="ENABLE_AUTH")],
        "JM-AUTH-TYPE",
        cause=("ENABLE_AUTH",),
    ),
    Row(
        "saslauthd says NO although every link works",
        [*HOST_OK, *C_OK, LOGIN_NO],
        "SA-OPAQUE-NO",
    ),
    Row(
        "only this host cannot reach the directory",
        [*host_broken_at(DNS), *C_OK, LOGIN_OK],
        "NET-DNS",
        cause=("can log in", "only this host"),
    ),
    # --- host only (--no-container) ------------------------------------------------------------------------------
    Row("host only: healthy", HOST_OK, None, cause=("can log in with this .env", "not inspected")),
    Row("host only: refused", host_broken_at(REFUSED), "NET-REFUSED"),
    Row(
        "host only: gate in the .env",
        [fail("config.parse", "JM-AUTH-TYPE", gate="AUTH_TYPE"), *HOST_OK[1:]],
        "JM-AUTH-TYPE",
        cause=("AUTH_TYPE",),
    ),
    Row("host only: no login given", [*HOST_NET, *HOST_DIR], None, login=None, cause=("--user",)),
    Row(
        "container not inspectable, host fine",
        [*HOST_OK, fail("container.find", "DOCKER-UNAVAILABLE")],
        "DOCKER-UNAVAILABLE",
    ),
    Row(
        "container not inspectable, host broken",
        [*host_broken_at(SVC_BIND), fail("container.find", "DOCKER-NO-CONTAINER")],
        "RC-49",
    ),
    # --- two paths: the container runs other values than the .env ---------------------------------------------
    Row(
        "edited .env breaks the bind, the container still works",
        [*host_broken_at(SVC_BIND), *replace(C_OK, DRIFT), LOGIN_OK],
        "RC-49",
        recreate=False,
        later="RC-49",
        cause=("logins work now", "would break"),
    ),
    *[
        Row(
            f"edited .env fails at {step.failure_id}, the container still works",
            [*host_broken_at(step), *replace(C_OK, DRIFT), LOGIN_OK],
            step.failure_id,
            recreate=False,
            later=step.failure_id,
            cause=("logins work now", "would break"),
        )
        for step in (DNS, REFUSED, TIMEOUT, PROTO, SELF_SIGNED, BASE, fail("ldap.rootdse", "NET-TIMEOUT"))
    ],
    Row(
        "container not recreated, the .env is fixed",
        [
            *HOST_OK,
            *replace(C_OK, DRIFT, c_chain_fail("RC-49", "service_bind", bind="service")),
            LOGIN_NO,
        ],
        "JM-RECREATE",
        recreate=True,
        cause=("not recreated",),
    ),
    Row(
        "both broken: today's cause first, the .env's second",
        [
            *host_broken_at(BAD_PW),
            *replace(C_OK, DRIFT, c_chain_fail("NET-TIMEOUT", "tcp", net="timeout")),
            LOGIN_NO,
        ],
        "NET-TIMEOUT",
        recreate=True,  # after fixing the .env first, as the advice says
        later="RC-49",
        cause=("today", "after a recreate"),
    ),
    Row(
        "both work: recreating is safe",
        [*HOST_OK, *replace(C_OK, DRIFT), LOGIN_OK],
        "JM-RECREATE",
        recreate=True,
    ),
    # --- the shared Jitsi steps after the container phase: named only when the LDAP chain works -----------------
    Row(
        "BOSH broken at nginx while saslauthd says OK",
        [*HOST_OK, *C_OK, LOGIN_OK, *JITSI_OK[:1], BOSH_BROKEN, *JITSI_OK[2:]],
        "WEB-BOSH",
        cause=("through the web container", "xmpp.login.websocket"),
    ),
    Row(
        "jicofo's authentication off while saslauthd says OK",
        [*HOST_OK, *C_OK, LOGIN_OK, *replace(JITSI_OK, fail("jicofo.auth", "JICOFO-AUTH-OFF", link="jicofo"))],
        "JICOFO-AUTH-OFF",
    ),
    Row(
        "a broken LDAP link is named before web's transport",
        [*host_broken_at(BAD_PW), *C_OK, LOGIN_NO, *replace(JITSI_OK, BOSH_BROKEN)],
        "RC-49",
    ),
    Row(
        "healthy login with the shared Jitsi steps",
        [*HOST_OK, *C_OK, LOGIN_OK, *JITSI_OK],
        None,
        cause=("alice can log in through Jitsi",),
    ),
    # A Debian-package host: its own steps come first, and its setup is named before what it breaks downstream.
    Row("package host: healthy login", [*HOST_OK, *D_HEAD, *D_LDAP, *D_SHARED, LOGIN_OK], None),
    Row(
        "package host: START=no (saslauthd not running, socket missing)",
        [
            *HOST_OK,
            *replace(D_HEAD, fail("host.services", "HOST-SERVICE", link="saslauthd")),
            *replace(D_LDAP, fail("host.saslauthd_defaults", "HOST-SASLAUTHD-OFF", link="saslauthd")),
            *replace(D_SHARED, fail("container.saslauthd_process", "SA-SOCKET")),
            skip("container.saslauthd_socket"),
        ],
        "HOST-SASLAUTHD-OFF",
    ),
    Row(
        "package host: MECHANISMS=pam (saslauthd runs -a pam)",
        [
            *HOST_OK,
            *D_HEAD,
            *replace(D_LDAP, fail("host.saslauthd_defaults", "HOST-MECH", link="saslauthd")),
            *replace(D_SHARED, fail("container.saslauthd_process", "SA-SOCKET")),
        ],
        "HOST-MECH",
    ),
    Row(
        "package host: prosody not in the sasl group (socket refused)",
        [
            *HOST_OK,
            *D_HEAD,
            *replace(D_LDAP, fail("host.sasl_group", "HOST-SASL-GROUP", link="saslauthd")),
            *replace(D_SHARED, fail("container.saslauthd_socket", "SA-SOCKET")),
        ],
        "HOST-SASL-GROUP",
    ),
    Row(
        "package host: no mod_auth_cyrus",
        [*HOST_OK, *D_HEAD, *replace(D_LDAP, fail("host.cyrus_module", "HOST-NO-CYRUS")), *D_SHARED, LOGIN_OK],
        "HOST-NO-CYRUS",
    ),
    Row(
        "package host: the site's file not linked into conf.d (prosody has no such VirtualHost)",
        [
            *HOST_OK,
            *replace(D_HEAD, fail("host.conf_links", "HOST-CONF-UNLINKED", link="prosody")),
            *D_LDAP,
            *replace(D_SHARED, fail("container.prosody_config", "JM-AUTH-TYPE")),
            LOGIN_OK,
        ],
        "HOST-CONF-UNLINKED",
    ),
    Row(
        "package host: a broken LDAP link is still named when the host's setup is fine",
        [*host_broken_at(BAD_PW), *D_HEAD, *D_LDAP, *D_SHARED, LOGIN_NO],
        "RC-49",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_verdict_table(row: Row) -> None:
    v = decide(row.results, login=row.login)
    assert v is not None
    assert v.failure_id == row.failure_id, v
    assert v.recreate is row.recreate, v
    assert ("force-recreate" in v.hint) is row.recreate, v
    if row.later is not None:
        assert v.later == row.later
    for text in row.cause:
        assert text in v.cause, v.cause
    for text in row.not_in_cause:
        assert text not in v.cause, v.cause


def test_count_alone_has_no_verdict_to_give_when_nothing_failed() -> None:
    from ldapcheck.auth.ldap.chain import verdict_of

    assert verdict_of([*HOST_NET, *HOST_DIR, ok("ldap.user_count")], judge_success=False) is None


def test_first_broken_link_is_in_chain_order_not_report_order() -> None:
    results = [fail("ldap.user_bind", "RC-49", bind="user"), fail(f"net.dns[{H}]", "NET-DNS", net="dns")]
    broken = first_broken(results)
    assert broken is not None and broken.failure_id == "NET-DNS"


def test_links_come_from_facts_for_steps_that_cover_several() -> None:
    assert link_of(fail("container.ldap_chain", "RC-49", link="user_bind")) == "user_bind"
    assert link_of(fail(f"container.net[{HP}]", "NET-DNS", net="dns")) == "dns"
    assert link_of(fail("container.prosody_config", "JM-AUTH-TYPE", gate="ENABLE_AUTH")) == "settings"
    assert link_of(ok("container.find")) is None
    assert F.LINKS[0] == "settings"


def test_every_rule_of_the_table_is_exercised() -> None:
    from ldapcheck.auth.ldap import verdict

    fired: set[str] = set()
    for row in ROWS:
        for rule in verdict.RULES:
            if rule(verdict.Evidence(row.results, login=row.login)) is not None:
                fired.add(rule.__name__)
                break
    assert fired == {r.__name__ for r in verdict.RULES} - {"any_failure"}
