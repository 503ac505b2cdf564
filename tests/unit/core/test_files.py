"""Files named on the command line: only regular files, bounded in size, never a blocking open."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ldapcheck.core.errors import ConfigError, EnvFileError
from ldapcheck.core.files import ENV_FILE_LIMIT, UnreadableFile, read_bounded
from ldapcheck.jitsi.env.parse import read_env_file


def test_regular_file_is_read(tmp_path: Path) -> None:
    p = tmp_path / "x"
    p.write_bytes(b"A=1\n")
    assert read_bounded(p, limit=10, what="x") == b"A=1\n"


def test_a_file_over_the_limit_is_refused(tmp_path: Path) -> None:
    p = tmp_path / ".env"
    p.write_bytes(b"#" * (ENV_FILE_LIMIT + 1))
    with pytest.raises(EnvFileError, match="larger than 1024 KiB"):
        read_env_file(p)


def test_a_device_is_refused_without_reading_it() -> None:
    with pytest.raises(UnreadableFile, match="character device"):
        read_bounded("/dev/zero", limit=ENV_FILE_LIMIT, what="--env-file /dev/zero")


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(EnvFileError, match="FIFO"):
        read_env_file(fifo)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="directory"):
        read_env_file(tmp_path)


@pytest.mark.parametrize("args", [["lint", "--env-file", "/dev/zero"], ["render", "saslauthd", "--env-file", "FIFO"]])
def test_cli_exits_2_quickly(tmp_path: Path, args: list[str]) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    argv = [str(fifo) if a == "FIFO" else a for a in args]
    done = subprocess.run(
        [sys.executable, "-m", "ldapcheck", *argv], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 2, done.stderr
    assert "not a regular file" in done.stderr and "Traceback" not in done.stderr


def test_users_file_fifo_is_a_usage_error(tmp_path: Path) -> None:
    from ldapcheck.cli.validate import read_users_file

    fifo = tmp_path / "users"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="FIFO"):
        read_users_file(str(fifo))
