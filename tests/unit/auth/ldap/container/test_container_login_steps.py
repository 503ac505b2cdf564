"""The container login steps without a container: failure ids and the facts the verdict reads (items A, 7)."""

from __future__ import annotations

import pytest

from ldapcheck.auth.ldap.container import login
from ldapcheck.auth.ldap.container import probe as probemod
from ldapcheck.auth.ldap.container.view import LoginOptions, SaslauthdView
from ldapcheck.core import catalogue as ids
from ldapcheck.core.facts import (
    ACCOUNT,
    BIND,
    CACHED,
    EMPTY_PASSWORD,
    ENTRIES,
    FILTER,
    LINK,
    LOGIN_SEEN,
    LOGIN_TYPED,
    NET,
)
from ldapcheck.core.secrets import Secret
from ldapcheck.core.step import CheckFailed
from ldapcheck.jitsi.container.facts import ContainerFacts, Process
from ldapcheck.jitsi.container.steps import net_step
from testing.sessions import SASLAUTHD_CURRENT, session

CONF = "ldap_servers: ldap://ldap.example:389/\nldap_search_base: dc=example,dc=org\nldap_filter: mail=%u@example.org\n"
ENTRY = "uid=alice,dc=example,dc=org"
PW = "pw"
LOGIN = {LOGIN_TYPED: "alice@meet.jitsi", LOGIN_SEEN: "alice"}


def view(
    probe_out: str, password: str | None = PW, log: list[str] | None = None, tcp: int = 0, dns: int = 0
) -> SaslauthdView:
    facts = ContainerFacts(
        files={"/run/saslauthd.conf": CONF},
        processes=[Process(pid=20, uid=0, argv=SASLAUTHD_CURRENT)],
        dns={"ldap.example": (dns, "10.0.0.1" if dns == 0 else "")},
        tcp={("ldap.example", 389): tcp},
        complete=True,
    )
    found = session(facts)
    parsed = probemod.parse(probe_out + "done\tok\n")
    parsed.started_at = 1.0
    found._memo["probe"] = (True, parsed)
    found._memo["log"] = (True, log or [])
    secret = Secret(password) if password is not None else None
    return SaslauthdView(found, LoginOptions(login="alice@meet.jitsi", password=secret))


BOUND = "service_bind\tok\t(anonymous)\t3\n"


def fails(step: object, ctx: SaslauthdView) -> CheckFailed:
    with pytest.raises(CheckFailed) as caught:
        step(ctx)  # type: ignore[operator]
    return caught.value


@pytest.mark.parametrize(
    ("bind_error", "tcp", "dns", "fid", "link"),
    [
        ("Invalid credentials", 0, 0, ids.RC_49, "service_bind"),
        ("Can't contact LDAP server", 1, 0, ids.LDAP_SERVER_DOWN, "tcp"),
        ("Can't contact LDAP server", 1, 2, ids.LDAP_SERVER_DOWN, "dns"),
        ("Connect error", 0, 0, ids.TLS_STARTTLS_UNSUPPORTED, "tls"),
    ],
)
def test_ldap_chain_names_the_link_where_the_service_bind_stopped(
    bind_error: str, tcp: int, dns: int, fid: str, link: str
) -> None:
    failed = fails(login.ldap_chain, view(f"service_bind\tfail\t{bind_error}\t3\n", tcp=tcp, dns=dns))
    assert failed.failure_id == fid
    assert failed.facts[LINK] == link
    assert (failed.facts.get(BIND) == "service") == (link == "service_bind")


@pytest.mark.parametrize("entries", [[], [ENTRY], [ENTRY, "uid=alice,ou=old,dc=example,dc=org"]])
def test_ldap_chain_search_facts(entries: list[str]) -> None:
    search = "\t".join(["search", "ok", str(len(entries)), "4", *entries]) + "\n"
    ctx = view(BOUND + search)
    expected = {**LOGIN, LINK: "user_search", ENTRIES: len(entries), FILTER: "(mail=%u@example.org)"}
    if len(entries) == 1:
        assert login.ldap_chain(ctx).facts == expected
        return
    failed = fails(login.ldap_chain, ctx)
    assert (failed.failure_id, failed.facts) == (ids.SA_ENTRY_COUNT, expected)


def test_ldap_chain_user_bind_failure() -> None:
    out = BOUND + f"search\tok\t1\t4\t{ENTRY}\nuser_bind\tfail\tInvalid credentials\t2\n"
    failed = fails(login.ldap_chain, view(out))
    assert failed.failure_id == ids.RC_49
    assert failed.facts[LINK] == "user_bind" and failed.facts[BIND] == "user"
    assert ACCOUNT not in failed.facts and EMPTY_PASSWORD not in failed.facts


