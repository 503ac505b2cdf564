"""Seed LDIF for the lab directory: named users, N generated users and the edge cases later checks need."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# Edge cases (logins as a user would type them).
SPECIAL_UID = "sp*ci(al)\\uid"  # every character an LDAP filter must escape: * ( ) \
DUPE_UID = "dupe"  # present in ou=users and ou=staff
NOPASS_UID = "nopass"  # entry without userPassword
UNICODE_UID = "jose"  # non-ASCII cn/displayName
AT_UID = "carol@example.org"  # prosody strips everything from the first '@' before saslauthd sees it
LOCKED_UID = "locked"  # pwdAccountLockedTime set (ppolicy): the right password still fails
NO_UID_CN = "No Login"  # inetOrgPerson without a uid attribute
UNICODE_NAME = "José Müller-Łukasiewicz 日本"
NAMED_UIDS = ("alice", "bob", SPECIAL_UID, DUPE_UID, UNICODE_UID, AT_UID, LOCKED_UID)


@dataclass(frozen=True)
class SeedPlan:
    """What goes into the directory; passwords are the clear text the tests log in with."""

    suffix: str
    n_users: int
    passwords: dict[str, str] = field(default_factory=dict)  # login → password for NAMED_UIDS (+ NO_UID_CN)

    @property
    def users_base(self) -> str:
        return f"ou=users,{self.suffix}"

    @property
    def staff_base(self) -> str:
        return f"ou=staff,{self.suffix}"


def new_seed_plan(suffix: str, n_users: int) -> SeedPlan:
    """A plan with fresh random passwords for every named user."""
    names = (*NAMED_UIDS, NO_UID_CN)
    return SeedPlan(suffix=suffix, n_users=n_users, passwords={n: secrets.token_urlsafe(12) for n in names})


def generated_uid(index: int, n_users: int) -> str:
    """`user0001` … (zero-padded to at least 4 digits, wider for larger directories)."""
    return f"user{index:0{max(4, len(str(n_users)))}d}"


def generated_password(uid: str) -> str:
    return f"pw-{uid}"


def ssha(password: str) -> str:
    """`{SSHA}` exactly as `slappasswd -h {SSHA}` makes it: base64(sha1(password + salt) + salt)."""
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode() + salt).digest()  # noqa: S324 - SSHA is what slapd stores
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def _line(attr: str, value: str) -> str:
    """One LDIF line; values that are not LDIF-safe strings are base64-encoded (RFC 2849)."""
    safe = value.isascii() and value == value.strip() and not value.startswith((":", "<")) and "\n" not in value
    if safe:
        return f"{attr}: {value}\n"
    return f"{attr}:: {base64.b64encode(value.encode()).decode()}\n"


def _entry(dn: str, attrs: list[tuple[str, str]]) -> str:
    return _line("dn", dn) + "".join(_line(a, v) for a, v in attrs) + "\n"


def _person(dn: str, uid: str | None, cn: str, password: str | None, *extra: tuple[str, str]) -> str:
    attrs = [("objectClass", "inetOrgPerson")]
    if uid is not None:
        attrs.append(("uid", uid))
    attrs += [("cn", cn), ("sn", cn.split()[-1]), ("displayName", cn)]
    if uid is not None and "@" not in uid:
        attrs.append(("mail", f"{uid}@example.org"))
    if password is not None:
        attrs.append(("userPassword", ssha(password)))
    attrs += list(extra)
    return _entry(dn, attrs)


def named_entries(plan: SeedPlan) -> Iterator[str]:
    """ou=staff, the named users and the edge cases (ou=users itself is made by the image)."""
    pw = plan.passwords
    users, staff = plan.users_base, plan.staff_base
    yield _entry(staff, [("objectClass", "organizationalUnit"), ("ou", "staff")])
    yield _person(f"uid=alice,{users}", "alice", "Alice Liddell", pw["alice"])
    yield _person(f"uid=bob,{users}", "bob", "Bob Builder", pw["bob"])
    yield _person(f"cn=Special Chars,{users}", SPECIAL_UID, "Special Chars", pw[SPECIAL_UID])
    yield _person(f"uid={DUPE_UID},{users}", DUPE_UID, "Dupe Users", pw[DUPE_UID])
    yield _person(f"uid={DUPE_UID},{staff}", DUPE_UID, "Dupe Staff", pw[DUPE_UID])
    yield _person(f"uid={NOPASS_UID},{users}", NOPASS_UID, "No Password", None)
    yield _person(f"uid={UNICODE_UID},{users}", UNICODE_UID, UNICODE_NAME, pw[UNICODE_UID])
    yield _person(f"uid={AT_UID},{users}", AT_UID, "Carol Atsign", pw[AT_UID])
    yield _person(f"cn={NO_UID_CN},{users}", None, NO_UID_CN, pw[NO_UID_CN])
    # 000001010000Z is ppolicy's "locked by an administrator until unlocked".
    yield _person(
        f"uid={LOCKED_UID},{users}", LOCKED_UID, "Locked Out", pw[LOCKED_UID], ("pwdAccountLockedTime", "000001010000Z")
    )


def generated_entries(plan: SeedPlan) -> Iterator[str]:
    """`user0001` … with password `pw-<uid>`, as posixAccount + inetOrgPerson."""
    for i in range(1, plan.n_users + 1):
        uid = generated_uid(i, plan.n_users)
        yield (
            f"dn: uid={uid},{plan.users_base}\n"
            "objectClass: inetOrgPerson\nobjectClass: posixAccount\n"
            f"uid: {uid}\ncn: User {i}\nsn: {i}\ngivenName: User\nmail: {uid}@example.org\n"
            f"uidNumber: {10000 + i}\ngidNumber: 10000\nhomeDirectory: /home/{uid}\n"
            f"userPassword: {ssha(generated_password(uid))}\n\n"
        )


def write_seed_dir(plan: SeedPlan, directory: Path) -> list[Path]:
    """Write the LDIF files the image loads from /seed (in name order); returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.ldif"):
        old.unlink()
    named = directory / "10-named.ldif"
    generated = directory / "20-generated.ldif"
    named.write_text("".join(named_entries(plan)), encoding="utf-8")
    with generated.open("w", encoding="utf-8") as out:
        out.writelines(generated_entries(plan))
    # The container reads these as root; they hold password hashes only, but keep them private anyway.
    for path in (named, generated):
        path.chmod(0o600)
    return [named, generated]
