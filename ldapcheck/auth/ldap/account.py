"""Account state from AD and OpenLDAP ppolicy attributes: one rule set for the host step and the directory scan.

Attribute names are looked up lower-cased; values are the raw bytes the server sent.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence

# Attributes that show an account's state; requested by name (the ppolicy ones are operational).
AD_ATTRS = ("userAccountControl", "lockoutTime", "accountExpires", "pwdLastSet")
PPOLICY_ATTRS = ("pwdAccountLockedTime", "pwdReset")

# AD FILETIME: 100 ns ticks since 1601-01-01; 0 and 2**63-1 both mean "never expires".
_FILETIME_EPOCH_OFFSET = 11_644_473_600
FILETIME_NEVER = (0, 0x7FFF_FFFF_FFFF_FFFF)


class State(enum.StrEnum):
    """A state that keeps an account from logging in (or forces a password change first)."""

    DISABLED = "disabled"  # AD userAccountControl ACCOUNTDISABLE
    LOCKED = "locked"  # AD lockoutTime
    EXPIRED = "expired"  # AD accountExpires in the past
    MUST_CHANGE = "must-change"  # AD pwdLastSet=0
    PPOLICY_LOCKED = "ppolicy-locked"  # pwdAccountLockedTime
    PPOLICY_RESET = "ppolicy-reset"  # pwdReset=TRUE


# The shared ACCOUNT fact (ldapcheck.core.facts) of each state.
FACTS = {
    State.DISABLED: "disabled",
    State.LOCKED: "locked",
    State.EXPIRED: "expired",
    State.MUST_CHANGE: "must-change",
    State.PPOLICY_LOCKED: "locked",
    State.PPOLICY_RESET: "must-change",
}

# The ACCOUNT fact a failed bind's own answer shows: AD's `data XXX` sub-code, the ppolicy response control's error.
AD_DATA_FACTS = {"533": "disabled", "775": "locked", "701": "expired", "532": "must-change", "773": "must-change"}
PPOLICY_ERROR_FACTS = {"accountLocked": "locked", "passwordExpired": "must-change", "changeAfterReset": "must-change"}


def filetime(unix_seconds: float) -> int:
    """A Unix time as AD FILETIME."""
    return int((unix_seconds + _FILETIME_EPOCH_OFFSET) * 10_000_000)


def filetime_datetime(value: int) -> dt.datetime:
    """An AD FILETIME as an aware UTC datetime."""
    return dt.datetime(1601, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=value // 10)


def first_int(values: Sequence[bytes] | None) -> int | None:
    """The first value as an integer (None if absent or not a number)."""
    try:
        return int(values[0]) if values else None
    except ValueError:
        return None


def states(attrs: Mapping[str, Sequence[bytes]], now_filetime: int) -> list[State]:
    """The account states an entry's attributes show (keys lower-cased), most decisive first."""
    found: list[State] = []
    if (first_int(attrs.get("useraccountcontrol")) or 0) & 2:
        found.append(State.DISABLED)
    if (first_int(attrs.get("lockouttime")) or 0) > 0:
        found.append(State.LOCKED)
    expires = first_int(attrs.get("accountexpires"))
    if expires is not None and expires not in FILETIME_NEVER and expires < now_filetime:
        found.append(State.EXPIRED)
    if first_int(attrs.get("pwdlastset")) == 0:
        found.append(State.MUST_CHANGE)
    if attrs.get("pwdaccountlockedtime"):
        found.append(State.PPOLICY_LOCKED)
    reset = attrs.get("pwdreset")
    if reset and reset[0].upper() == b"TRUE":
        found.append(State.PPOLICY_RESET)
    return found
