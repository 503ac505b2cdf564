"""CPU time of processes inside a container, read from its own /proc (works with a remote engine too)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ldapcheck.adapters import docker as dockeradapter
from ldapcheck.adapters.docker_errors import DockerError

if TYPE_CHECKING:
    from docker.models.containers import Container

# getconf prints the clock tick first; then one /proc/<pid>/stat line per pid still alive.
_SCRIPT = 'getconf CLK_TCK; for p in "$@"; do cat "/proc/$p/stat" 2>/dev/null; done'


def parse(output: str) -> dict[int, float] | None:
    """{pid: utime+stime seconds} from the script's output; None when the clock tick is missing."""
    lines = output.splitlines()
    try:
        tick = float(lines[0])
    except (IndexError, ValueError):
        return None
    seconds: dict[int, float] = {}
    for line in lines[1:]:
        # The command name (field 2) may hold spaces and parentheses: the fields after the last ')' are fixed.
        head, _, rest = line.rpartition(")")
        fields = rest.split()
        with contextlib.suppress(ValueError, IndexError):
            seconds[int(head.split("(", 1)[0])] = (int(fields[11]) + int(fields[12])) / tick
    return seconds


def cpu_seconds(container: Container, pids: Sequence[int], *, timeout: float = 10.0) -> dict[int, float] | None:
    """CPU seconds used so far by each pid (container pid namespace); None when they cannot be read."""
    if not pids:
        return None
    try:
        result = dockeradapter.exec_in(container, ["sh", "-c", _SCRIPT, "sh", *(str(p) for p in pids)], timeout=timeout)
    except DockerError:
        return None
    return parse(result.stdout)


def local_cpu_seconds(pids: Sequence[int], proc: str = "/proc") -> dict[int, float] | None:
    """CPU seconds used so far by each pid of this host (a Debian-package install: prosody and saslauthd run here)."""
    import os

    if not pids:
        return None
    lines = [str(os.sysconf("SC_CLK_TCK"))]
    for pid in pids:
        with contextlib.suppress(OSError), open(f"{proc}/{pid}/stat", encoding="utf-8", errors="replace") as stat:
            lines.append(stat.read(4096).strip())  # one line, a few hundred bytes
    return parse("\n".join(lines))
