"""Stream a search's entries as they arrive, asking for page k+1 as soon as page k is in; many small searches.

Entries are framed from the receive buffer in parts (`WireClient.page_parts`, headers only) and decoded while the
server goes on writing: with the default page size (as large as the server allows) the whole result is usually
one page, so memory stays flat and the scan costs about max(server, client) instead of their sum. Where the
server pages (a limit, AD's MaxPageSize) the next request goes out before the last part of a page is decoded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from ldapcheck.adapters.errors import FilterError
from ldapcheck.adapters.ldap import ber as w
from ldapcheck.adapters.ldap.client import DEFAULT_PAGE, SAFE_PAGE, CountResult, Entry, WireClient, WireError


def content(p: bytes, pos: int) -> tuple[int, int]:
    """(content start, content end) of the BER element at `pos`."""
    first = p[pos + 1]
    if first < 0x80:
        return pos + 2, pos + 2 + first
    n = first & 0x7F
    body = pos + 2 + n
    return body, body + int.from_bytes(p[pos + 2 : body], "big")


def decode_entry(p: bytes, op_start: int) -> Entry:
    """`(dn, {attribute: [raw values]})` of the SearchResultEntry op at `op_start` of `p`.

    The short-form length (< 128 bytes: nearly every DN, name and login value) is read inline; this loop runs once
    per entry of the directory, so it is written for speed.
    """
    first = p[op_start + 1]
    pos = op_start + 2 + (first & 0x7F if first & 0x80 else 0)
    length = p[pos + 1]
    if length < 0x80:
        s, e = pos + 2, pos + 2 + length
    else:
        s, e = content(p, pos)
    dn = p[s:e].decode("utf-8", "replace")
    pos, seq_end = content(p, e)
    attrs: dict[str, list[bytes]] = {}
    while pos < seq_end:
        length = p[pos + 1]
        if length < 0x80:
            body, attr_end = pos + 2, pos + 2 + length
        else:
            body, attr_end = content(p, pos)
        length = p[body + 1]
        if length < 0x80:
            s, e = body + 2, body + 2 + length
        else:
            s, e = content(p, body)
        name = p[s:e].decode("utf-8", "replace")
        length = p[e + 1]
        if length < 0x80:
            vpos, set_end = e + 2, e + 2 + length
        else:
            vpos, set_end = content(p, e)
        values = []
        while vpos < set_end:
            length = p[vpos + 1]
            if length < 0x80:
                s = vpos + 2
                vpos = s + length
            else:
                s, vpos = content(p, vpos)
            values.append(p[s:vpos])
        attrs[name] = values
        pos = attr_end
    return dn, attrs


def stream_pages(
    client: WireClient,
    base: str,
    filter_text: str,
    attributes: Sequence[str],
    *,
    page_size: int = DEFAULT_PAGE,
    on_done: Callable[[CountResult], None] | None = None,
    keep: bool = True,
) -> Iterator[tuple[bytes, list[int]]]:
    """Yield the entries as they arrive, in parts `(bytes, where each SearchResultEntry op starts)`: for a reader
    that decodes only what it needs (`decode_entry` decodes one). `on_done` and the page-size retry as in
    `stream_entries`. The next page is asked for as soon as a page's SearchResultDone is in. `keep=False`: the
    parts carry no bytes (a count)."""
    request = w.search_request(base, filter_text, list(attributes) or ["1.1"])
    client.send(request, [w.paged_control(page_size, b"")])
    count = refs = pages = 0
    expected = page_size  # entries in a full page (reads then wait for them in bulk); AD may cap pages silently
    while True:
        in_page = 0
        for data, entries, references, done in client.page_parts(expected, keep=keep):
            in_page += len(entries) + references
            count += len(entries)
            refs += references
            if done is None:
                yield data, entries
                continue
            if done.code == 11 and pages == 0 and not in_page and page_size > SAFE_PAGE:
                page_size = expected = SAFE_PAGE  # the server refuses pages this large (OpenLDAP's size.pr)
                client.send(request, [w.paged_control(page_size, b"")])
                break
            pages += 1
            expected = max(1, in_page)
            cookie = w.paged_cookie(done.controls[w.PAGED_RESULTS_OID]) if w.PAGED_RESULTS_OID in done.controls else b""
            more = done.code == 0 and bool(cookie)
            if more:
                client.send(request, [w.paged_control(page_size, cookie)])
            if entries:
                yield data, entries
            if not more:
                if on_done is not None:
                    on_done(CountResult(count, refs, pages, done.code, done.message, page_size))
                return


def count_entries(
    client: WireClient,
    base: str,
    filter_text: str,
    *,
    page_size: int = DEFAULT_PAGE,
    progress: Callable[[int], None] | None = None,
) -> CountResult:
    """Count the entries under `base` matching `filter_text`, asking for no attributes ('1.1') and decoding none;
    `progress` gets the count so far as parts arrive. The page-size retry as in `stream_entries`."""
    finished: list[CountResult] = []
    count = 0
    for _, entries in stream_pages(client, base, filter_text, ["1.1"], page_size=page_size, on_done=finished.append,
                                   keep=False):  # fmt: skip
        count += len(entries)
        if progress is not None:
            progress(count)
    return finished[0]


def stream_entries(
    client: WireClient,
    base: str,
    filter_text: str,
    attributes: Sequence[str],
    *,
    page_size: int = DEFAULT_PAGE,
    on_done: Callable[[CountResult], None] | None = None,
) -> Iterator[Entry]:
    """Yield `(dn, {attribute: [raw values]})` for each entry (paged); attribute names as the server sends them.

    `on_done` receives the final result (check `.truncated`: a size limit ends the stream early). A page size the
    server refuses outright (OpenLDAP's size.pr: adminLimitExceeded before any entry) is retried once at SAFE_PAGE.
    """
    for data, entries in stream_pages(client, base, filter_text, attributes, page_size=page_size, on_done=on_done):
        for op_start in entries:
            yield decode_entry(data, op_start)


def _message_id(pdu: bytes) -> int:
    outer = w.header(pdu, 0, len(pdu))
    if outer is None:
        raise WireError("truncated LDAP message")
    inner = w.header(pdu, outer[1], outer[2])
    if inner is None or inner[0] != 0x02:
        raise WireError("LDAP message without a message id")
    return w.decode_int(pdu[inner[1] : inner[2]])


def search_many(
    client: WireClient, searches: Sequence[tuple[str, str]], *, size_limit: int = 2, window: int = 64
) -> list[tuple[list[str], int]]:
    """Run many small subtree searches (no attributes) with up to `window` in flight: [(DNs, result code)] in order.

    Looking up a users file one search at a time costs a round trip each; here the server works on many at once.
    A filter that cannot be encoded gets result code 87 (filterError) without being sent.
    """
    found: list[list[str]] = [[] for _ in searches]
    codes: list[int] = [-1] * len(searches)
    pending: dict[int, int] = {}
    next_index = 0
    while next_index < len(searches) or pending:
        while next_index < len(searches) and len(pending) < window:
            base, filter_text = searches[next_index]
            try:
                request = w.search_request(base, filter_text, ["1.1"], size_limit=size_limit, time_limit=5)
            except FilterError:
                codes[next_index] = 87
            else:
                pending[client.send(request)] = next_index
            next_index += 1
        if not pending:
            break
        pdu = client.read_pdu()
        index = pending.get(_message_id(pdu.data))
        if index is None:
            raise WireError("a response to a request that was not sent")
        if pdu.tag == w.SEARCH_ENTRY:
            dn_start, dn_end = content(pdu.data, pdu.start)
            found[index].append(pdu.data[dn_start:dn_end].decode("utf-8", "replace"))
        elif pdu.tag == w.SEARCH_DONE:
            codes[index] = w.decode_result(pdu.data, pdu.start, pdu.end, pdu.msg_end).code
            del pending[_message_id(pdu.data)]
        elif pdu.tag != w.SEARCH_REFERENCE:
            raise WireError(f"unexpected operation 0x{pdu.tag:02x} in a search response")
    return list(zip(found, codes, strict=True))
