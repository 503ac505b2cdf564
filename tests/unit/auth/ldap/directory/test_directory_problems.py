"""Unit tests of the directory scan's pure logic: filter derivation, per-entry rules, compact state, the scan."""

from __future__ import annotations

import collections

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ldapcheck.auth.ldap.directory.analysis import DirectoryScan, scan_attributes, side_filters
from ldapcheck.auth.ldap.directory.filter import FALLBACK_OBJECT_FILTER, FilterSyntaxError, derive, parse
from ldapcheck.auth.ldap.directory.problems import (
    AD_DISABLED,
    AD_EXPIRED,
    AD_LOCKED,
    AD_MUST_CHANGE,
    DUPLICATE,
    LOGIN_AT,
    LOGIN_ESCAPED,
    LOGIN_NON_ASCII,
    LOGIN_SPACE,
    LOGIN_UNREACHABLE,
    NO_LOGIN_ATTR,
    PPOLICY_LOCKED,
    PPOLICY_RESET,
    CompactHashSet,
    Reservoir,
    account_problems,
    filetime,
    login_problems,
    match_key,
)

NOW = 1_800_000_000.0  # a fixed "now" (2027-01-15) so expiry tests do not depend on the clock


# --- filter derivation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "presence", "lacking", "attrs"),
    [
        ("uid=%u", "(uid=*)", f"(&{FALLBACK_OBJECT_FILTER}(!(uid=*)))", ("uid",)),
        ("(uid=%u)", "(uid=*)", f"(&{FALLBACK_OBJECT_FILTER}(!(uid=*)))", ("uid",)),
        (
            "(&(objectClass=person)(sAMAccountName=%u))",
            "(&(objectClass=person)(sAMAccountName=*))",
            "(&(objectClass=person)(!(sAMAccountName=*)))",
            ("sAMAccountName",),
        ),
        (
            "(&(objectClass=inetOrgPerson)(|(uid=%U)(mail=%u))(memberOf=cn=jitsi,ou=groups,dc=x))",
            "(&(objectClass=inetOrgPerson)(|(uid=*)(mail=*))(memberOf=cn=jitsi,ou=groups,dc=x))",
            "(&(&(objectClass=inetOrgPerson)(memberOf=cn=jitsi,ou=groups,dc=x))(!(|(uid=*)(mail=*))))",
            ("uid", "mail"),
        ),
        (
            "(&(sAMAccountName=%u)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))",
            "(&(sAMAccountName=*)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))",
            "(&(!(userAccountControl:1.2.840.113556.1.4.803:=2))(!(sAMAccountName=*)))",
            ("sAMAccountName",),
        ),
    ],
)
def test_derive_presence_and_lacking_filters(
    template: str, presence: str, lacking: str, attrs: tuple[str, ...]
) -> None:
    derived = derive(template, "meet.jitsi")
    assert derived.presence == derived.scan == presence
    assert derived.lacking == lacking
    assert derived.attr_names == attrs
    assert derived.separable
    parse(lacking)  # well-formed


def test_derive_expands_realm_tokens_and_keeps_affixes() -> None:
    derived = derive("(&(objectClass=person)(mail=%u@%r))", "meet.jitsi")
    assert derived.presence == "(&(objectClass=person)(mail=*))"
    (attr,) = derived.login_attrs
    assert (attr.name, attr.prefix, attr.suffix) == ("mail", "", "@meet.jitsi")
    assert attr.login_of("alice@meet.jitsi") == "alice"
    assert attr.login_of("alice@other.org") is None


def test_derive_not_separable_when_placeholder_is_negated() -> None:
    derived = derive("(|(objectClass=x)(!(uid=%u)))", "meet.jitsi")
    assert not derived.separable
    assert derived.lacking is None


@pytest.mark.parametrize("bad", ["(uid=%u", "(&(uid=%u)", "(=x)", "(objectClass=person)", "uid=%u)(cn=x"])
def test_derive_rejects_broken_or_placeholderless_filters(bad: str) -> None:
    with pytest.raises(FilterSyntaxError):
        derive(bad, "meet.jitsi")


def test_parse_roundtrips_extensible_and_substring_items() -> None:
    text = "(&(memberOf:1.2.840.113556.1.4.1941:=cn=g,dc=x)(cn=a*b)(!(sn~=x)))"
    assert parse(text).text() == text


