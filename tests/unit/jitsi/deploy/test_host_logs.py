"""On a package install, prosody's log is read from its last start: an error before a fix and a restart is not
today's (the token module's step reads the log for load errors)."""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path

from ldapcheck.jitsi.container.facts import ContainerFacts, Process
from ldapcheck.jitsi.container.session import SessionOptions
from ldapcheck.jitsi.deploy.host import HostLayout
from ldapcheck.jitsi.deploy.local import since_stamp
from testing.sessions import GivenFactsHost

BOOT = 1_700_000_000


def stamp(moment: float) -> str:
    return datetime.fromtimestamp(moment).strftime("%b %d %H:%M:%S")


def test_lines_from_the_first_stamp_at_or_after_since() -> None:
    now = time.time()
    lines = [
        f"{stamp(now - 600)} general\terror\tError initializing module 'auth_token'",
        "stack traceback: (the old error's continuation)",
        f"{stamp(now - 60)} general\tinfo\tHello and welcome to Prosody",
        "a continuation of the new start",
        f"{stamp(now - 30)} c2s\tinfo\tClient connected",
    ]
    assert since_stamp(lines, now - 120) == lines[2:]
    assert since_stamp(lines, now - 3600) == lines
    assert since_stamp(lines, now + 3600) == []


def test_a_file_without_stamps_is_taken_whole() -> None:
    lines = ["2026-12-02T05:00:00Z error something", "no stamp at all"]
    assert since_stamp(lines, time.time()) == lines


def _host(root: Path, started_ticks: int) -> GivenFactsHost:
    (root / "proc/40").mkdir(parents=True)
    # The command may hold spaces and parentheses: fields are counted after the last ')'.
    rest = ["S"] + ["0"] * 18 + [str(started_ticks)] + ["0"] * 10
    (root / "proc/40/stat").write_text(f"40 (lua5.4 (x) y) {' '.join(rest)}\n")
    (root / "proc/stat").write_text(f"cpu  1 2 3\nbtime {BOOT}\nprocesses 9\n")
    facts = ContainerFacts(processes=[Process(pid=40, uid=105, argv=("lua5.4", "/usr/bin/prosody"))], complete=True)
    return GivenFactsHost(SessionOptions(), layout=HostLayout(root), given=facts)


def test_started_at_is_boot_time_plus_the_process_start(tmp_path: Path) -> None:
    ticks = os.sysconf("SC_CLK_TCK")
    assert _host(tmp_path, 250 * ticks).started_at() == BOOT + 250


def test_the_log_files_are_read_from_prosodys_start(tmp_path: Path) -> None:
    now = time.time()
    ticks = os.sysconf("SC_CLK_TCK")
    session = _host(tmp_path, 0)
    (tmp_path / "proc/stat").write_text(f"btime {int(now - 100)}\n")  # prosody started 100 s ago
    logs = tmp_path / "var/log/prosody"
    logs.mkdir(parents=True)
    (logs / "prosody.err").write_text(f"{stamp(now - 900)} general\terror\tUnable to load module 'auth_token'\n")
    (logs / "prosody.log").write_text(f"{stamp(now - 900)} old\n{stamp(now - 50)} general\tinfo\tstarted\n")
    started = session.started_at()
    assert started is not None and abs(started - (now - 100)) < 1 + 1 / ticks
    text = session.logs(since=started, tail=100)
    assert "Unable to load module" not in text and "old" not in text and "started" in text
    assert "Unable to load module" in session.logs(since=now - 3600, tail=100)


def test_no_prosody_process_or_proc_means_unknown(tmp_path: Path) -> None:
    bare = GivenFactsHost(SessionOptions(), layout=HostLayout(tmp_path), given=ContainerFacts(complete=True))
    assert bare.started_at() is None
    facts = ContainerFacts(processes=[Process(pid=7, uid=0, argv=("/usr/bin/prosody",))], complete=True)
    assert GivenFactsHost(SessionOptions(), layout=HostLayout(tmp_path), given=facts).started_at() is None
