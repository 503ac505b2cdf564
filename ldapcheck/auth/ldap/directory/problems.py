"""Rules applied to each entry of a directory scan: login values Jitsi cannot use, account states, duplicate keys."""

from __future__ import annotations

import enum
import math
import random
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ldapcheck.auth.ldap.account import State, states
from ldapcheck.auth.ldap.account import filetime as filetime  # the scan and its tests take it from here
from ldapcheck.core import catalogue as ids


class Level(enum.StrEnum):
    """How bad a problem is: an error makes `validate` exit 1."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class ProblemKind:
    """A problem the scan counts: stable key, catalogue id, level, and the fix an admin applies."""

    key: str
    failure_id: str
    level: Level
    title: str
    fix: str


DUPLICATE = ProblemKind(
    "duplicate-login",
    ids.SA_ENTRY_COUNT,
    Level.ERROR,
    "login values that select more than one entry",
    "saslauthd refuses a login whose filter matches more than one entry. Make the values unique, or narrow "
    "LDAP_BASE / add an objectClass or OU condition to LDAP_FILTER so that only one entry matches.",
)
NO_LOGIN_ATTR = ProblemKind(
    "no-login-attribute",
    ids.DIR_NO_LOGIN_ATTR,
    Level.WARNING,
    "entries without the login attribute",
    "These entries can never log in: give them the login attribute, or ignore this if they are not people.",
)
LOGIN_UNREACHABLE = ProblemKind(
    "login-unreachable",
    ids.SA_TOKENS,
    Level.ERROR,
    "entries whose login attribute no typed login can match through LDAP_FILTER",
    "Through prosody saslauthd gets the login without '@' and realm XMPP_DOMAIN, so %d is empty and %r is "
    "XMPP_DOMAIN: the filter's constant part around %u must equal the directory values' (e.g. use "
    "(mail=%u@example.org), or filter on uid / sAMAccountName). See `ldapcheck user LOGIN` for the expansion.",
)
LOGIN_AT = ProblemKind(
    "login-with-at",
    ids.LOGIN_AT,
    Level.ERROR,
    "login values containing '@'",
    "Prosody cuts the login at the first '@', so saslauthd searches for the part before it and never finds these "
    "users. Log in with a value without '@' (e.g. LDAP_FILTER=(uid=%u) with plain uids), or match the local part "
    "with a filter such as (mail=%u@example.org).",
)
LOGIN_SPACE = ProblemKind(
    "login-spaces",
    ids.LOGIN_SPACE,
    Level.WARNING,
    "login values with leading or trailing spaces",
    "XMPP clients and prosody do not send surrounding spaces; remove them from the directory values.",
)
LOGIN_ESCAPED = ProblemKind(
    "login-escaped-chars",
    ids.LOGIN_ESCAPED,
    Level.WARNING,
    "login values containing characters saslauthd escapes (* ( ) \\ NUL)",
    "saslauthd escapes these characters (\\2a \\28 \\29 \\5c \\00) before searching, so they match literally; "
    "users must type them exactly. Prefer plain login names; check one with `ldapcheck user LOGIN`.",
)
LOGIN_NON_ASCII = ProblemKind(
    "login-non-ascii",
    ids.LOGIN_NONASCII,
    Level.WARNING,
    "non-ASCII login values",
    "saslauthd sends the bytes the client typed; whether they match depends on the server's Unicode matching "
    "rules (and the client's normalisation). Test these users with `ldapcheck user LOGIN`, or use ASCII login names.",
)
AD_DISABLED = ProblemKind(
    "account-disabled",
    ids.AD_533,
    Level.WARNING,
    "accounts disabled (userAccountControl bit 2)",
    "Disabled accounts cannot log in. Expected for people who left; otherwise enable them, or exclude them with "
    "(!(userAccountControl:1.2.840.113556.1.4.803:=2)) in LDAP_FILTER.",
)
AD_LOCKED = ProblemKind(
    "account-locked-ad",
    ids.AD_775,
    Level.WARNING,
    "accounts locked out (lockoutTime > 0)",
    "Locked accounts are refused until the domain's lockout duration passes or an admin unlocks them.",
)
AD_EXPIRED = ProblemKind(
    "account-expired",
    ids.AD_701,
    Level.WARNING,
    "accounts expired (accountExpires in the past)",
    "Expired accounts cannot log in; extend accountExpires or remove the users from the login filter.",
)
AD_MUST_CHANGE = ProblemKind(
    "account-must-change-password-ad",
    ids.AD_773,
    Level.WARNING,
    "accounts that must change their password at next logon (pwdLastSet = 0)",
    "AD refuses the bind (data 773) until the user sets a new password in Windows or a portal; Jitsi cannot.",
)
PPOLICY_LOCKED = ProblemKind(
    "account-locked-ppolicy",
    ids.OL_PPOLICY,
    Level.WARNING,
    "accounts locked by the password policy (pwdAccountLockedTime)",
    "The ppolicy overlay refuses these binds. Unlock with `ldapmodify` (delete pwdAccountLockedTime) if they "
    "should log in.",
)
PPOLICY_RESET = ProblemKind(
    "account-must-change-password",
    ids.OL_PPOLICY,
    Level.WARNING,
    "accounts that must change their password (pwdReset: TRUE)",
    "With pwdMustChange the server expects a password change first; Jitsi cannot change passwords.",
)

LOGIN_KINDS = (LOGIN_UNREACHABLE, LOGIN_AT, LOGIN_SPACE, LOGIN_ESCAPED, LOGIN_NON_ASCII)
ACCOUNT_KINDS = (AD_DISABLED, AD_LOCKED, AD_EXPIRED, AD_MUST_CHANGE, PPOLICY_LOCKED, PPOLICY_RESET)
ALL_KINDS = (DUPLICATE, NO_LOGIN_ATTR, *LOGIN_KINDS, *ACCOUNT_KINDS)

# A value that matches none of these needs no rule at all: the fast path of the scan.
SUSPECT = re.compile(rb"[@*()\\\x00\x80-\xff]|^\s|\s$|\s\s")
_ESCAPED_CHARS = frozenset("*()\\\x00")


def login_problems(value: str) -> list[ProblemKind]:
    """The login rules `value` breaks."""
    found: list[ProblemKind] = []
    if "@" in value:
        found.append(LOGIN_AT)
    if value != value.strip():
        found.append(LOGIN_SPACE)
    if any(ch in _ESCAPED_CHARS for ch in value):
        found.append(LOGIN_ESCAPED)
    if not value.isascii():
        found.append(LOGIN_NON_ASCII)
    return found


def match_key(value: str) -> bytes:
    """What the server compares for a case-ignoring attribute (uid, sAMAccountName): case and insignificant
    spaces folded (RFC 4518), Unicode compatibility-normalised. Duplicate detection keys on this."""
    text = value if value.isascii() else unicodedata.normalize("NFKC", value)
    return " ".join(text.casefold().split()).encode("utf-8", "surrogatepass")


_KINDS = {
    State.DISABLED: AD_DISABLED,
    State.LOCKED: AD_LOCKED,
    State.EXPIRED: AD_EXPIRED,
    State.MUST_CHANGE: AD_MUST_CHANGE,
    State.PPOLICY_LOCKED: PPOLICY_LOCKED,
    State.PPOLICY_RESET: PPOLICY_RESET,
}


def account_problems(attrs: Mapping[str, Sequence[bytes]], now_filetime: int) -> list[ProblemKind]:
    """The account states shown by an entry's attributes (keys lower-cased), as problem kinds."""
    return [_KINDS[state] for state in states(attrs, now_filetime)]