# --- per-value and per-entry rules ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kinds"),
    [
        ("alice", []),
        ("carol@example.org", [LOGIN_AT]),
        (" bob", [LOGIN_SPACE]),
        ("bob ", [LOGIN_SPACE]),
        ("a*b(c)\\d", [LOGIN_ESCAPED]),
        ("nul\x00", [LOGIN_ESCAPED]),
        ("jürgen", [LOGIN_NON_ASCII]),
        (" x@y ", [LOGIN_AT, LOGIN_SPACE]),
    ],
)
def test_login_problems(value: str, kinds: list[object]) -> None:
    assert login_problems(value) == kinds


def test_match_key_folds_case_spaces_and_unicode_forms() -> None:
    assert match_key("Dupe") == match_key("dupe") == match_key(" dupe ")
    assert match_key("a  b") == match_key("A B")
    assert match_key("ﬁx") == match_key("fix")  # NFKC
    assert match_key("Jürgen") == match_key("jürgen")


def test_account_problems_active_directory() -> None:
    now = filetime(NOW)
    assert account_problems({"useraccountcontrol": [b"514"]}, now) == [AD_DISABLED]
    assert account_problems({"useraccountcontrol": [b"512"]}, now) == []
    assert account_problems({"lockouttime": [b"133000000000000000"]}, now) == [AD_LOCKED]
    assert account_problems({"lockouttime": [b"0"]}, now) == []
    assert account_problems({"accountexpires": [str(now - 1).encode()]}, now) == [AD_EXPIRED]
    assert account_problems({"accountexpires": [str(now + 10**9).encode()]}, now) == []
    assert account_problems({"accountexpires": [b"0"]}, now) == []
    assert account_problems({"accountexpires": [b"9223372036854775807"]}, now) == []
    assert account_problems({"pwdlastset": [b"0"]}, now) == [AD_MUST_CHANGE]
    assert account_problems({"pwdlastset": [b"133000000000000000"]}, now) == []
    disabled_and_locked = {"useraccountcontrol": [b"514"], "lockouttime": [b"1"]}
    assert account_problems(disabled_and_locked, now) == [AD_DISABLED, AD_LOCKED]


def test_account_problems_ppolicy() -> None:
    now = filetime(NOW)
    assert account_problems({"pwdaccountlockedtime": [b"000001010000Z"]}, now) == [PPOLICY_LOCKED]
    assert account_problems({"pwdreset": [b"TRUE"]}, now) == [PPOLICY_RESET]
    assert account_problems({"pwdreset": [b"FALSE"]}, now) == []


def test_filetime_epoch() -> None:
    assert filetime(0) == 116_444_736_000_000_000


@given(st.lists(st.binary(min_size=0, max_size=12), max_size=300))
def test_compact_hash_set_agrees_with_a_set(keys: list[bytes]) -> None:
    compact = CompactHashSet()
    exact: set[bytes] = set()
    for key in keys:
        assert compact.add(key) == (key in exact)
        exact.add(key)
    assert compact.size == len(exact)


def test_compact_hash_set_is_about_six_bytes_a_member() -> None:
    compact = CompactHashSet()
    for i in range(200_000):
        compact.add(b"user%07d" % i)
    fixed = 8 * (1 << CompactHashSet.BUCKET_BITS)
    assert (compact.nbytes() - fixed) / 200_000 == 6


