"""Keep secrets out of output: masking helpers and a str wrapper that never prints its value."""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "********"

# Never mask very short values: masking "a" would shred every word of a report.
_MIN_MASKABLE = 3


class Secret:
    """A secret string: `str()`/`repr()` show a mask, `.reveal()` gives the value to the adapter that needs it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        remember(value)

    def reveal(self) -> str:
        """The real value, for the one call that needs it (a bind, a socket write)."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return "Secret('********')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


# Every secret this process has held (a Secret's value, a secret `.env` value): `--debug` output — log records
# and the traceback of an internal error — is masked with them, as reports are with their own.
_REMEMBERED: set[str] = set()


def remember(*values: str) -> None:
    """Note secrets this process holds so that debug output can mask them (too short ones are not masked)."""
    _REMEMBERED.update(v for v in values if len(v) >= _MIN_MASKABLE)


def mask_debug(text: str) -> str:
    """Debug text (a log record, a traceback) with every remembered secret and anything like a token masked."""
    return mask_tokens(mask_secrets(text, frozenset(_REMEMBERED)))


# Where a value may end: white space, quotes, brackets and list punctuation. Not `=` or `:`, so that the
# secret "services" does not turn `ou=services,dc=example` into `ou=********` (which would tell it).
_EDGE = r"""\s"'`,;()\[\]{}<>"""


def _value_pattern(secrets: Iterable[str]) -> re.Pattern[str] | None:
    values = sorted({s for s in secrets if s and len(s) >= _MIN_MASKABLE}, key=len, reverse=True)
    if not values:
        return None
    alternatives = "|".join(re.escape(v) for v in values)
    # A secret is masked where it stands as a whole value, or after a key that names a secret (`password=…`).
    before = rf"(^|[{_EDGE}]|(?i:pw|passwd|password|pass|secret|token|key)[=:])"
    return re.compile(rf"{before}(?:{alternatives})(?=[{_EDGE}]|$)", re.MULTILINE)


def mask_secrets(text: str, secrets: Iterable[str]) -> str:
    """Mask each secret where it stands as a value in `text` (not where it is part of a longer word or DN)."""
    pattern = _value_pattern(secrets)
    return text if pattern is None else pattern.sub(lambda m: m.group(1) + MASK, text)


def count_masked(text: str, secrets: Iterable[str]) -> int:
    """How many values `mask_secrets` would mask in `text`."""
    pattern = _value_pattern(secrets)
    return 0 if pattern is None else len(pattern.findall(text))


# A compact JWT: "eyJ" (base64url of '{"') and two more base64url segments, not glued to other base64url text.
_TOKEN = re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]*=*\.[A-Za-z0-9_-]+=*\.[A-Za-z0-9_-]*=*")
TOKEN_MASK = f"<token {MASK}>"


def looks_like_token(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of JWT-looking substrings in `text`: eyJ... followed by two more base64url segments."""
    return [m.span() for m in _TOKEN.finditer(text)]


def mask_tokens(text: str) -> str:
    """Every JWT-looking substring replaced by a mask: a token is a credential wherever it appears."""
    return _TOKEN.sub(TOKEN_MASK, text)


def count_tokens(text: str) -> int:
    """How many substrings `mask_tokens` would mask."""
    return len(_TOKEN.findall(text))


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A DN value runs to the next unescaped comma (spaces are allowed: "cn=No Login"); in a filter it ends
# at ")" and in prose at a line end. Over-masking a following word is the safe way to be wrong.
_DN_VALUE = re.compile(r"\b(uid|cn|mail|sAMAccountName|userPrincipalName)=((?:\\.|[^,)\n\\])+)", re.IGNORECASE)


def sanitize_pii(text: str) -> str:
    """Mask e-mail addresses and the naming values of user DNs (for --sanitize)."""
    text = _EMAIL.sub("<email>", text)
    return _DN_VALUE.sub(lambda m: f"{m.group(1)}=<masked>", text)


# C0 and C1 controls, DEL, and the bidirectional overrides and isolates (U+202E turns a line around).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def escape_controls(text: str) -> str:
    """`text` safe for a terminal, a log line or a forum post: controls and direction overrides as escapes.

    A login typed as `ali\x01ce` prints as `ali\\x01ce`, not as `alice`; tabs and line breaks in one value
    (a server's message) are kept only where the format allows them, so they are escaped too.
    """
    text = text.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return _UNSAFE.sub(
        lambda m: f"\\u{ord(m.group()):04x}" if ord(m.group()) > 0xFF else f"\\x{ord(m.group()):02x}", text
    )
