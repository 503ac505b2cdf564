"""Seed LDIF: every edge case is present, encoded the way slapadd reads it, with verifiable {SSHA} hashes."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from ldapcheck.lab import seed


def _entries(text: str) -> list[dict[str, list[str]]]:
    """A minimal LDIF reader (enough for what the seed writes: no line folding)."""
    entries = []
    for block in text.strip().split("\n\n"):
        entry: dict[str, list[str]] = {}
        for line in block.splitlines():
            if ":: " in line:
                key, value = line.split(":: ", 1)
                value = base64.b64decode(value).decode()
            else:
                key, value = line.split(": ", 1)
            entry.setdefault(key, []).append(value)
        entries.append(entry)
    return entries


def _check_ssha(stored: str, password: str) -> bool:
    raw = base64.b64decode(stored.removeprefix("{SSHA}"))
    digest, salt = raw[:20], raw[20:]
    return hashlib.sha1(password.encode() + salt).digest() == digest  # noqa: S324 - the format under test


def test_ssha_matches_slappasswd_format() -> None:
    stored = seed.ssha("secret")
    assert stored.startswith("{SSHA}")
    assert _check_ssha(stored, "secret")
    assert not _check_ssha(stored, "Secret")
    assert seed.ssha("secret") != stored  # salted


def test_named_entries_cover_the_edge_cases() -> None:
    plan = seed.new_seed_plan("dc=example,dc=org", 3)
    entries = _entries("".join(seed.named_entries(plan)))
    by_dn = {e["dn"][0]: e for e in entries}
    uids = [e.get("uid", [None])[0] for e in entries]
    assert uids.count(seed.DUPE_UID) == 2
    assert {e["dn"][0].split(",", 1)[1] for e in entries if e.get("uid") == [seed.DUPE_UID]} == {
        "ou=users,dc=example,dc=org",
        "ou=staff,dc=example,dc=org",
    }
    assert seed.SPECIAL_UID in uids and set("*()\\") <= set(seed.SPECIAL_UID)
    assert seed.AT_UID in uids
    nopass = next(e for e in entries if e.get("uid") == [seed.NOPASS_UID])
    assert "userPassword" not in nopass
    no_uid = by_dn["cn=No Login,ou=users,dc=example,dc=org"]
    assert "uid" not in no_uid
    unicode_user = next(e for e in entries if e.get("uid") == [seed.UNICODE_UID])
    assert unicode_user["displayName"] == [seed.UNICODE_NAME]
    locked = next(e for e in entries if e.get("uid") == [seed.LOCKED_UID])
    assert locked["pwdAccountLockedTime"] == ["000001010000Z"]
    alice = by_dn["uid=alice,ou=users,dc=example,dc=org"]
    assert _check_ssha(alice["userPassword"][0], plan.passwords["alice"])


def test_non_ascii_values_are_base64_in_the_ldif() -> None:
    plan = seed.new_seed_plan("dc=example,dc=org", 0)
    text = "".join(seed.named_entries(plan))
    assert seed.UNICODE_NAME not in text
    assert text.isascii()


def test_generated_users_and_passwords(tmp_path: Path) -> None:
    plan = seed.new_seed_plan("dc=example,dc=org", 1200)
    files = seed.write_seed_dir(plan, tmp_path / "seed")
    assert [f.name for f in files] == ["10-named.ldif", "20-generated.ldif"]
    assert all(f.stat().st_mode & 0o077 == 0 for f in files)
    generated = _entries(files[1].read_text())
    assert len(generated) == 1200
    first, last = generated[0], generated[-1]
    assert first["uid"] == ["user0001"] and last["uid"] == ["user1200"]
    assert _check_ssha(first["userPassword"][0], "pw-user0001")
    assert seed.generated_uid(7, 100_000) == "user000007"


def test_passwords_are_random_per_plan() -> None:
    a = seed.new_seed_plan("dc=example,dc=org", 1)
    b = seed.new_seed_plan("dc=example,dc=org", 1)
    assert a.passwords["alice"] != b.passwords["alice"]
    assert set(a.passwords) == {*seed.NAMED_UIDS, seed.NO_UID_CN}
