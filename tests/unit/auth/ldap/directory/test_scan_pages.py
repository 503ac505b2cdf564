"""validate's scan reads whole pages of raw BER (`DirectoryScan.feed_page`): same findings as decoding every entry,
one search on OpenLDAP-like servers, and memory that does not grow with the number of entries."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

from hypothesis import given, settings
from hypothesis import strategies as st

from ldapcheck.adapters.ldap import ber as w
from ldapcheck.auth.ldap.directory.analysis import DirectoryScan, Findings, scan_plan
from ldapcheck.auth.ldap.directory.filter import derive, parse
from ldapcheck.auth.ldap.directory.problems import NO_LOGIN_ATTR, PPOLICY_LOCKED, PPOLICY_RESET

NOW = 1_800_000_000.0
Attrs = dict[str, list[bytes]]


def _page(entries: list[tuple[str, Attrs]]) -> tuple[bytes, list[int]]:
    """Entries as the server sends them (LDAPMessages back to back) and where each SearchResultEntry op starts."""
    chunks: list[bytes] = []
    offsets: list[int] = []
    size = 0
    for msgid, (dn, attrs) in enumerate(entries, start=2):
        parts = [w.sequence(w.octets(k), w.sequence(*(w.octets(v) for v in vs), tag=0x31)) for k, vs in attrs.items()]
        message = w.message(msgid, w.sequence(w.octets(dn), w.sequence(*parts), tag=w.SEARCH_ENTRY))
        outer = w.header(message, 0, len(message))
        assert outer is not None
        msgid_tlv = w.header(message, outer[1], outer[2])
        assert msgid_tlv is not None
        offsets.append(size + msgid_tlv[2])
        chunks.append(message)
        size += len(message)
    return b"".join(chunks), offsets


def _summary(found: Findings) -> tuple[object, ...]:
    problems = {k: (p.count, p.examples) for k, p in found.problems.items()}
    dups = sorted((d.login, d.entries) for d in found.duplicates)
    counts = (found.entries, found.selected, found.login_values, found.duplicate_logins, found.duplicate_entries)
    return counts, problems, dups, found.sample


VARIED: list[tuple[str, Attrs]] = [
    ("uid=u1,dc=x", {"uid": [b"u1"]}),
    ("uid=u2,dc=x", {"UID": [b"U1"]}),  # same login, other spelling of the name
    ("uid=long,dc=x", {"uid": [b"L" * 300]}),  # long-form lengths everywhere
    ("cn=" + "d" * 200 + ",dc=x", {"uid": [b"longdn"]}),
    ("uid=at,dc=x", {"uid": [b"carol@example.org"]}),
    ("uid=sp,dc=x", {"uid": [b" bob"]}),
    ("uid=j,dc=x", {"uid": ["jürgen".encode()]}),
    ("uid=dots,dc=x", {"uid": [b"first.last"]}),
    ("cn=nologin,dc=x", {}),
    ("uid=locked,dc=x", {"uid": [b"locked"], "pwdAccountLockedTime": [b"20260101000000Z"]}),
    ("uid=reset,dc=x", {"uid": [b"reset"], "pwdReset": [b"TRUE"]}),
    ("uid=multi,dc=x", {"uid": [b"multi", b"MULTI", b"alias"]}),
    ("uid=empty,dc=x", {"uid": [b""]}),
    ("uid=u1b,dc=x", {"uid": [b"u1"]}),
]


def test_a_page_gives_the_findings_of_decoding_every_entry() -> None:
    login = derive("(uid=%u)", "meet.jitsi")
    one_by_one = DirectoryScan(login, now=NOW, sample_size=5).feed_all(VARIED)
    paged = DirectoryScan(login, now=NOW, sample_size=5)
    paged.feed_page(*_page(VARIED))
    assert _summary(paged.findings()) == _summary(one_by_one)
    found = paged.findings()
    assert found.duplicate_logins == 1 and found.duplicate_entries == 3  # u1, U1, u1
    assert found.problem(PPOLICY_LOCKED).examples == ["locked"]
    assert found.problem(PPOLICY_RESET).examples == ["reset"]
    assert found.problem(NO_LOGIN_ATTR).examples == ["cn=nologin,dc=x"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["uid", "UID", "mail", "pwdReset"]),
            st.lists(st.binary(max_size=140), min_size=1, max_size=3),
        ),
        max_size=40,
    )
)
def test_any_page_agrees_with_feed(items: list[tuple[str, list[bytes]]]) -> None:
    entries = [(f"uid=e{i},dc=x", {name: values}) for i, (name, values) in enumerate(items)]
    for login in (derive("(uid=%u)", "x"), derive("(mail=%u@x.org)", "x")):
        one_by_one = DirectoryScan(login, now=NOW).feed_all(entries)
        paged = DirectoryScan(login, now=NOW)
        paged.feed_page(*_page(entries))
        assert _summary(paged.findings()) == _summary(one_by_one)


def test_openldap_is_scanned_in_one_search_and_active_directory_with_a_side_search() -> None:
    login = derive("(uid=%u)", "x")
    plan = scan_plan(login, active_directory=False, now=NOW)
    assert plan.one_pass
    assert plan.filter == f"(|(uid=*){login.lacking})"
    assert plan.attributes == ("uid", "pwdAccountLockedTime", "pwdReset")
    parse(plan.filter)
    ad = scan_plan(derive("(sAMAccountName=%u)", "x"), active_directory=True, now=NOW)
    assert not ad.one_pass
    assert (ad.filter, ad.attributes) == ("(sAMAccountName=*)", ("sAMAccountName",))


def _stream(n: int, page: int) -> Iterator[tuple[bytes, list[int]]]:
    """n users in pages, every 10,000th with the login user0000000, built one page at a time from one template."""
    data, (offset,) = _page([("uid=userDDDDDDD,ou=people,dc=example,dc=org", {"uid": [b"userLLLLLLL"]})])
    template = data.replace(b"%", b"%%").replace(b"DDDDDDD", b"%07d").replace(b"LLLLLLL", b"%07d")
    for start in range(0, n, page):
        count = min(n, start + page) - start
        yield (
            b"".join(template % (i, i if i % 10_000 else 0) for i in range(start, start + count)),
            [offset + k * len(data) for k in range(count)],
        )


def _peak(n: int) -> tuple[int, Findings]:
    scan = DirectoryScan(derive("(uid=%u)", "x"), now=NOW)
    tracemalloc.start()
    try:
        for data, offsets in _stream(n, 5000):
            scan.feed_page(data, offsets)
        found = scan.findings()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, found


def test_memory_stays_bounded_over_100k_entries() -> None:
    """~6-7 bytes a login (CompactHashSet) and one page at a time: a set of 100k logins alone would take ~8 MB (80+
    bytes a login), of 1M more than validate's whole 40 MB budget. (tracemalloc slows the scan ~25 times: 100k.)"""
    peak, found = _peak(100_000)
    assert found.entries == found.selected == 100_000
    assert found.duplicate_logins == 1 and found.duplicate_entries == 10  # user0000000 ten times
    assert peak < 4 * 1024 * 1024, f"{peak / 1e6:.1f} MB"
    assert found.dedup_bytes / 100_000 < 16, found.dedup_bytes  # what grows with the directory