def test_reservoir_is_uniform_enough_and_bounded() -> None:
    hits: collections.Counter[int] = collections.Counter()
    for seed in range(300):
        res = Reservoir(10, seed)
        for i in range(1000):
            if res.wants():
                res.offer(str(i))
        assert len(res.items) == 10
        assert len(set(res.items)) == 10
        hits.update(int(x) // 100 for x in res.items)
    # 3000 draws over 10 deciles: each should get ~300; a biased sampler would starve the tail.
    assert all(220 < hits[d] < 380 for d in range(10)), hits


def test_reservoir_shorter_stream_keeps_everything() -> None:
    res = Reservoir(20)
    for i in range(5):
        if res.wants():
            res.offer(str(i))
    assert res.items == ["0", "1", "2", "3", "4"]


# --- the scan ---------------------------------------------------------------------------------


def _entries() -> list[tuple[str, dict[str, list[bytes]]]]:
    users = [(f"uid=user{i:04d},ou=users,dc=x", {"uid": [f"user{i:04d}".encode()]}) for i in range(1, 101)]
    return [
        *users,
        ("uid=dupe,ou=users,dc=x", {"uid": [b"dupe"]}),
        ("uid=dupe,ou=staff,dc=x", {"UID": [b"Dupe"]}),
        ("uid=dupe,ou=other,dc=x", {"uid": [b"dupe "]}),
        ("uid=twin,ou=a,dc=x", {"uid": [b"twin"]}),
        ("uid=twin,ou=b,dc=x", {"uid": [b"twin"]}),
        ("cn=No Login,ou=users,dc=x", {}),
        ("uid=carol@example.org,ou=users,dc=x", {"uid": [b"carol@example.org"]}),
        ("uid=locked,ou=users,dc=x", {"uid": [b"locked"], "pwdAccountLockedTime": [b"20260101000000Z"]}),
        ("uid=multi,ou=users,dc=x", {"uid": [b"multi", b"MULTI", b"alias"]}),
        ("uid=j,ou=users,dc=x", {"uid": ["jürgen".encode()]}),
    ]


def test_scan_counts_each_problem_exactly() -> None:
    scan = DirectoryScan(derive("(uid=%u)", "meet.jitsi"), now=NOW)
    found = scan.feed_all(_entries())
    assert found.entries == 110
    assert found.selected == 109
    assert found.login_values == 110  # "multi" and "MULTI" are one login of one entry; "alias" is another
    assert found.duplicate_logins == 2
    assert found.duplicate_entries == 5
    assert {(d.login, d.entries) for d in found.duplicates} == {("Dupe", 3), ("twin", 2)}
    assert found.problem(DUPLICATE).count == 2
    assert found.problem(NO_LOGIN_ATTR).examples == ["cn=No Login,ou=users,dc=x"]
    assert found.problem(LOGIN_AT).examples == ["carol@example.org"]
    assert found.problem(LOGIN_SPACE).examples == ["dupe "]
    assert found.problem(LOGIN_NON_ASCII).examples == ["jürgen"]
    assert found.problem(PPOLICY_LOCKED).examples == ["locked"]
    assert found.problem(AD_DISABLED).count == 0
    assert len(found.sample) == 20
    assert set(found.sample) <= {v[0].decode() for _, a in _entries() for v in a.values()}


def test_scan_keeps_capped_examples_but_exact_counts() -> None:
    entries = [(f"uid=a{i},ou=x", {"uid": [f"a{i}@x".encode()]}) for i in range(50)]
    entries += [(f"uid=d,ou={i}", {"uid": [b"d"]}) for i in range(7)]
    found = DirectoryScan(derive("uid=%u", "meet.jitsi"), keep=5).feed_all(entries)
    assert found.problem(LOGIN_AT).count == 50
    assert len(found.problem(LOGIN_AT).examples) == 5
    assert (found.duplicate_logins, found.duplicate_entries) == (1, 7)


def test_scan_with_affixed_login_attribute() -> None:
    derived = derive("(mail=%u@corp.example)", "meet.jitsi")
    entries = [
        ("cn=a", {"mail": [b"alice@corp.example", b"alice@old.example"]}),
        ("cn=b", {"mail": [b"ALICE@corp.example"]}),
        ("cn=c", {"mail": [b"bob@other.example"]}),
    ]
    entries.append(("cn=d", {}))
    found = DirectoryScan(derived).feed_all(entries)
    assert found.selected == 2  # cn=c has mail, but no login reaches it
    assert found.duplicate_logins == 1
    assert found.problem(LOGIN_UNREACHABLE).examples == ["bob@other.example"]
    assert found.problem(NO_LOGIN_ATTR).examples == ["cn=d"]


def test_scan_domain_token_is_empty_through_prosody() -> None:
    """(mail=%U@%d): prosody strips the domain, so %d is empty and no value can match (docker-jitsi-meet #173)."""
    derived = derive("(mail=%U@%d)", "meet.jitsi")
    found = DirectoryScan(derived).feed_all([("cn=a", {"mail": [b"alice@example.org"]})])
    assert found.selected == 0
    assert found.problem(LOGIN_UNREACHABLE).count == 1


def test_scan_requests_only_login_attributes_and_side_searches_find_states() -> None:
    derived = derive("(&(objectClass=user)(sAMAccountName=%u))", "x")
    assert scan_attributes(derived) == ["sAMAccountName"]
    ad = dict((kind.key, flt) for kind, flt in side_filters(derived, active_directory=True, now=NOW))
    p = "(&(objectClass=user)(sAMAccountName=*))"
    assert ad == {
        "no-login-attribute": "(&(objectClass=user)(!(sAMAccountName=*)))",
        "account-disabled": f"(&{p}(userAccountControl:1.2.840.113556.1.4.803:=2))",
        "account-locked-ad": f"(&{p}(lockoutTime>=1))",
        "account-expired": f"(&{p}(accountExpires>=1)(accountExpires<={filetime(NOW)}))",
        "account-must-change-password-ad": f"(&{p}(pwdLastSet=0))",
    }
    ol = dict((kind.key, flt) for kind, flt in side_filters(derive("uid=%u", "x"), active_directory=False, now=NOW))
    assert ol == {
        "no-login-attribute": f"(&{FALLBACK_OBJECT_FILTER}(!(uid=*)))",
        "account-locked-ppolicy": "(&(uid=*)(pwdAccountLockedTime=*))",
        "account-must-change-password": "(&(uid=*)(pwdReset=TRUE))",
    }
    for flt in [*ad.values(), *ol.values()]:
        parse(flt)


def test_mask_login_keeps_the_problem_visible() -> None:
    from ldapcheck.auth.ldap.directory.problems import mask_login

    assert mask_login("carol@example.org") == "c****@*******.***"
    assert mask_login("dupe") == "d***"
    assert mask_login("sp*ci(al)\\uid") == "s****(**)\\***"
    assert mask_login(" bob") == " ***"
    assert mask_login("jürgen") == "j?****"
    assert mask_login("cn=No Login,ou=users,dc=x") == "cn=No Login,ou=users,dc=x"


def test_scan_active_directory_shaped_entries() -> None:
    now = filetime(NOW)
    derived = derive("(&(objectCategory=person)(objectClass=user)(sAMAccountName=%u))", "meet.jitsi")
    never = b"9223372036854775807"

    def user(name: bytes, uac: bytes = b"512", **extra: bytes) -> tuple[str, dict[str, list[bytes]]]:
        attrs = {"sAMAccountName": [name], "userAccountControl": [uac], "accountExpires": [never]}
        attrs.update({k: [v] for k, v in extra.items()})
        return f"CN={name.decode()},OU=Staff,DC=corp,DC=example", attrs

    entries = [
        user(b"anna"),
        user(b"ben", b"514"),  # disabled
        user(b"cleo", lockoutTime=b"133400000000000000"),
        user(b"dan", accountExpires=str(now - 10**7).encode()),
        user(b"eve", pwdLastSet=b"0"),
        user(b"ANNA"),  # same login as anna for a case-ignoring sAMAccountName
        ("CN=Service Box,OU=Staff,DC=corp,DC=example", {"userAccountControl": [b"4096"]}),
    ]
    found = DirectoryScan(derived, now=NOW).feed_all(entries)
    assert found.selected == 6
    assert found.problem(NO_LOGIN_ATTR).examples == ["CN=Service Box,OU=Staff,DC=corp,DC=example"]
    assert found.problem(AD_DISABLED).examples == ["ben"]
    assert found.problem(AD_LOCKED).examples == ["cleo"]
    assert found.problem(AD_EXPIRED).examples == ["dan"]
    assert found.problem(AD_MUST_CHANGE).examples == ["eve"]
    assert [(d.login, d.entries) for d in found.duplicates] == [("ANNA", 2)]


def test_side_search_is_one_or_of_the_side_filters_and_classifies_its_entries() -> None:
    from ldapcheck.auth.ldap.directory.analysis import classify_side, side_search

    derived = derive("uid=%u", "x")
    search = side_search(derived, active_directory=False, now=NOW)
    parse(search.filter)
    assert search.filter == "(|" + "".join(f for _, f in side_filters(derived, active_directory=False, now=NOW)) + ")"
    assert search.attributes == ("uid", "pwdAccountLockedTime", "pwdReset")
    assert [k.key for k in search.kinds] == [
        "no-login-attribute",
        "account-locked-ppolicy",
        "account-must-change-password",
    ]
    assert classify_side({}, ["uid"], NOW) == [NO_LOGIN_ATTR]
    assert classify_side({"UID": [b"x"], "pwdAccountLockedTime": [b"000001010000Z"]}, ["uid"], NOW) == [PPOLICY_LOCKED]
    ad = side_search(derive("(sAMAccountName=%u)", "x"), active_directory=True, now=NOW)
    assert ad.attributes == ("sAMAccountName", "userAccountControl", "lockoutTime", "accountExpires", "pwdLastSet")
    assert classify_side({"sAMAccountName": [b"b"], "userAccountControl": [b"514"]}, ["sAMAccountName"], NOW) == [
        AD_DISABLED
    ]
