"""Bounded reads of files the user names: only regular files, never more than a limit.

A `.env` is a few kilobytes; `--env-file /dev/zero` must not grow to gigabytes, and a FIFO must not block
forever. The file is opened without blocking, checked with fstat, then read up to the limit.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ldapcheck.core.errors import ConfigError

ENV_FILE_LIMIT = 1024 * 1024  # 1 MiB: far above any real .env
LIST_FILE_LIMIT = 64 * 1024 * 1024  # --users-file: a million logins fit


class UnreadableFile(ConfigError):
    """A file named on the command line cannot be used (exit 2); the message says why."""


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def read_bounded(path: str | Path, *, limit: int, what: str) -> bytes:
    """The bytes of the regular file `path`, at most `limit` of them; `UnreadableFile` otherwise.

    `what` names the file in messages ("--env-file .env").
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise UnreadableFile(f"{what}: no such file") from None
    except IsADirectoryError:
        raise UnreadableFile(f"{what}: is a directory, not a file") from None
    except PermissionError:
        raise UnreadableFile(f"{what}: permission denied (run as the file's owner)") from None
    except OSError as exc:
        raise UnreadableFile(f"{what}: cannot open: {exc.strerror}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise UnreadableFile(f"{what}: is {_kind(mode)}, not a regular file")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1024 * 1024, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise UnreadableFile(f"{what}: larger than {limit // 1024} KiB; this is not the file you mean")
        return b"".join(chunks)
    except OSError as exc:
        raise UnreadableFile(f"{what}: cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)