def test_ldap_chain_user_bind_shows_an_ad_account_state() -> None:
    said = "Invalid credentials (80090308: LdapErr: DSID-0C09044E, AcceptSecurityContext error, data 775, v4563)"
    out = BOUND + f"search\tok\t1\t4\t{ENTRY}\nuser_bind\tfail\t{said}\t2\n"
    failed = fails(login.ldap_chain, view(out))
    assert (failed.failure_id, failed.facts[ACCOUNT]) == (ids.AD_775, "locked")


@pytest.mark.parametrize(
    ("user_bind", "fid"),
    [
        ("user_bind\tfail\tServer is unwilling to perform\t2\n", ids.RC_53),
        (f"user_bind\tok\t{ENTRY}\t2\n", ids.OL_UNAUTH_BIND),
    ],
)
def test_ldap_chain_with_an_empty_password(user_bind: str, fid: str) -> None:
    failed = fails(login.ldap_chain, view(BOUND + f"search\tok\t1\t4\t{ENTRY}\n" + user_bind, password=""))
    assert failed.failure_id == fid
    assert failed.facts[EMPTY_PASSWORD] is True and failed.facts[LINK] == "user_bind"


def test_empty_password_is_not_blamed_on_the_socket() -> None:
    ctx = view("sasl_connect\tok\t/var/run/saslauthd/mux\t1\nsasl_reply\tfail\tsize read failed: closed\t1\n", "")
    failed = fails(login.saslauthd_protocol, ctx)
    assert failed.failure_id == ids.RC_53
    assert "anonymous bind" in failed.message and "must type a password" in failed.message
    assert failed.facts == {**LOGIN, EMPTY_PASSWORD: True}


@pytest.mark.parametrize(
    ("line", "cached"),
    [
        ("saslauthd[9] :auth success (cached): [user=alice] [service=xmpp] [realm=meet.jitsi]", True),
        ("saslauthd[9] :auth success: [user=alice] [service=xmpp] [realm=meet.jitsi] [mech=ldap]", False),
    ],
)
def test_protocol_says_whether_the_cache_answered(line: str, cached: bool) -> None:
    ctx = view("sasl_connect\tok\t/var/run/saslauthd/mux\t1\nsasl_reply\tok\tOK\t1\n", log=[line])
    assert login.saslauthd_protocol(ctx).facts == {**LOGIN, CACHED: cached}


def test_protocol_no_carries_the_logins() -> None:
    ctx = view("sasl_connect\tok\t/var/run/saslauthd/mux\t1\nsasl_reply\tok\tNO\t1\n")
    failed = fails(login.saslauthd_protocol, ctx)
    assert (failed.failure_id, failed.facts) == (ids.SA_OPAQUE_NO, {**LOGIN, CACHED: False})


@pytest.mark.parametrize(
    ("reply", "fid", "facts"),
    [
        ("sasl_reply\tfail\tsize read failed: timeout\t3000\ttimeout\n", ids.NET_TIMEOUT, {**LOGIN, NET: "timeout"}),
        ("sasl_reply\tfail\tsize read failed: closed\t1\t\n", ids.SA_SOCKET, LOGIN),
    ],
)
def test_protocol_tells_a_saslauthd_still_waiting_from_a_broken_socket(
    reply: str, fid: str, facts: dict[str, object]
) -> None:
    ctx = view("sasl_connect\tok\t/var/run/saslauthd/mux\t1\n" + reply)
    failed = fails(login.saslauthd_protocol, ctx)
    assert (failed.failure_id, failed.facts) == (fid, facts)
    if fid == ids.NET_TIMEOUT:  # how long it waited (--timeout 5 by default), and saslauthd's own give-up time
        assert "within 15 s (3 x --timeout)" in failed.message and "ldap_timeout 5 s x 2" in failed.message


@pytest.mark.parametrize(
    ("dns", "tcp", "facts"),
    [
        (2, -1, {LINK: "dns", NET: "dns"}),
        (0, 124, {LINK: "tcp", NET: "timeout"}),
        (0, 1, {LINK: "tcp", NET: "refused"}),
    ],
)
def test_container_net_step_facts(dns: int, tcp: int, facts: dict[str, str]) -> None:
    found = session(ContainerFacts(dns={"ldap.example": (dns, "")}, tcp={("ldap.example", 389): tcp}, complete=True))
    failed = fails(net_step("ldap.example", 389).run, found)  # type: ignore[arg-type]
    assert failed.facts == facts


def test_container_net_step_passes_with_the_tcp_link() -> None:
    found = session(
        ContainerFacts(dns={"ldap.example": (0, "10.0.0.1")}, tcp={("ldap.example", 389): 0}, complete=True)
    )
    assert net_step("ldap.example", 389).run(found).facts == {LINK: "tcp"}
