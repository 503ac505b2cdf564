"""The verdict: which combination of step results names which cause."""

from __future__ import annotations

from ldapcheck.auth.ldap.verdict import decide
from ldapcheck.core.model import Status, StepResult


def ok(step_id: str, summary: str = "ok", **detail: object) -> StepResult:
    return StepResult(id=step_id, title=step_id, status=Status.PASS, summary=summary, detail=detail)


def fail(step_id: str, failure_id: str, summary: str, **detail: object) -> StepResult:
    return StepResult(
        id=step_id, title=step_id, status=Status.FAIL, summary=summary, failure_id=failure_id, detail=detail, hint="h"
    )


HOST_OK = [ok("net.dns[127.0.0.1]"), ok("net.tcp[127.0.0.1:389]"), ok("ldap.service_bind"), ok("ldap.user_search")]
CONTAINER_OK = [ok("container.find"), ok("container.generation"), ok("container.saslauthd_process")]


def test_no_failure_no_verdict() -> None:
    assert decide([*HOST_OK, *CONTAINER_OK, ok("container.saslauthd_protocol")]) is None


def test_saslauthd_not_running_because_of_auth_type_case() -> None:
    results = [
        *HOST_OK,
        ok("container.find"),
        fail("container.saslauthd_conf", "JM-AUTH-TYPE", "/run/saslauthd.conf does not exist: AUTH_TYPE=LDAP ..."),
        fail(
            "container.saslauthd_process", "JM-AUTH-TYPE", "saslauthd is not running: AUTH_TYPE=LDAP", gate="AUTH_TYPE"
        ),
        fail("container.prosody_config", "JM-AUTH-TYPE", "not cyrus", gate="AUTH_TYPE"),
    ]
    v = decide(results)
    assert v is not None and v.failure_id == "JM-AUTH-TYPE"
    assert "AUTH_TYPE" in v.cause
    assert any("container.saslauthd_process" in f for f in v.facts)


def test_enable_auth_off_named_as_such() -> None:
    results = [*HOST_OK, *CONTAINER_OK, fail("container.prosody_config", "JM-AUTH-TYPE", "anon", gate="ENABLE_AUTH")]
    v = decide(results)
    assert v is not None and v.failure_id == "JM-AUTH-TYPE"
    assert "ENABLE_AUTH" in v.cause


def test_env_drift_wins_over_its_consequences() -> None:
    results = [
        *HOST_OK,
        *CONTAINER_OK,
        fail("container.env_drift", "JM-RECREATE", "LDAP_FILTER: .env '(uid=%u)', container '(cn=%u)'"),
        fail("container.ldap_chain", "SA-ENTRY-COUNT", "(cn=alice) matches no entry"),
        fail("container.saslauthd_protocol", "SA-OPAQUE-NO", "saslauthd: NO"),
    ]
    v = decide(results)
    assert v is not None and v.failure_id == "JM-RECREATE"
    assert "force-recreate" in v.hint
    assert len(v.facts) >= 2


def test_stale_and_custom_conf() -> None:
    stale = fail("container.saslauthd_conf", "JM-STALE-CONFIG", "stale", **{"differing keys": ["ldap_filter"]})
    v = decide([*CONTAINER_OK, stale])
    assert v is not None and v.failure_id == "JM-STALE-CONFIG"
    assert "differing keys: ldap_filter" in v.facts
    custom = fail("container.saslauthd_conf", "JM-CUSTOM-CONF", "mounted")
    v2 = decide([*CONTAINER_OK, custom])
    assert v2 is not None and v2.failure_id == "JM-CUSTOM-CONF"


def test_saslauthd_killed_and_socket_permission() -> None:
    v = decide([*HOST_OK, ok("container.find"), fail("container.saslauthd_process", "SA-SOCKET", "not running")])
    assert v is not None and v.failure_id == "SA-SOCKET" and "not running" in v.cause
    v2 = decide([*HOST_OK, *CONTAINER_OK, fail("container.saslauthd_socket", "SA-SOCKET", "Permission denied")])
    assert v2 is not None and v2.failure_id == "SA-SOCKET" and "socket" in v2.cause


def test_network_difference_between_host_and_container() -> None:
    results = [
        *HOST_OK,
        *CONTAINER_OK,
        fail("container.net[ldap.example.org:389]", "NET-CONTAINER", "does not resolve inside"),
        fail("container.ldap_chain", "NET-CONTAINER", "service bind as cn=svc fails inside the container"),
    ]
    v = decide(results)
    assert v is not None and v.failure_id == "NET-CONTAINER"
    assert any(f.startswith("from the host:") for f in v.facts)


