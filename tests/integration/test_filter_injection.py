"""No filter injection, against the lab's OpenLDAP: for any login, the user search finds exactly the entries whose
uid is that literal login — `*` finds only an entry whose uid is `*`, `a*)(uid=*` only one whose uid is that.

The logins run through ldapcheck's real `user` chain (saslauthd's expansion of LDAP_FILTER=(uid=%u), the wire
encoder, the search); the expected entries come from one admin read of every uid in the directory, compared with
uid's matching rule (case-insensitive, insignificant spaces).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ldapcheck.auth.ldap.saslfilter import prosody_login
from ldapcheck.commands.source import LdapSource
from ldapcheck.commands.user import user
from ldapcheck.core.model import Report
from testing.info import LabInfo

pytestmark = pytest.mark.integration

# Entries whose uid is text an injected filter would match: each must be found by its own literal login only.
HOSTILE_UIDS = ("*", "a*)(uid=*", "*)(|(uid=*", "x(y)z", "back\\slash", "par(tial*", "ünïcödé*")


def norm(value: str) -> str:
    """uid's caseIgnoreMatch, close enough for these values: NFKC, case folded, spaces insignificant."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


@pytest.fixture(scope="module")
def directory(lab: LabInfo) -> Iterator[dict[str, set[str]]]:
    """{normalised uid: {dn}} of every entry under the users' base, with the hostile entries added."""
    import ldap3

    server = ldap3.Server("127.0.0.1", port=lab.ldap_port, get_info=ldap3.NONE)
    conn = ldap3.Connection(server, user=lab.admin_dn, password=lab.admin_password, receive_timeout=10)
    assert conn.bind(), conn.result
    added = []
    try:
        for i, uid in enumerate(HOSTILE_UIDS):
            dn = f"cn=injection-{i},{lab.users_base}"
            attrs = {"objectClass": ["inetOrgPerson"], "cn": f"injection-{i}", "sn": "Injection", "uid": uid}
            assert conn.add(dn, attributes=attrs), conn.result
            added.append(dn)
        entries = conn.extend.standard.paged_search(
            lab.suffix, "(uid=*)", attributes=["uid"], paged_size=500, generator=False
        )
        index: dict[str, set[str]] = {}
        for entry in entries:
            for uid in entry["attributes"].get("uid", []):
                index.setdefault(norm(uid), set()).add(entry["dn"].lower())
        yield index
    finally:
        for dn in added:
            conn.delete(dn)
        conn.unbind()


def found_by(lab: LabInfo, login: str) -> tuple[set[str], Report]:
    source = LdapSource(
        url=lab.ldap_url, base=lab.suffix, bind_dn=lab.bind_dn, filter_text="(uid=%u)", xmpp_domain=lab.xmpp_domain
    )
    report = user(source, login, None)
    step = report.step("ldap.user_search")
    assert step is not None and step.detail, [(s.id, s.status, s.summary) for s in report.steps]
    count = step.detail.get("entries")
    dns = {str(d).lower() for d in step.detail.get("dns", [])}  # type: ignore[union-attr]
    assert isinstance(count, int) and count == len(dns), step.detail
    return dns, report


LOGINS = st.one_of(
    st.sampled_from(HOSTILE_UIDS),
    st.sampled_from(HOSTILE_UIDS).map(str.upper),
    st.text(st.sampled_from([*"*()\\\x00 =&|!a1", "é", "ü", "日"]), min_size=1, max_size=10),
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12),
)


@pytest.fixture
def bind_password(lab: LabInfo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LDAPCHECK_BIND_PASSWORD", lab.bind_password)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(login=LOGINS)
@example(login="*")
@example(login="a*)(uid=*")
@example(login="alice)(uid=*")
@example(login="*)(objectClass=*")
@example(login="al*")
@example(login="alice\x00")
@example(login="\\2a")
def test_user_search_finds_exactly_the_literal_login(
    lab: LabInfo, directory: dict[str, set[str]], bind_password: Any, login: str
) -> None:
    seen = prosody_login(login)  # what saslauthd gets: prosody cuts at the first '@'
    dns, _report = found_by(lab, login)
    expected = directory.get(norm(seen), set()) if seen.strip() else set()
    assert dns == expected, (login, dns, expected)


def test_a_wildcard_login_finds_only_its_own_entry(
    lab: LabInfo, directory: dict[str, set[str]], bind_password: Any
) -> None:
    for uid in ("*", "a*)(uid=*"):
        dns, _report = found_by(lab, uid)
        assert len(dns) == 1 and next(iter(dns)).startswith("cn=injection-"), (uid, dns)
    dns, _report = found_by(lab, "al*")  # alice exists, but no uid is "al*"
    assert dns == set()
