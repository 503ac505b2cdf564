"""RFC 4515 string filters as a syntax tree: the one parser (the wire encoder and the directory scan read its tree).

The tree keeps the text as written: an item's value keeps its escapes (`\\2a`) and saslauthd's `%u`-style tokens,
an extensible item keeps `attr:dn:rule` as its `attr`, whitespace inside an item is part of it. `parse` is lenient
about the attribute description (`a:b:c:=x` parses); `description` splits it and says when it is malformed, which
is where the encoder refuses such an item. Nothing here diagnoses: callers turn `FilterSyntaxError` into findings.
"""

from __future__ import annotations

import re

from ldapcheck.adapters.errors import FilterError
from ldapcheck.core.record import record


class FilterSyntaxError(FilterError):
    """The text is not a well-formed RFC 4515 filter (unbalanced parentheses, empty item...)."""


@record
class Item:
    """A filter item `(attr<op>value)`; `value` is kept as written (escapes and `%` tokens included).

    `op` is one of `=`, `~=`, `>=`, `<=`, `:=`; for `:=` (extensible match) `attr` is `[type][:dn][:rule]`.
    """

    attr: str
    op: str
    value: str

    def text(self) -> str:
        """The item as filter text."""
        return f"({self.attr}{self.op}{self.value})"


@record
class Node:
    """`&`, `|` or `!` over child filters."""

    kind: str
    children: tuple[Filter, ...]

    def text(self) -> str:
        """The node as filter text."""
        return f"({self.kind}{''.join(c.text() for c in self.children)})"


Filter = Item | Node


@record
class Description:
    """An item's attribute description split up: `type`, the `:dn` flag, the `:rule` of an extensible match."""

    type: str
    dn: bool = False
    rule: str | None = None


_DESCRIPTION = re.compile(r"([^=~<>:]*)(:dn)?(?::([^:=]+))?", re.DOTALL)


def description(item: Item) -> Description | None:
    """`item.attr` split into its parts, or None when it cannot stand before `item.op` (RFC 4515 §3)."""
    match = _DESCRIPTION.fullmatch(item.attr)
    if match is None:
        return None
    attr, dn_flag, rule = match.groups()
    if item.op != ":=" and (not attr or dn_flag or rule):
        return None
    return Description(attr, bool(dn_flag), rule)


def wrapped(filter_text: str) -> str:
    """A bare `attr=value` (libldap and saslauthd accept it) as `(attr=value)`; ldapsearch and ldap3 want that."""
    text = filter_text.strip()
    return text if text.startswith("(") else f"({text})"


_ESCAPE = re.compile(rb"\\([0-9a-fA-F]{2})")


def unescape(value: str) -> bytes:
    """The bytes an RFC 4515 value stands for (`\\2a` → `*`; a backslash before anything else stays as written)."""
    return _ESCAPE.sub(lambda m: bytes((int(m.group(1), 16),)), value.encode())


def parse(text: str, *, strict: bool = False) -> Filter:
    """Parse an RFC 4515 filter; a bare `uid=%u` (saslauthd accepts it) is read as `(uid=%u)`.

    `strict` also refuses, where it stands, an item whose attribute description `description` cannot split (what
    the encoder cannot send); the first error in the text is the one raised.
    """
    source = wrapped(text)
    node, end = _parse_at(source, 0, strict)
    if end != len(source):
        raise FilterSyntaxError(f"unexpected text after position {end} in filter {source!r}")
    return node


def _parse_at(text: str, pos: int, strict: bool) -> tuple[Filter, int]:
    if pos >= len(text) or text[pos] != "(":
        raise FilterSyntaxError(f"expected '(' at position {pos} in filter {text!r}")
    pos += 1
    head = text[pos : pos + 1]
    if head in ("&", "|", "!"):
        kids: list[Filter] = []
        pos += 1
        while pos < len(text) and text[pos] == "(":
            kid, pos = _parse_at(text, pos, strict)
            kids.append(kid)
            if head == "!":
                break
        if head == "!" and not kids:
            raise FilterSyntaxError(f"expected '(' at position {pos} in filter {text!r}")
        if pos >= len(text) or text[pos] != ")":
            raise FilterSyntaxError(f"expected ')' at position {pos} in filter {text!r}")
        return Node(head, tuple(kids)), pos + 1
    end = text.find(")", pos)
    if end < 0:
        raise FilterSyntaxError(f"unbalanced parentheses in filter {text!r}")
    body = text[pos:end]
    if "(" in body:
        raise FilterSyntaxError(f"invalid filter item {body!r} in {text!r}")
    item = _item(body, text)
    if strict and description(item) is None:
        raise FilterSyntaxError(f"invalid filter item {body!r} in {text!r}")
    return item, end + 1


def _item(body: str, whole: str) -> Item:
    eq = body.find("=")
    if eq <= 0:
        raise FilterSyntaxError(f"invalid filter item {body!r} in {whole!r}")
    op_start = eq - 1 if body[eq - 1] in "~<>:" else eq
    attr = body[:op_start]
    if not attr and body[op_start : eq + 1] != ":=":
        raise FilterSyntaxError(f"invalid filter item {body!r} in {whole!r}")
    return Item(attr, body[op_start : eq + 1], body[eq + 1 :])
