"""Merging the LDAP block into a .env changes only those keys, reads back exactly, and writes atomically."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ldapcheck.core.errors import ConfigError, EnvFileError
from ldapcheck.jitsi.env.parse import parse_env
from ldapcheck.jitsi.env.write import BLOCK_HEADER, merge, quote_value, write_env

MANAGED = ("ENABLE_AUTH", "AUTH_TYPE", "LDAP_URL", "LDAP_BASE", "LDAP_BINDDN", "LDAP_BINDPW", "LDAP_START_TLS")
OTHER_KEYS = ("CONFIG", "HTTP_PORT", "TZ", "PUBLIC_URL", "JVB_ADVERTISE_IPS", "LDAP_OTHER", "X.Y")

# Hostile values: everything a password may hold except what saslauthd.conf cannot carry (line breaks, NUL).
hostile = st.text(
    alphabet=st.characters(blacklist_characters="\n\r\0", blacklist_categories=("Cs",)),
    max_size=24,
) | st.sampled_from(["", "$", "$$", "a$b", "${X}", "#", " #x", "'", "\\", "a\\", "\\'", '"', " lead", "trail "])

plain_text = st.text(alphabet=st.characters(blacklist_characters="\n\r\0", blacklist_categories=("Cs",)), max_size=20)
unquoted_safe = st.text(alphabet="abcXYZ019_./:,=@%+-", max_size=12)
single_body = st.text(alphabet=st.characters(blacklist_characters="'\\\r\0", blacklist_categories=("Cs",)), max_size=20)
double_body = st.text(
    alphabet=st.characters(blacklist_characters='"\\$\r\0', blacklist_categories=("Cs",)), max_size=20
)


@st.composite
def other_line(draw: st.DrawFn) -> str:
    key = draw(st.sampled_from(OTHER_KEYS))
    export = draw(st.sampled_from(["", "export "]))
    form = draw(st.sampled_from(["plain", "single", "double", "comment"]))
    if form == "plain":
        value = draw(unquoted_safe)
    elif form == "single":
        value = "'" + draw(single_body) + "'"  # may span lines: a quoted value can hold '#LDAP_URL=…'
    elif form == "double":
        value = '"' + draw(double_body) + '"'
    else:
        value = draw(unquoted_safe) + " # " + draw(plain_text)
    return f"{export}{key}={value}"


@st.composite
def env_text(draw: st.DrawFn) -> tuple[str, set[str]]:
    """A .env: comments, blanks, other keys, commented examples, and single-line managed keys (at most once)."""
    lines: list[str] = []
    present: set[str] = set()
    for _ in range(draw(st.integers(0, 14))):
        kind = draw(st.sampled_from(["comment", "blank", "other", "example", "managed"]))
        if kind == "comment":
            lines.append("#" + draw(plain_text))
        elif kind == "blank":
            lines.append(draw(st.sampled_from(["", "  ", "\t"])))
        elif kind == "other":
            lines.append(draw(other_line()))
        elif kind == "example":
            key = draw(st.sampled_from(MANAGED))
            lines.append(draw(st.sampled_from(["#", "# ", "#export "])) + key + "=" + draw(unquoted_safe))
        else:
            key = draw(st.sampled_from(MANAGED))
            if key in present:
                continue
            present.add(key)
            lines.append(f"{draw(st.sampled_from(['', 'export ']))}{key}={quote_value(draw(hostile))}")
    text = "\n".join(lines)
    if lines and draw(st.booleans()):
        text += "\n"
    return text, present


def managed_line(line: str, keys: set[str]) -> bool:
    body = line.lstrip(" \t#").removeprefix("export ").strip()
    return any(body.startswith(k + "=") for k in keys)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(env_text(), st.dictionaries(st.sampled_from(MANAGED), hostile, min_size=1))
def test_merge_keeps_every_other_byte_and_reads_back(doc: tuple[str, set[str]], updates: dict[str, str]) -> None:
    text, _ = doc
    before = parse_env(text, environ={})
    new = merge(text, updates)
    after = parse_env(new, environ={})
    # The written values read back exactly.
    for key, value in updates.items():
        assert after.values()[key] == value
    # Every other key keeps its value.
    for key, value in before.values().items():
        if key not in updates:
            assert after.values()[key] == value
    # Line by line, only lines of the updated keys differ; anything else new is the appended block.
    old_lines, new_lines = text.split("\n"), new.split("\n")
    if old_lines[-1] == "":  # a final newline (or an empty file) leaves an empty tail element
        old_lines.pop()
    assert len(new_lines) >= len(old_lines)
    keys = set(updates)
    for old, line in zip(old_lines, new_lines, strict=False):
        if old != line:
            assert managed_line(old, keys) and managed_line(line, keys), (old, line)
    extra = [line for line in new_lines[len(old_lines) :] if line]
    assert all(line == BLOCK_HEADER or managed_line(line, keys) for line in extra)
    # A second identical run changes nothing.
    assert merge(new, updates) == new


@given(hostile)
def test_quote_value_round_trips(value: str) -> None:
    assert parse_env(f"K={quote_value(value)}\n", environ={"X": "set"}).values()["K"] == value


def test_commented_examples_are_replaced_where_they_stand() -> None:
    text = (
        "# LDAP url for connection\n#LDAP_URL=ldaps://ldap.domain.com/\n\n"
        "# Wether to use starttls\n# LDAP_START_TLS=1\nTZ=UTC\n"
    )
    new = merge(text, {"LDAP_URL": "ldap://127.0.0.1:389", "LDAP_START_TLS": "1", "LDAP_BINDPW": "p$ss #1"})
    assert new == (
        "# LDAP url for connection\nLDAP_URL=ldap://127.0.0.1:389\n\n"
        "# Wether to use starttls\nLDAP_START_TLS=1\nTZ=UTC\n"
        f"\n{BLOCK_HEADER}\nLDAP_BINDPW='p$ss #1'\n"
    )


def test_in_place_keeps_export_indent_and_comment() -> None:
    text = "  export LDAP_URL=ldap://old # primary\nLDAP_BASE\n"
    new = merge(text, {"LDAP_URL": "ldaps://new:636", "LDAP_BASE": "dc=x"})
    assert new == "  export LDAP_URL=ldaps://new:636 # primary\nLDAP_BASE=dc=x\n"


def test_quote_followed_by_comment_stays_quoted() -> None:
    assert merge("LDAP_URL='a'#c\n", {"LDAP_URL": "b"}) == "LDAP_URL='b'#c\n"


def test_crlf_files_get_crlf_lines() -> None:
    new = merge("TZ=UTC\r\n", {"AUTH_TYPE": "ldap"})
    assert new == f"TZ=UTC\r\n\r\n{BLOCK_HEADER}\r\nAUTH_TYPE=ldap\r\n"
    assert parse_env(new).values()["AUTH_TYPE"] == "ldap"


def test_missing_final_newline_is_added_before_the_block() -> None:
    assert merge("TZ=UTC", {"AUTH_TYPE": "ldap"}) == f"TZ=UTC\n\n{BLOCK_HEADER}\nAUTH_TYPE=ldap\n"


def test_interpolated_value_is_rewritten_even_if_equal_now() -> None:
    assert merge("LDAP_BASE=${BASE}\n", {"LDAP_BASE": ""}) == "LDAP_BASE=\n"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("plain", "plain"),
        ("(uid=%u)", "(uid=%u)"),
        ("", ""),
        ("p$ss", "'p$ss'"),
        ("it's", "'it\\'s'"),
        ("a\\", '"a\\\\"'),
        ("x\\'y", '"x\\\\\'y"'),
        ("$\\'", '"$$\\\\\'"'),
        ("CN=svc jitsi,OU=Service Accounts", "'CN=svc jitsi,OU=Service Accounts'"),
    ],
)
def test_quote_value(value: str, written: str) -> None:
    assert quote_value(value) == written
    assert parse_env(f"K={written}\n").values()["K"] == value


def test_line_breaks_are_refused() -> None:
    with pytest.raises(ConfigError):
        quote_value("a\nb")


def test_duplicate_managed_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("LDAP_URL=a\nLDAP_URL=b\n")
    with pytest.raises(EnvFileError) as info:
        write_env(path, {"LDAP_URL": "c"})
    assert info.value.line == 2
    assert path.read_text() == "LDAP_URL=a\nLDAP_URL=b\n"
    assert not (tmp_path / ".env.bak").exists()


def test_unparseable_file_is_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("LDAP_BINDPW='unterminated\n")
    with pytest.raises(EnvFileError):
        write_env(path, {"LDAP_URL": "c"})
    assert path.read_text() == "LDAP_BINDPW='unterminated\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env"]


def test_write_is_atomic_with_backup_and_mode(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("TZ=UTC\n#LDAP_URL=x\n")
    path.chmod(0o640)
    result = write_env(path, {"LDAP_URL": "ldap://h", "LDAP_BINDPW": "s3cret $"})
    assert result.changed and result.backup == tmp_path / ".env.bak"
    assert (tmp_path / ".env.bak").read_text() == "TZ=UTC\n#LDAP_URL=x\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / ".env.bak").stat().st_mode) == 0o640
    assert path.stat().st_uid == os.getuid()
    assert parse_env(path.read_text()).values()["LDAP_BINDPW"] == "s3cret $"
    # No temporary files are left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env", ".env.bak"]
    # Second identical run: nothing written, backup untouched.
    backup_mtime = (tmp_path / ".env.bak").stat().st_mtime_ns
    inode = path.stat().st_ino
    again = write_env(path, {"LDAP_URL": "ldap://h", "LDAP_BINDPW": "s3cret $"})
    assert not again.changed and again.backup is None
    assert path.stat().st_ino == inode
    assert (tmp_path / ".env.bak").stat().st_mtime_ns == backup_mtime


def test_new_file_is_created_0600(tmp_path: Path) -> None:
    path = tmp_path / "new.env"
    result = write_env(path, {"AUTH_TYPE": "ldap", "LDAP_BINDPW": "x"})
    assert result.created
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == f"{BLOCK_HEADER}\nAUTH_TYPE=ldap\nLDAP_BINDPW=x\n"


@pytest.mark.parametrize(
    ("where", "err"),
    [("mkstemp", errno.EROFS), ("mkstemp", errno.EACCES), ("write", errno.ENOSPC), ("replace", errno.EDQUOT)],
)
def test_a_refused_write_is_a_clear_error_and_leaves_everything_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, err: int
) -> None:
    import os
    import tempfile

    from ldapcheck.jitsi.env import write as w

    env = tmp_path / ".env"
    env.write_text("LDAP_URL=ldap://old\n")
    backup = tmp_path / ".env.bak"
    backup.write_text("the previous backup\n")

    def refuse(*_a: object, **_k: object) -> object:
        raise OSError(err, os.strerror(err))

    if where == "mkstemp":
        monkeypatch.setattr(tempfile, "mkstemp", refuse)
    elif where == "replace":
        monkeypatch.setattr(os, "replace", refuse)
    else:
        monkeypatch.setattr(os, "fsync", refuse)
    with pytest.raises(w.WriteRefused, match=f"{os.strerror(err)}.*is unchanged"):
        w.write_env(env, {"LDAP_URL": "ldap://new"})
    assert env.read_text() == "LDAP_URL=ldap://old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env", ".env.bak"]
    if where in ("mkstemp", "write"):  # refused before the backup was replaced
        assert backup.read_text() == "the previous backup\n"
