"""Lua 5.4 patterns for a token's ``context.room.regex`` rooms, translated to Python's re.

Classes follow the C locale. Balanced (%b) and frontier (%f) items have no translation and are reported as
unsupported instead of guessed.
"""

from __future__ import annotations

import re

from ldapcheck.auth.jwt._lua import LuaError, b2s, s2b

_CLASSES = {
    "a": "A-Za-z",
    "c": "\\x00-\\x1f\\x7f",
    "d": "0-9",
    "g": "\\x21-\\x7e",
    "l": "a-z",
    "p": "!-/:-@\\[-`{-~",
    "s": "\\t-\\r ",
    "u": "A-Z",
    "w": "A-Za-z0-9",
    "x": "0-9A-Fa-f",
}


def lua_match(subject: str, pattern: str) -> str | int | None:
    """string.match(subject, pattern): the first capture, or the whole match."""
    regex, position_captures = _translate(pattern)
    m = re.search(regex, s2b(subject), re.DOTALL)
    if m is None:
        return None
    if m.re.groups == 0:
        return b2s(m.group(0))
    if 1 in position_captures:
        return m.start(1) + 1
    return b2s(m.group(1))


def _translate(pattern: str) -> tuple[bytes, set[int]]:
    src = s2b(pattern)
    out = bytearray()
    positions: set[int] = set()
    depth = 0
    group = 0
    i = 0
    if src[:1] == b"^":
        out += b"\\A"
        i = 1
    while i < len(src):
        c = src[i : i + 1]
        if c == b"$" and i == len(src) - 1:
            out += b"\\Z"
            i += 1
            continue
        if c == b"(":
            group += 1
            if src[i + 1 : i + 2] == b")":
                positions.add(group)
                out += b"()"
                i += 2
                continue
            depth += 1
            out += b"("
            i += 1
            continue
        if c == b")":
            if depth == 0:
                raise LuaError("invalid pattern capture")
            depth -= 1
            out += b")"
            i += 1
            continue
        item, i = _single(src, i)
        q = src[i : i + 1]
        if q in (b"*", b"+", b"?"):
            item += q
            i += 1
        elif q == b"-":
            item += b"*?"
            i += 1
        out += item
    if depth:
        raise LuaError("unfinished capture")
    return bytes(out), positions


def _single(src: bytes, i: int) -> tuple[bytes, int]:
    c = src[i : i + 1]
    if c == b".":
        return b".", i + 1
    if c == b"%":
        return _escape_class(src, i + 1, in_set=False), i + 2
    if c == b"[":
        end = i + 1
        body = bytearray(b"[")
        if src[end : end + 1] == b"^":
            body += b"^"
            end += 1
        first = True
        while True:
            if end >= len(src):
                raise LuaError("malformed pattern (missing ']')")
            ch = src[end : end + 1]
            if ch == b"]" and not first:
                return bytes(body + b"]"), end + 1
            if ch == b"%":
                body += _escape_class(src, end + 1, in_set=True)
                end += 2
            elif src[end + 1 : end + 2] == b"-" and src[end + 2 : end + 3] not in (b"]", b""):
                body += re.escape(ch) + b"-" + re.escape(src[end + 2 : end + 3])
                end += 3
            else:
                body += re.escape(ch)
                end += 1
            first = False
    return re.escape(c), i + 1


def _escape_class(src: bytes, i: int, *, in_set: bool) -> bytes:
    if i >= len(src):
        raise LuaError("malformed pattern (ends with '%')")
    c = chr(src[i])
    cls = _CLASSES.get(c.lower())
    if cls is None:
        if c.isdigit() and not in_set:
            return b"(?:\\" + c.encode() + b")"  # back-reference %1..%9
        if c in "bf":
            raise LuaError(f"pattern item %{c} is not supported by this verifier")
        return re.escape(src[i : i + 1])
    if in_set:
        if c.isupper():
            raise LuaError(f"pattern class %{c} inside a set is not supported by this verifier")
        return cls.encode()
    return ("[^" if c.isupper() else "[").encode() + cls.encode() + b"]"
