"""Compose v2 value processing: double-quote escapes and `$` interpolation (compose-go `dotenv`, `template`)."""

from __future__ import annotations

import re
from collections.abc import Callable

_NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*")
_BRACED = re.compile(r"([_A-Za-z][_A-Za-z0-9]*)(?:(:?[-?+])(.*))?", re.DOTALL)
_ESCAPE = re.compile(r"\\(?:[abcfnrtv$\"\\]|0[0-9]{0,3})")
_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    '"': '"',
    "\\": "\\",
}


class InterpolationError(Exception):
    """A `${…}` that Compose rejects (unterminated, invalid name, `:?`/`?` on an unset variable)."""


def expand_escapes(body: str) -> str:
    """compose-go `expandEscapes` for double-quoted values (`\\$` becomes `$$`, a literal `$` later)."""

    def repl(m: re.Match[str]) -> str:
        s = m.group()
        if s == "\\$":
            return "$$"
        if s.startswith("\\0"):
            digits = s[2:]
            if len(digits) == 3 and all(c in "01234567" for c in digits) and int(digits, 8) <= 255:
                return chr(int(digits, 8))
            return "\\" + digits  # Go's UnquoteChar fails; compose keeps the rewritten text
        return _SIMPLE_ESCAPES.get(s[1], s)

    return _ESCAPE.sub(repl, body)


def _closing_brace(s: str, start: int) -> int:
    """Index of the `}` closing the `${` at `start`, counting nested `${`; -1 if none."""
    depth = 0
    i = start
    while i < len(s):
        if s.startswith("${", i):
            depth += 1
            i += 2
            continue
        if s[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def substitute(s: str, lookup: Callable[[str], str | None]) -> tuple[str, bool]:
    """Compose interpolation of one value; returns (result, whether a stray `$` was kept)."""
    out: list[str] = []
    stray = False
    i = 0
    while i < len(s):
        ch = s[i]
        if ch != "$":
            out.append(ch)
            i += 1
            continue
        nxt = s[i + 1 : i + 2]
        if nxt == "$":
            out.append("$")
            i += 2
            continue
        if nxt == "{":
            end = _closing_brace(s, i)
            if end < 0:
                raise InterpolationError(
                    "unterminated '${' in the value (write a literal $ as $$ or single-quote the value)"
                )
            body = s[i + 2 : end]
            m = _BRACED.fullmatch(body)
            if not m:
                raise InterpolationError(
                    "invalid '${…}' interpolation (write a literal $ as $$ or single-quote the value)"
                )
            out.append(_braced(m.group(1), m.group(2), m.group(3) or "", lookup))
            i = end + 1
            continue
        m = _NAME.match(s, i + 1)
        if m:
            out.append(lookup(m.group()) or "")
            i = m.end()
            continue
        stray = True
        out.append("$")
        i += 1
    return "".join(out), stray


def _braced(name: str, op: str | None, arg: str, lookup: Callable[[str], str | None]) -> str:
    value = lookup(name)
    if op is None:
        return value or ""
    nested, _ = substitute(arg, lookup)
    if op == ":-":
        return value if value else nested
    if op == "-":
        return nested if value is None else value
    if op == ":+":
        return nested if value else ""
    if op == "+":
        return nested if value is not None else ""
    if (op == ":?" and not value) or (op == "?" and value is None):
        raise InterpolationError(f"required variable {name} is missing a value (${{{name}{op}…}})")
    return value or ""
