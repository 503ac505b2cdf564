"""Lua 5.4, lua-cjson 2.1.0 and basexx 0.4.1 behaviour that prosody's token code depends on.

Strings are kept as ``str`` decoded from UTF-8 with ``surrogateescape``, so every byte string Lua could hold
round-trips, and ASCII comparisons, prefixes and suffixes give the same answer on either side.
"""

from __future__ import annotations

import binascii
import math
import re

_NOT_URL64 = re.compile(r"[^A-Za-z0-9_=-]")
_TO_STD64 = str.maketrans("-_", "+/")
_MAX_DEPTH = 1000  # cjson's decode_max_depth default


class LuaError(Exception):
    """The Lua code raised an error: prosody logs it and the login fails, with no clean refusal."""


class _Null:
    """cjson.null: a light userdata, so it is truthy and is not nil."""

    _instance: _Null | None = None

    def __new__(cls) -> _Null:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NULL"


NULL = _Null()


def b2s(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def s2b(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def from_url64(text: str) -> tuple[bytes | None, str | None]:
    """basexx.from_url64: '=' is skipped anywhere, leftover bits are dropped, a foreign byte is an error."""
    bad = _NOT_URL64.search(text)
    if bad:
        return None, f"unexpected character at position {bad.start() + 1}: '{bad.group()}'"
    digits = text.replace("=", "").translate(_TO_STD64)
    whole = len(digits) - len(digits) % 4
    rest = digits[whole:]
    # binascii keeps this linear; a lone 6-bit tail holds no full byte, and basexx drops it as here.
    data = binascii.a2b_base64(digits[:whole]) if whole else b""
    if len(rest) > 1:
        data += binascii.a2b_base64(rest + "=" * (4 - len(rest)))
    return data, None


def lua_type(value: object) -> str:
    """Lua's type() name; cjson.null is a (light) userdata."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict | list):
        return "table"
    return "userdata"


def truthy(value: object) -> bool:
    return value is not None and value is not False


def lua_eq(a: object, b: object) -> bool:
    if lua_type(a) != lua_type(b):
        return False
    if isinstance(a, dict | list):
        return a is b
    return a == b


def lua_index(value: object, key: str, varinfo: str) -> object:
    """``value[key]`` as Lua does it; strings index the string library, which has none of the claim names."""
    if isinstance(value, dict):
        return value.get(key)
    if isinstance(value, list | str):
        return None
    raise LuaError(f"attempt to index a {lua_type(value)} value ({varinfo})")


def argtype(value: object) -> str:
    """The type name luaL_typeerror uses ('light userdata' for cjson.null)."""
    return "light userdata" if value is NULL else lua_type(value)


def tostring(value: object) -> str:
    """tostring() for the values a JSON decode yields; floats use "%.14g" and keep a ".0"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "-nan" if math.copysign(1.0, value) < 0 else "nan"
        text = "%.14g" % value  # noqa: UP031 -- C printf semantics are the point
        return text + ".0" if re.fullmatch(r"-?[0-9]+", text) else text
    if isinstance(value, str):
        return value
    raise LuaError(f"cannot convert a {lua_type(value)} value to a string")


def concat_operand(value: object, varinfo: str) -> str:
    """An operand of '..': strings and numbers only."""
    if isinstance(value, str) or lua_type(value) == "number":
        return tostring(value)
    raise LuaError(f"attempt to concatenate a {lua_type(value)} value ({varinfo})")


def lower(value: object) -> str:
    """string.lower in the C locale: only A-Z change; numbers are converted first."""
    if not (isinstance(value, str) or lua_type(value) == "number"):
        raise LuaError(f"bad argument #1 to 'lower' (string expected, got {argtype(value)})")
    return tostring(value).translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

_C_SPACE = " \t\n\v\f\r"
_STR2INT = re.compile(r"[ \t\n\v\f\r]*([-+]?)(?:0[xX]([0-9a-fA-F]+)|([0-9]+))[ \t\n\v\f\r]*")


def str2number(text: str) -> int | float | None:
    """lua_stringtonumber as the string arithmetic metamethods use it."""
    if "\0" in text:  # the converted length must be the whole string, NULs included
        return None
    m = _STR2INT.fullmatch(text)
    if m:
        sign, hexdigits, decimal = m.groups()
        if hexdigits:
            n = int(hexdigits, 16) % (1 << 64)  # hex integers wrap around
            n = n - (1 << 64) if n >= (1 << 63) else n
            return -n if sign == "-" else n
        n = int(decimal)
        if n <= (1 << 63) - 1 + (sign == "-"):
            return -n if sign == "-" else n
    if "n" in text or "N" in text:  # rejects 'inf' and 'nan'
        return None
    text = text.lstrip(_C_SPACE)
    parsed = _strtod(text, 0)
    if parsed is None or text[parsed[1] :].strip(_C_SPACE):
        return None
    return parsed[0]


def sub(a: object, b: object, varinfo: str) -> float:
    """``a - b`` where a is a number (exp) and b anything (iat)."""
    assert isinstance(a, float)
    if lua_type(b) == "number":
        return a - b  # type: ignore[operator]
    if isinstance(b, str):
        n = str2number(b)
        if n is None:
            raise LuaError("attempt to sub a 'number' with a 'string'")
        return a - n
    raise LuaError(f"attempt to perform arithmetic on a {lua_type(b)} value ({varinfo})")


# strtod, as cjson uses it to read numbers: the longest prefix that parses.
_DEC = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_HEX = re.compile(r"([-+]?)0[xX]((?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][-+]?[0-9]+)?)")
_INFNAN = re.compile(r"([-+]?)(?:(infinity|inf)|(nan)(?:\([0-9A-Za-z_]*\))?)", re.IGNORECASE)


def _strtod(text: str, pos: int) -> tuple[float, int] | None:
    m = _HEX.match(text, pos)
    if m:
        value = float.fromhex(m.group(2))
        return (-value if m.group(1) == "-" else value), m.end()
    m = _INFNAN.match(text, pos)
    if m:
        value = math.inf if m.group(2) else math.nan
        return (-value if m.group(1) == "-" else value), m.end()
    m = _DEC.match(text, pos)
    if m:
        return float(m.group(0)), m.end()
    return None


class _JSONError(Exception):
    pass


_WS = " \t\n\r"
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def cjson_decode(data: bytes) -> object:
    """cjson.safe.decode; raises ValueError where cjson.safe returns (nil, err)."""
    if len(data) >= 2 and (data[0] == 0 or data[1] == 0):
        raise ValueError("JSON parser does not support UTF-16 or UTF-32")
    # A NUL ends the text for cjson's tokenizer (T_END), so anything after it is never read.
    text = b2s(data.split(b"\0", 1)[0]) + "\0"
    try:
        value, pos = _parse(text)
        pos = _skip_ws(text, pos)
    except (_JSONError, IndexError, ValueError, OverflowError) as exc:
        raise ValueError(str(exc)) from exc
    if text[pos] != "\0":
        raise ValueError(f"expected the end at character {pos + 1}")
    return value


def _skip_ws(text: str, pos: int) -> int:
    while text[pos] in _WS:
        pos += 1
    return pos


def _parse(text: str) -> tuple[object, int]:
    # Iterative, so that 1000 levels of nesting (cjson's limit) cannot exhaust Python's stack.
    stack: list[tuple[dict[str, object] | list[object], str | None]] = []
    pos = 0
    while True:
        pos = _skip_ws(text, pos)
        ch = text[pos]
        if ch in "{[":
            if len(stack) >= _MAX_DEPTH:
                raise _JSONError("found too many nested data structures")
            container: dict[str, object] | list[object] = {} if ch == "{" else []
            pos = _skip_ws(text, pos + 1)
            closer = "}" if ch == "{" else "]"
            if text[pos] == closer:
                value: object = container
                pos += 1
            else:
                key = None
                if ch == "{":
                    key, pos = _parse_key(text, pos)
                stack.append((container, key))
                continue
        else:
            value, pos = _parse_scalar(text, pos)
        while True:  # attach value to its parent, close finished containers
            if not stack:
                return value, pos
            parent, key = stack[-1]
            if isinstance(parent, dict):
                assert key is not None
                parent[key] = value
            else:
                parent.append(value)
            pos = _skip_ws(text, pos)
            if text[pos] == ",":
                pos += 1
                if isinstance(parent, dict):
                    key, pos = _parse_key(text, _skip_ws(text, pos))
                    stack[-1] = (parent, key)
                break
            if text[pos] != ("}" if isinstance(parent, dict) else "]"):
                raise _JSONError(f"unexpected token at character {pos + 1}")
            stack.pop()
            value = parent
            pos += 1


def _parse_key(text: str, pos: int) -> tuple[str, int]:
    if text[pos] != '"':
        raise _JSONError(f"expected object key string at character {pos + 1}")
    key, pos = _parse_string(text, pos)
    pos = _skip_ws(text, pos)
    if text[pos] != ":":
        raise _JSONError(f"expected colon at character {pos + 1}")
    return key, pos + 1


def _parse_scalar(text: str, pos: int) -> tuple[object, int]:
    ch = text[pos]
    if ch == '"':
        return _parse_string(text, pos)
    if ch in "-0123456789+" or (ch in "iInN" and text[pos : pos + 3].lower() in ("inf", "nan")):
        parsed = _strtod(text, pos)
        if parsed is None:
            raise _JSONError(f"invalid number at character {pos + 1}")
        return parsed
    for word, value in (("true", True), ("false", False), ("null", NULL)):
        if text.startswith(word, pos):
            return value, pos + len(word)
    raise _JSONError(f"invalid token at character {pos + 1}")


def _parse_string(text: str, pos: int) -> tuple[str, int]:
    out: list[str] = []
    pos += 1
    while True:
        end = pos
        while text[end] not in '"\\\0':
            end += 1
        out.append(text[pos:end])
        ch = text[end]
        if ch == '"':
            return "".join(out), end + 1
        if ch == "\0":
            raise _JSONError("unexpected end of string")
        esc = text[end + 1]
        if esc == "u":
            code = _hex4(text, end + 2)
            pos = end + 6
            if code & 0xF800 == 0xD800:
                if code & 0x400 or text[pos : pos + 2] != "\\u":
                    raise _JSONError("invalid unicode escape code")
                low = _hex4(text, pos + 2)
                if low & 0xFC00 != 0xDC00:
                    raise _JSONError("invalid unicode escape code")
                code = 0x10000 + ((code & 0x3FF) << 10 | (low & 0x3FF))
                pos += 6
            out.append(chr(code))
        elif esc in _ESCAPES:
            out.append(_ESCAPES[esc])
            pos = end + 2
        else:
            raise _JSONError("invalid escape code")


def _hex4(text: str, pos: int) -> int:
    digits = text[pos : pos + 4]
    if len(digits) != 4 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise _JSONError("invalid unicode escape code")
    return int(digits, 16)
