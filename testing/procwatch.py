"""What a process and its descendants expose in /proc: the command line and the environment (Linux only)."""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ProcSample:
    pid: int
    cmdline: bytes
    environ: bytes


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = Path(entry.path, "stat").read_text()
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    return children


def descendants(pid: int) -> list[int]:
    """`pid`'s descendants alive now (children, their children, ...)."""
    tree = _children_map()
    out: list[int] = []
    todo = list(tree.get(pid, []))
    while todo:
        child = todo.pop()
        out.append(child)
        todo.extend(tree.get(child, []))
    return out


def sample(pids: list[int]) -> list[ProcSample]:
    out = []
    for pid in pids:
        with contextlib.suppress(OSError):
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            environ = b""
            with contextlib.suppress(OSError):
                environ = Path(f"/proc/{pid}/environ").read_bytes()
            out.append(ProcSample(pid, cmdline, environ))
    return out


@dataclass
class Watch:
    """Samples of a process (its own command line) and of its descendants (command line and environment)."""

    root: int
    own: list[ProcSample] = field(default_factory=list)
    children: list[ProcSample] = field(default_factory=list)
    rounds: int = 0

    def take(self) -> None:
        self.own.extend(sample([self.root]))
        self.children.extend(sample(descendants(self.root)))
        self.rounds += 1

    def leaks(self, secrets: dict[str, str]) -> list[str]:
        found = []
        for name, value in secrets.items():
            needle = value.encode()
            found += [f"{name} in the command line of ldapcheck ({s.pid})" for s in self.own if needle in s.cmdline]
            found += [f"{name} in the command line of child {s.pid}" for s in self.children if needle in s.cmdline]
            found += [f"{name} in the environment of child {s.pid}" for s in self.children if needle in s.environ]
        return found


@contextlib.contextmanager
def watching(process: Any) -> Any:
    """Sample `process` (a Popen) and its descendants continuously until it exits; yields the Watch.

    The loop samples back to back (no sleeps); tests that need a sample at a given moment call `take()` on it once
    ldapcheck is observably blocked there.
    """
    watch = Watch(process.pid)
    done = threading.Event()

    def loop() -> None:
        while not done.is_set() and process.poll() is None:
            watch.take()
            os.sched_yield()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield watch
    finally:
        done.set()
        thread.join(10)


def container_processes(container: Any) -> dict[int, tuple[bytes, bytes]]:
    """{pid: (cmdline, environ)} of every process in a running container, read as root with one exec."""
    script = (
        'for p in /proc/[0-9]*; do printf "\\n@@pid %s\\n" "${p#/proc/}"; base64 -w0 <$p/cmdline 2>/dev/null; '
        'printf "\\n"; base64 -w0 <$p/environ 2>/dev/null; done'
    )
    import base64

    output = container.exec_run(["bash", "-c", script], user="0").output.decode()
    found: dict[int, tuple[bytes, bytes]] = {}
    for block in output.split("\n@@pid ")[1:]:
        lines = [*block.split("\n"), "", ""]
        with contextlib.suppress(ValueError):
            found[int(lines[0])] = (base64.b64decode(lines[1]), base64.b64decode(lines[2]))
    return found
