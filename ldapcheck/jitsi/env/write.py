"""Merge LDAP settings into an existing `.env` without touching any other byte, and write it atomically.

Rules of `merge`:
- a key already defined gets only its value text replaced (an `export ` prefix, indentation and an
  inline comment stay); an identical value is left exactly as written;
- otherwise the first commented example line (`#LDAP_URL=…`, `# LDAP_START_TLS=1`, as in
  docker-jitsi-meet's env.example) is replaced where it stands;
- the remaining keys are appended as one block at the end;
- a file that does not parse, or defines one of these keys twice, raises `EnvFileError` (exit 2) and
  is not touched.
`write_env` then replaces the file atomically (temporary file in the same directory, fsync, rename,
same mode and owner), after saving the previous content as `PATH.bak`. No change, no write, no backup.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ldapcheck.core.errors import ConfigError, EnvFileError
from ldapcheck.jitsi.env.parse import EnvFile, parse_env, read_env_bytes

BLOCK_HEADER = "# LDAP authentication (written by ldapcheck env generate)"

_SAFE = re.compile(r"[A-Za-z0-9_./:,=@%+()&|!*~^<>?;\[\]{}-]+")


def quote_value(value: str, *, force: bool = False) -> str:
    """`value` written so that Compose v2 reads it back exactly (single quotes whenever possible)."""
    if any(c in value for c in "\n\r\0"):
        raise ConfigError("a value with a line break or NUL cannot be written to .env (saslauthd.conf is line based)")
    if not force and (value == "" or _SAFE.fullmatch(value)):
        return value
    if not value.endswith("\\") and "\\'" not in value:
        return "'" + value.replace("'", "\\'") + "'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "$$")
    return '"' + escaped + '"'


@dataclass(frozen=True)
class WriteResult:
    """What `write_env` did."""

    path: Path
    changed: bool
    backup: Path | None
    created: bool = False


def _commented_example(text: str, key: str, taken: list[tuple[int, int]]) -> tuple[int, int] | None:
    pattern = re.compile(rf"^[ \t]*#[ \t]*(?:export[ \t]+)?{re.escape(key)}[ \t]*=[^\n]*", re.MULTILINE)
    for m in pattern.finditer(text):
        if not any(s <= m.start() < e for s, e in taken):
            end = m.end() - 1 if m.group().endswith("\r") else m.end()
            return m.start(), end
    return None


def merge(text: str, updates: Mapping[str, str], *, path: str = ".env") -> str:
    """The new file text with `updates` merged in (see the module docstring)."""
    env = parse_env(text, path=path, environ={})
    dups = env.duplicates()
    for key in updates:
        if key in dups:
            lines = " and ".join(map(str, dups[key]))
            raise EnvFileError(path, f"{key} is defined on lines {lines}; remove one, then run again", dups[key][-1])
    for value in updates.values():
        quote_value(value)  # refuses line breaks before anything is changed
    nl = "\r\n" if "\r\n" in text else "\n"
    taken = [(e.line_start, e.value_end) for e in env.entries]
    edits: list[tuple[int, int, str]] = []
    missing: list[str] = []
    for key, value in updates.items():
        entry = env.entry(key)
        if entry is not None and entry.inherited:
            at = entry.value_start
            while at > entry.line_start and text[at - 1] in " \t\r":
                at -= 1  # insert right after the key, before any trailing blanks or CR
            edits.append((at, at, "=" + quote_value(value)))
        elif entry is not None:
            if entry.value == value and not entry.references and not entry.stray_dollar:
                continue
            after = text[entry.value_end : entry.value_end + 1]
            force = after not in ("", "\n", "\r", " ", "\t")
            edits.append((entry.value_start, entry.value_end, quote_value(value, force=force)))
        else:
            span = _commented_example(text, key, taken)
            if span is None:
                missing.append(key)
            else:
                taken.append(span)
                edits.append((span[0], span[1], f"{key}={quote_value(value)}"))
    out = text
    for start, end, replacement in sorted(edits, reverse=True):
        out = out[:start] + replacement + out[end:]
    if missing:
        if out and not out.endswith("\n"):
            out += nl
        if out.strip():
            out += nl
        out += BLOCK_HEADER + nl + "".join(f"{k}={quote_value(updates[k])}{nl}" for k in missing)
    _verify(out, updates, path)
    return out


def _verify(text: str, updates: Mapping[str, str], path: str) -> None:
    """Safety net: what we wrote must read back as exactly what was asked for."""
    values = parse_env(text, path=path, environ={}).values()
    wrong = [k for k, v in updates.items() if values.get(k) != v]
    if wrong:
        raise AssertionError(f"merged .env does not read back for {', '.join(wrong)}")


class WriteRefused(ConfigError):
    """The system refused to write a file we were asked to write (exit 2); the old file is intact."""


def atomic_write(path: Path, data: bytes, *, mode: int = 0o600, uid: int | None = None, gid: int | None = None) -> None:
    """Write `data` to `path` atomically: temp file in the same directory, fsync, rename, fsync the directory.

    A write the system refuses (read-only directory or file system, full disk, quota) raises `WriteRefused`
    (exit 2); `path` is then exactly as it was and no temporary file is left behind.
    """
    directory = path.parent if str(path.parent) else Path(".")
    try:
        _write_replace(path, directory, data, mode=mode, uid=uid, gid=gid)
    except OSError as exc:
        raise WriteRefused(f"cannot write {path}: {exc.strerror or exc}; {path} is unchanged") from None


def _write_replace(path: Path, directory: Path, data: bytes, *, mode: int, uid: int | None, gid: int | None) -> None:
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        if uid is not None and gid is not None and (uid, gid) != (os.getuid(), os.getgid()):
            # Only root can give a file away; otherwise it belongs to us, with the mode kept.
            with contextlib.suppress(PermissionError):
                os.fchown(fd, uid, gid)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_text(path: Path) -> str:
    """The file's text, or an `EnvFileError` saying why it cannot be read."""
    try:
        return read_env_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        raise EnvFileError(str(path), "not valid UTF-8; left untouched") from None


def write_env(path: Path, updates: Mapping[str, str]) -> WriteResult:
    """Merge `updates` into `path` (created 0600 if missing), keeping a `.bak` of the previous content."""
    if not path.exists():
        text = merge("", updates, path=str(path))
        atomic_write(path, text.encode("utf-8"), mode=0o600)
        return WriteResult(path, changed=True, backup=None, created=True)
    old = read_text(path)
    new = merge(old, updates, path=str(path))
    if new == old:
        return WriteResult(path, changed=False, backup=None)
    st = path.stat()
    mode = st.st_mode & 0o7777
    backup = path.with_name(path.name + ".bak")
    atomic_write(backup, old.encode("utf-8"), mode=mode, uid=st.st_uid, gid=st.st_gid)
    atomic_write(path, new.encode("utf-8"), mode=mode, uid=st.st_uid, gid=st.st_gid)
    return WriteResult(path, changed=True, backup=backup)


def read_back(text: str) -> EnvFile:
    """Parse merged text the way `merge` checks it (no shell interpolation)."""
    return parse_env(text, environ={})
