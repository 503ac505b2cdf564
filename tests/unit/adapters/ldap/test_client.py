"""The raw-socket LDAP client: filter encoding (same bytes as ldap3), paged counting, truncation, streaming."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from ldapcheck.adapters.ldap import ber as w
from ldapcheck.adapters.ldap.client import DEFAULT_PAGE, CountResult, WireClient
from ldapcheck.adapters.ldap.stream import count_entries, stream_entries


@pytest.mark.parametrize(
    "text",
    [
        "(uid=alice)",
        "(&(uid=a)(objectClass=person))",
        "(|(cn=a*)(!(sn=*b*c)))",
        "(uid=*)",
        "(userAccountControl:1.2.840.113556.1.4.803:=2)",
        "(cn>=x)",
        "(cn<=x)",
        "(cn~=y)",
        "(uid=x\\2a\\28\\29\\5c)",
        "(memberOf:1.2.840.113556.1.4.1941:=CN=jitsi,OU=Groups,DC=corp,DC=example)",
    ],
)
def test_filter_bytes_match_ldap3(text: str) -> None:
    from ldap3.operation.search import compile_filter, parse_filter
    from pyasn1.codec.ber import encoder

    tree = parse_filter(text, None, auto_escape=False, auto_encode=False, validator=None, check_names=False)
    assert w.encode_filter(text) == encoder.encode(compile_filter(tree.elements[0]))


def test_bare_filter_and_errors() -> None:
    assert w.encode_filter("uid=alice") == w.encode_filter("(uid=alice)")
    for bad in ("(uid=a", "(&(uid=a)", "(uid=a))", "((uid=a)"):
        with pytest.raises(w.BerError):
            w.encode_filter(bad)


def _entry(msgid: int, dn: str, attrs: dict[str, list[bytes]] | None = None) -> bytes:
    attributes = [
        w.sequence(w.octets(k), w.sequence(*(w.octets(v) for v in vs), tag=0x31)) for k, vs in (attrs or {}).items()
    ]
    return w.message(msgid, w.sequence(w.octets(dn), w.sequence(*attributes), tag=w.SEARCH_ENTRY))


def _done(msgid: int, code: int, cookie: bytes | None) -> bytes:
    op = w.sequence(w.integer(code, 0x0A), w.octets(""), w.octets("limit" if code else ""), tag=w.SEARCH_DONE)
    controls = [] if cookie is None else [w.control(w.PAGED_RESULTS_OID, w.sequence(w.integer(0), w.octets(cookie)))]
    return w.message(msgid, op, controls)


def _server(pages: list[bytes]) -> Iterator[WireClient]:
    """A fake server that answers each request with the next canned page (split into small writes)."""
    ours, theirs = socket.socketpair()

    def serve() -> None:
        for page in pages:
            if not theirs.recv(65536):
                return
            for i in range(0, len(page), 7):  # tiny segments: headers split across reads
                theirs.sendall(page[i : i + 7])

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield WireClient(ours, timeout=5)
    ours.close()
    theirs.close()
    thread.join(5)


@pytest.fixture
def fake_server() -> Iterator[Callable[[list[bytes]], WireClient]]:
    gens: list[Iterator[WireClient]] = []

    def make(pages: list[bytes]) -> WireClient:
        gen = _server(pages)
        gens.append(gen)
        return next(gen)

    yield make
    for gen in gens:
        next(gen, None)


def test_count_across_pages(fake_server: Callable[[list[bytes]], WireClient]) -> None:
    long_dn = "uid=" + "x" * 300 + ",dc=example,dc=org"  # long-form BER lengths
    page1 = b"".join(_entry(1, f"uid=u{i},dc=x") for i in range(3)) + _done(1, 0, b"c1")
    page2 = _entry(2, long_dn) + w.message(2, w.sequence(w.octets("ldap://x"), tag=w.SEARCH_REFERENCE))
    page2 += _done(2, 0, b"")
    seen: list[int] = []
    result = count_entries(fake_server([page1, page2]), "dc=x", "(uid=*)", progress=seen.append)
    assert result == CountResult(count=4, references=1, pages=2, result_code=0, message="", page_size=DEFAULT_PAGE)
    assert not result.truncated
    assert seen == [3, 4]


def test_size_limit_is_a_truncated_count(fake_server: Callable[[list[bytes]], WireClient]) -> None:
    page = b"".join(_entry(1, f"uid=u{i},dc=x") for i in range(5)) + _done(1, 4, None)
    result = count_entries(fake_server([page]), "dc=x", "(uid=*)")
    assert result.count == 5 and result.result_code == 4 and result.truncated and result.message == "limit"


def test_stream_entries_decodes_requested_attributes(fake_server: Callable[[list[bytes]], WireClient]) -> None:
    page1 = _entry(1, "uid=a,dc=x", {"uid": [b"a"], "mail": [b"a@x", b"b@x"]}) + _done(1, 0, b"k")
    page2 = _entry(2, "uid=b,dc=x", {"uid": [b"b"]}) + _done(2, 0, b"")
    finished: list[CountResult] = []
    got = list(stream_entries(fake_server([page1, page2]), "dc=x", "(uid=*)", ["uid", "mail"], on_done=finished.append))
    assert got == [("uid=a,dc=x", {"uid": [b"a"], "mail": [b"a@x", b"b@x"]}), ("uid=b,dc=x", {"uid": [b"b"]})]
    assert finished[0].count == 2 and finished[0].pages == 2


def test_bind_result_and_ppolicy_control(fake_server: Callable[[list[bytes]], WireClient]) -> None:
    ppolicy = w.sequence(w.tlv(0x81, b"\x01"))  # error: accountLocked
    op = w.sequence(w.integer(49, 0x0A), w.octets(""), w.octets("bad"), tag=w.BIND_RESPONSE)
    client = fake_server([w.message(1, op, [w.control(w.PPOLICY_OID, ppolicy)])])
    result = client.simple_bind("uid=a,dc=x", "pw")
    assert (result.code, result.message) == (49, "bad")
    assert w.decode_ppolicy(result.controls[w.PPOLICY_OID]) == (None, "accountLocked")
    warning = w.sequence(w.tlv(0xA0, w.tlv(0x80, b"\x0e\x10")))
    assert w.decode_ppolicy(warning) == ("timeBeforeExpiration=3600", None)


def test_non_ldap_bytes_are_an_error(fake_server: Callable[[list[bytes]], WireClient]) -> None:
    from ldapcheck.adapters.ldap.client import WireError

    client = fake_server([b"\x15\x03\x03\x00\x02\x02\x46"])  # a TLS alert
    with pytest.raises(WireError, match="not an LDAP message"):
        client.simple_bind("", "")


def test_a_refused_page_size_is_retried_with_1000(fake_server: Callable[[list[bytes]], WireClient]) -> None:
    refused = w.message(
        1,
        w.sequence(w.integer(11, 0x0A), w.octets(""), w.octets("illegal pagedResults page size"), tag=w.SEARCH_DONE),
    )
    page = _entry(2, "uid=a,dc=x") + _done(2, 0, b"")
    result = count_entries(fake_server([refused, page]), "dc=x", "(uid=*)", page_size=5000)
    assert (result.count, result.result_code, result.page_size) == (1, 0, 1000)


def test_a_refused_page_size_is_retried_with_1000_by_the_stream(
    fake_server: Callable[[list[bytes]], WireClient],
) -> None:
    refused = w.message(
        1,
        w.sequence(w.integer(11, 0x0A), w.octets(""), w.octets("illegal pagedResults page size"), tag=w.SEARCH_DONE),
    )
    page = _entry(2, "uid=a,dc=x", {"uid": [b"a"]}) + _done(2, 0, b"")
    finished: list[CountResult] = []
    got = list(stream_entries(fake_server([refused, page]), "dc=x", "(uid=*)", ["uid"], on_done=finished.append))
    assert got == [("uid=a,dc=x", {"uid": [b"a"]})]
    assert (finished[0].count, finished[0].pages, finished[0].result_code) == (1, 1, 0)
