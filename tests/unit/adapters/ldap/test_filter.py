"""The one RFC 4515 parser: its tree's text round-trips, and it accepts exactly what the two old parsers accepted.

The wire encoder and the directory filter each had their own parser before; copies of both are kept here (and only
here) so that generated filters can be compared: the same bytes as the old encoder, the same tree as the old
directory parser, and an error wherever either refused.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ldapcheck.adapters.errors import FilterError
from ldapcheck.adapters.ldap import ber
from ldapcheck.adapters.ldap.ber import octets, sequence, tlv
from ldapcheck.adapters.ldap.filter import FilterSyntaxError, Item, Node, description, parse, wrapped

# --- the old encoder (ldapcheck/adapters/ldap/ber.py before the parsers were merged), verbatim ----------------

_ESCAPE = re.compile(rb"\\([0-9a-fA-F]{2})")


def _old_unescape(value: str) -> bytes:
    return _ESCAPE.sub(lambda m: bytes((int(m.group(1), 16),)), value.encode())


def old_encode_filter(text: str) -> bytes:
    text = wrapped(text)
    encoded, end = _old_filter(text, 0)
    if end != len(text):
        raise FilterError(f"unexpected text after position {end} in filter {text!r}")
    return encoded


def _old_filter(text: str, pos: int) -> tuple[bytes, int]:
    if pos >= len(text) or text[pos] != "(":
        raise FilterError(f"expected '(' at position {pos} in filter {text!r}")
    pos += 1
    if pos >= len(text):
        raise FilterError(f"unbalanced parentheses in filter {text!r}")
    head = text[pos]
    if head in "&|":
        items: list[bytes] = []
        pos += 1
        while pos < len(text) and text[pos] == "(":
            item, pos = _old_filter(text, pos)
            items.append(item)
        return _old_close(text, pos, sequence(*items, tag=0xA0 if head == "&" else 0xA1))
    if head == "!":
        item, pos = _old_filter(text, pos + 1)
        return _old_close(text, pos, tlv(0xA2, item))
    end = text.find(")", pos)
    if end < 0:
        raise FilterError(f"unbalanced parentheses in filter {text!r}")
    return _old_item(text[pos:end], text), end + 1


def _old_close(text: str, pos: int, encoded: bytes) -> tuple[bytes, int]:
    if pos >= len(text) or text[pos] != ")":
        raise FilterError(f"expected ')' at position {pos} in filter {text!r}")
    return encoded, pos + 1


def _old_item(item: str, whole: str) -> bytes:
    match = re.match(r"^([^=~<>:]*)(:dn)?(?::([^:=]+))?(:=|~=|>=|<=|=)(.*)$", item, re.DOTALL)
    if match is None or "(" in item:
        raise FilterError(f"invalid filter item {item!r} in {whole!r}")
    attr, dn_flag, rule, op, value = match.groups()
    if op == ":=":
        parts = []
        if rule:
            parts.append(octets(rule, tag=0x81))
        if attr:
            parts.append(octets(attr, tag=0x82))
        parts.append(octets(_old_unescape(value), tag=0x83))
        if dn_flag:
            parts.append(tlv(0x84, b"\xff"))
        return sequence(*parts, tag=0xA9)
    if not attr or dn_flag or rule:
        raise FilterError(f"invalid filter item {item!r} in {whole!r}")
    if op == "=" and value == "*":
        return octets(attr, tag=0x87)
    if op == "=" and "*" in value:
        pieces = value.split("*")
        subs = []
        if pieces[0]:
            subs.append(octets(_old_unescape(pieces[0]), tag=0x80))
        subs.extend(octets(_old_unescape(p), tag=0x81) for p in pieces[1:-1] if p)
        if pieces[-1]:
            subs.append(octets(_old_unescape(pieces[-1]), tag=0x82))
        return sequence(octets(attr), sequence(*subs), tag=0xA4)
    tag = {"=": 0xA3, ">=": 0xA5, "<=": 0xA6, "~=": 0xA8}[op]
    return sequence(octets(attr), octets(_old_unescape(value)), tag=tag)


# --- the old directory parser (ldapcheck/auth/ldap/directory/filter.py before the merge), as tuples -------------

OldTree = tuple[str, str, str] | tuple[str, tuple["OldTree", ...]]


def old_parse(text: str) -> OldTree:
    source = wrapped(text)
    node, end = _old_parse_at(source, 0)
    if end != len(source):
        raise ValueError(f"unexpected text after position {end} in {source!r}")
    return node


def _old_parse_at(text: str, pos: int) -> tuple[OldTree, int]:
    if pos >= len(text) or text[pos] != "(":
        raise ValueError(f"expected '(' at position {pos} in {text!r}")
    pos += 1
    head = text[pos : pos + 1]
    if head in ("&", "|", "!"):
        kids: list[OldTree] = []
        pos += 1
        while pos < len(text) and text[pos] == "(":
            kid, pos = _old_parse_at(text, pos)
            kids.append(kid)
        if pos >= len(text) or text[pos] != ")":
            raise ValueError(f"expected ')' at position {pos} in {text!r}")
        if head == "!" and len(kids) != 1:
            raise ValueError(f"'!' takes exactly one filter in {text!r}")
        return (head, tuple(kids)), pos + 1
    end = text.find(")", pos)
    if end < 0:
        raise ValueError(f"unbalanced parentheses in {text!r}")
    body = text[pos:end]
    if "(" in body:
        raise ValueError(f"unescaped '(' in item {body!r} of {text!r}")
    eq = body.find("=")
    if eq <= 0:
        raise ValueError(f"invalid item {body!r} in {text!r}")
    op_start = eq - 1 if body[eq - 1] in "~<>:" else eq
    attr = body[:op_start]
    if not attr and body[op_start : eq + 1] != ":=":
        raise ValueError(f"item {body!r} in {text!r} has no attribute")
    return (attr, body[op_start : eq + 1], body[eq + 1 :]), end + 1


def as_old(tree: Item | Node) -> OldTree:
    if isinstance(tree, Item):
        return (tree.attr, tree.op, tree.value)
    return (tree.kind, tuple(as_old(c) for c in tree.children))


# --- generated filters ------------------------------------------------------------------------------------------

_name = st.text("abcxyzUID019-.;", min_size=1, max_size=8)
_oid = st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,6}){0,5}", fullmatch=True)
_escape = st.sampled_from(["\\2a", "\\28", "\\29", "\\5c", "\\00", "\\c3\\a9", "\\zz", "\\5"])
_chunk = st.one_of(st.text("abcé xyz=:~<>!&|@,%uUdr0-9", max_size=6), _escape, st.sampled_from(["%u", "%U", "%%"]))
_value = st.lists(_chunk, max_size=4).map("".join)
_substring = st.lists(_value, min_size=2, max_size=4).map("*".join)


@st.composite
def _extensible(draw: st.DrawFn) -> str:
    attr = draw(st.one_of(st.just(""), _name))
    dn = draw(st.sampled_from(["", ":dn"]))
    rule = draw(st.one_of(st.just(""), _oid.map(lambda r: ":" + r), _name.map(lambda r: ":" + r)))
    if not attr and not rule:
        rule = ":" + draw(_oid)
    return f"({attr}{dn}{rule}:={draw(_value)})"


_item = st.one_of(
    st.builds(lambda a, op, v: f"({a}{op}{v})", _name, st.sampled_from(["=", "~=", ">=", "<="]), _value),
    _name.map(lambda a: f"({a}=*)"),
    st.builds(lambda a, v: f"({a}={v})", _name, _substring),
    _extensible(),
)
filters = st.recursive(
    _item,
    lambda kids: st.one_of(
        st.builds(lambda k, ks: f"({k}{''.join(ks)})", st.sampled_from("&|"), st.lists(kids, max_size=4)),
        kids.map(lambda k: f"(!{k})"),
    ),
    max_leaves=12,
)

# Text over the filter's own alphabet: most of it is broken, and each parser must refuse what the old ones refused.
_noise = st.text(st.sampled_from("()&|!=~<>:*\\2a dn1.xu%U"), max_size=30)
_mutated = st.builds(lambda f, i, junk: f[:i] + junk + f[i:], filters, st.integers(0, 60), _noise)
any_text = st.one_of(_noise, _mutated, filters.map(lambda f: f[1:-1]), filters.map(lambda f: f"  {f} "))


@given(filters)
@settings(max_examples=400)
def test_tree_text_round_trips(text: str) -> None:
    tree = parse(text)
    assert tree.text() == text
    assert parse(tree.text()) == tree


@given(filters)
@settings(max_examples=400)
def test_encoding_from_the_tree_equals_the_old_encoder(text: str) -> None:
    assert ber.encode_filter(text) == old_encode_filter(text)
    assert ber.encode_tree(parse(text)) == old_encode_filter(text)


def _outcome(fn: object, text: str) -> object:
    assert callable(fn)
    try:
        return fn(text)
    except FilterError as exc:
        return (FilterError, str(exc))  # the message too: `count` shows it
    except ValueError:
        return ValueError


@given(any_text)
@settings(max_examples=800)
@example("(a:b:c:=x)")
@example("(a:dn=x)")
@example("(a:x~=b)")
@example("(:=x)")
@example("(!)")
@example("(!(a=b)(c=d))")
@example("(&)")
@example("(a=**)")
@example("( uid = %u )")
@example("uid=%u)(cn=x")
def test_accepts_exactly_what_the_old_parsers_accepted(text: str) -> None:
    old_tree = _outcome(old_parse, text)
    old_bytes = _outcome(old_encode_filter, text)
    try:
        tree = parse(text)
    except FilterSyntaxError:
        # Refused now: refused by both before (the old encoder accepted a subset of what the directory parser did).
        assert old_tree is ValueError
        assert old_bytes == _outcome(ber.encode_filter, text)
        return
    # Accepted now: the directory parser accepted it, with the same tree, and the text round-trips.
    assert as_old(tree) == old_tree
    assert tree.text() == wrapped(text)
    # The encoder refuses exactly the items the old encoder refused (same message), and otherwise gives the same bytes.
    new_bytes = _outcome(ber.encode_filter, text)
    assert new_bytes == old_bytes


@pytest.mark.parametrize(
    ("attr", "op", "parts"),
    [
        ("uid", "=", ("uid", False, None)),
        ("member:dn:1.2.3", ":=", ("member", True, "1.2.3")),
        (":dn:2.4.6", ":=", ("", True, "2.4.6")),
        ("cn:caseExactMatch", ":=", ("cn", False, "caseExactMatch")),
        ("a:dn", "=", None),
        ("a:b:c", ":=", None),
        ("", "=", None),
    ],
)
def test_description_splits_extensible_items(attr: str, op: str, parts: tuple[str, bool, str | None] | None) -> None:
    desc = description(Item(attr, op, "x"))
    assert (None if desc is None else (desc.type, desc.dn, desc.rule)) == parts


def test_tree_keeps_tokens_escapes_and_whitespace_as_written() -> None:
    assert parse("  uid=%u ") == Item("uid", "=", "%u")
    assert parse("(&(cn=a\\2a*)( sn ~= x ))") == Node("&", (Item("cn", "=", "a\\2a*"), Item(" sn ", "~=", " x ")))
    with pytest.raises(FilterSyntaxError):
        parse("(a:b:c:=x)(")
    with pytest.raises(FilterError, match="invalid filter item 'a:b:c:=x'"):
        ber.encode_filter("(a:b:c:=x)")