class CompactHashSet:
    """A set of 64-bit hashes at about 6-7 bytes a member.

    `hash()` of the key (SipHash, 64 bits) picks one of 2**14 byte buckets by its low bits; the next 48 bits are
    appended to that bucket. Membership is a C-speed `find` over ~6 bytes per member of the bucket. A false
    "already seen" needs a 62-bit collision: about 3e-8 for a million users, and reported duplicates are
    confirmed with a real search anyway.
    """

    BUCKET_BITS = 14
    TAIL_BYTES = 6
    __slots__ = ("_buckets", "size")

    def __init__(self) -> None:
        self._buckets: list[bytearray | None] = [None] * (1 << self.BUCKET_BITS)
        self.size = 0

    def add(self, key: bytes) -> bool:
        """Add `key`; True if it was (probably) already present."""
        h = hash(key) & 0xFFFF_FFFF_FFFF_FFFF
        index = h & ((1 << self.BUCKET_BITS) - 1)
        tail = (h >> self.BUCKET_BITS).to_bytes(8, "little")[: self.TAIL_BYTES]
        bucket = self._buckets[index]
        if bucket is None:
            self._buckets[index] = bytearray(tail)
            self.size += 1
            return False
        pos = bucket.find(tail)
        while pos >= 0:
            if pos % self.TAIL_BYTES == 0:
                return True
            pos = bucket.find(tail, pos + 1)
        bucket += tail
        self.size += 1
        return False

    def nbytes(self) -> int:
        """Bytes held by the buckets (payload, not counting allocator slack)."""
        return sum(len(b) for b in self._buckets if b is not None) + 8 * len(self._buckets)


class Reservoir:
    """A uniform sample of k items from a stream of unknown length (Algorithm L; constant work per item)."""

    def __init__(self, k: int, seed: int = 0) -> None:
        self.k = k
        self.items: list[str] = []
        self._rng = random.Random(seed)  # noqa: S311 - sampling, not security
        self._seen = 0
        self._next = 0
        self._w = 1.0

    def _advance(self) -> None:
        self._w *= math.exp(math.log(self._rng.random() or 1e-300) / self.k)
        denominator = math.log1p(-self._w) if self._w < 1.0 else -1e-300
        self._next += math.floor(math.log(self._rng.random() or 1e-300) / denominator) + 1

    def wants(self) -> bool:
        """Whether the next item of the stream is taken (call `offer` with it if so)."""
        self._seen += 1
        return self.k > 0 and (self._seen <= self.k or self._seen == self._next)

    def offer(self, item: str) -> None:
        """Take the item `wants()` just accepted."""
        if len(self.items) < self.k:
            self.items.append(item)
            if len(self.items) == self.k:
                self._next = self.k
                self._advance()
            return
        self.items[self._rng.randrange(self.k)] = item
        self._advance()


_DN_LIKE = re.compile(r"^[A-Za-z][\w-]*=[^,]*,[A-Za-z][\w-]*=")
_KEPT_IN_MASK = frozenset("@*()\\ .")


def mask_login(value: str) -> str:
    """A login for --sanitize: first character and the characters that make it a problem, the rest masked.

    DNs are left to `secrets.sanitize_pii`, which masks their naming values at render time.
    """
    if not value or _DN_LIKE.match(value):
        return value
    rest = "".join(ch if ch in _KEPT_IN_MASK else ("?" if not ch.isascii() else "*") for ch in value[1:])
    return value[0] + rest