def test_cached_old_password() -> None:
    results = [
        *HOST_OK,
        fail("ldap.user_bind", "RC-49", "the directory rejects the password of uid=bob"),
        *CONTAINER_OK,
        fail("container.ldap_chain", "RC-49", "user bind as uid=bob fails inside the container: Invalid credentials"),
        ok("container.saslauthd_protocol", "saslauthd: OK"),
    ]
    v = decide(results)
    assert v is not None and v.failure_id == "SA-CACHE"
    assert "cache" in v.cause


def test_wrong_password_when_saslauthd_agrees() -> None:
    results = [
        *HOST_OK,
        fail("ldap.user_bind", "RC-49", "password rejected"),
        *CONTAINER_OK,
        fail("container.ldap_chain", "RC-49", "user bind as uid=bob fails inside the container: Invalid credentials"),
        fail("container.saslauthd_protocol", "SA-OPAQUE-NO", "saslauthd: NO"),
    ]
    v = decide(results)
    assert v is not None and v.failure_id == "RC-49"
    assert "password" in v.cause


def test_percent_d_filter() -> None:
    chain = fail(
        "container.ldap_chain",
        "SA-ENTRY-COUNT",
        "(mail=alice@) matches no entry",
        pattern="(mail=%u@%d)",
        typed="alice",
    )
    v = decide([*CONTAINER_OK, chain, fail("container.saslauthd_protocol", "SA-OPAQUE-NO", "NO")])
    assert v is not None and v.failure_id == "SA-TOKENS" and "%d" in v.cause


def test_login_typed_with_domain() -> None:
    chain = fail(
        "container.ldap_chain",
        "SA-ENTRY-COUNT",
        "(mail=carol) matches no entry",
        pattern="(mail=%u)",
        typed="carol@example.org",
        login="carol",
    )
    v = decide([*CONTAINER_OK, chain])
    assert v is not None and v.failure_id == "SA-TOKENS"
    assert "carol@example.org" in v.cause and "'carol'" in v.cause


def test_wrong_filter_plain_zero_entries() -> None:
    chain = fail(
        "container.ldap_chain", "SA-ENTRY-COUNT", "(cn=alice) matches no entry", pattern="(cn=%u)", typed="alice"
    )
    v = decide([*CONTAINER_OK, chain])
    assert v is not None and v.failure_id == "SA-ENTRY-COUNT" and "no entry" in v.cause


def test_docker_unreachable_only_when_nothing_else_failed() -> None:
    no_docker = fail("container.find", "DOCKER-UNAVAILABLE", "no Docker engine answered")
    v = decide([*HOST_OK, no_docker])
    assert v is not None and v.failure_id == "DOCKER-UNAVAILABLE"
    host_fail = fail("ldap.service_bind", "RC-49", "service bind rejected")
    v2 = decide([host_fail, no_docker])
    assert v2 is not None and v2.failure_id == "RC-49"


def test_fallback_first_failure_with_id() -> None:
    v = decide([ok("a"), fail("tls.handshake[h:636]", "TLS-SELF-SIGNED", "untrusted CA")])
    assert v is not None and v.failure_id == "TLS-SELF-SIGNED"


def test_drift_is_not_the_cause_when_the_host_fails_the_same_way() -> None:
    results = [
        *HOST_OK,
        fail("ldap.user_bind", "RC-49", "password rejected"),
        *CONTAINER_OK,
        fail("container.env_drift", "JM-RECREATE", "LDAP_URL: .env 'a', container 'b'"),
        fail("container.ldap_chain", "RC-49", "user bind as uid=bob fails inside the container: Invalid credentials"),
        fail("container.saslauthd_protocol", "SA-OPAQUE-NO", "saslauthd: NO"),
    ]
    v = decide(results)
    assert v is not None and v.failure_id == "RC-49"
    assert any(f.startswith("also JM-RECREATE:") for f in v.facts)


def test_edited_env_fails_while_the_running_container_still_works() -> None:
    results = [
        ok("net.dns[127.0.0.1]"),
        fail("ldap.service_bind", "RC-49", "bind rejected: invalidCredentials (49)"),
        *CONTAINER_OK,
        fail("container.env_drift", "JM-RECREATE", "runs with other values than .env: LDAP_BINDPW differs"),
        ok("container.saslauthd_protocol", "saslauthd: OK"),
    ]
    v = decide(results)
    assert v is not None and v.failure_id == "RC-49"
    assert "would break" in v.cause
    assert "Fix .env first" in v.hint
    assert any("container.env_drift" in f for f in v.facts)


def test_service_bind_failing_everywhere_is_not_a_future_break() -> None:
    results = [
        fail("ldap.service_bind", "RC-49", "bind rejected"),
        *CONTAINER_OK,
        fail("container.env_drift", "JM-RECREATE", "LDAP_URL differs"),
        fail("container.saslauthd_protocol", "SA-OPAQUE-NO", "saslauthd: NO"),
    ]
    v = decide(results)
    assert v is not None and "would break" not in v.cause
