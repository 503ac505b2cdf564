"""Timing one command against its peer, interleaved: wall time, peak RSS (GNU time), exit code, output.

Shared by figures.py's sections. A peer that does not end in its time is killed and recorded as such (a
`ldapsearch` waiting forever on a silent server is a figure too).
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

from harness import TIME, loadavg


@dataclass(frozen=True)
class Run:
    wall: float
    rss_kb: int
    rc: int  # -9: killed after `limit` seconds
    stdout: str


def run(argv: list[str], *, stdin: str = "", env: dict[str, str] | None = None, limit: float = 300) -> Run:
    """One run under GNU time (peak RSS of the largest process of the tree), killed after `limit` seconds."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as rss, tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [TIME, "-q", "-o", rss.name, "-f", "%M", *argv],
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=tempfile.gettempdir(),
            start_new_session=True,  # a kill reaches the whole tree
        )
        assert proc.stdin is not None
        try:
            proc.stdin.write(stdin.encode())
            proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            rc = proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            rc = -9
        wall = time.perf_counter() - start
        out.seek(0)
        text = rss.read().split()
        return Run(wall, int(text[-1]) if text and text[-1].isdigit() else 0, rc, out.read().decode(errors="replace"))


@dataclass
class Peer:
    name: str
    argv: list[str]
    stdin: str = ""
    env: dict[str, str] | None = None
    limit: float = 300
    runs: list[Run] = field(default_factory=list)
    ok_codes: tuple[int, ...] = (0,)

    def once(self) -> Run:
        r = run(self.argv, stdin=self.stdin, env=self.env, limit=self.limit)
        if r.rc not in self.ok_codes and r.rc != -9:
            raise SystemExit(f"{self.name} exited {r.rc}: {r.stdout[-500:]}")
        return r

    def timed(self) -> Run:
        r = self.once()
        self.runs.append(r)
        return r

    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    def span(self, values: list[float] | None = None, fmt: str = "{:.3f}") -> str:
        v = values if values is not None else [r.wall for r in self.runs]
        return " / ".join(fmt.format(x) for x in (min(v), statistics.median(v), max(v)))

    def rss_mb(self) -> float:
        return max(r.rss_kb for r in self.runs) / 1024

    @property
    def killed(self) -> int:
        return sum(r.rc == -9 for r in self.runs)


def interleave(pairs: list[list[Peer]], rounds: int) -> tuple[float, float]:
    """One warm-up of each, then `rounds` rounds with every peer once (order rotated); the 1-min load min/max."""
    for group in pairs:
        for peer in group:
            peer.once()
    loads: list[float] = []
    for i in range(rounds):
        for group in pairs:
            for peer in group[i % len(group) :] + group[: i % len(group)]:
                peer.timed()
        loads.append(loadavg()[0])
    return min(loads), max(loads)
