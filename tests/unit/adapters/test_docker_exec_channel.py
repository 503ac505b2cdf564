"""ExecChannel, the exec kept open between the facts and the probe: its framing, its hang-up, its end of stream.

The engine is faked by a socketpair: a real bash runs jitsi/container/then.sh (with a recording `setpriv` on its
PATH) and its stdout/stderr come back in the engine's 8-byte-header frames, as `docker exec` attaches them.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import struct
import subprocess
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from ldapcheck.adapters import docker as dockeradapter
from ldapcheck.jitsi.container import facts as factsmod
from ldapcheck.jitsi.container.session import followup_request

PASSWORD = "pa ss\\word\n'$(id)\""
FAKE_SETPRIV = """#!/bin/sh
printf '%s\\n' "$*" >>"$SETPRIV_LOG"
while [ "$1" != "--" ]; do shift; done
shift
exec "$@"
"""


class Engine:
    """exec_create / exec_start of the docker SDK's API, running the command here instead."""

    def __init__(self, tmp: Path) -> None:
        self.created: list[dict[str, Any]] = []
        self.procs: list[subprocess.Popen[bytes]] = []
        bindir = tmp / "bin"
        bindir.mkdir()
        setpriv = bindir / "setpriv"
        setpriv.write_text(FAKE_SETPRIV)
        setpriv.chmod(setpriv.stat().st_mode | stat.S_IXUSR)
        self.setpriv_log = tmp / "setpriv.log"
        self.env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}", "SETPRIV_LOG": str(self.setpriv_log)}

    def exec_create(self, container_id: str, cmd: Sequence[str], **kwargs: Any) -> dict[str, str]:
        self.created.append({"cmd": list(cmd), **kwargs})
        return {"Id": str(len(self.created) - 1)}

    def exec_start(self, exec_id: str, socket: bool) -> Any:
        assert socket
        return self._start(self.created[int(exec_id)]["cmd"])

    def _start(self, cmd: list[str]) -> Any:
        ours, theirs = socket.socketpair()
        proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env
        )
        self.procs.append(proc)
        assert proc.stdin and proc.stdout and proc.stderr
        lock = threading.Lock()

        def pump_in() -> None:
            assert proc.stdin
            while chunk := theirs.recv(4096):
                proc.stdin.write(chunk)
                proc.stdin.flush()
            proc.stdin.close()

        def pump_out(stream: Any, number: int) -> None:
            while chunk := os.read(stream.fileno(), 7):  # small chunks: boundaries straddle frames
                with lock:
                    theirs.sendall(struct.pack(">BxxxL", number, len(chunk)) + chunk)

        outs = [threading.Thread(target=pump_out, args=(s, n)) for s, n in ((proc.stdout, 1), (proc.stderr, 2))]
        threading.Thread(target=pump_in, daemon=True).start()
        for t in outs:
            t.start()

        def hang_up() -> None:
            for t in outs:
                t.join()
            theirs.shutdown(socket.SHUT_WR)

        threading.Thread(target=hang_up, daemon=True).start()
        return ours


class Client:
    def __init__(self, api: Engine) -> None:
        self.api = api


class Container:
    name = "prosody"
    id = "c0ffee"

    def __init__(self, api: Engine) -> None:
        self.client = Client(api)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    found = Engine(tmp_path)
    yield found
    for proc in found.procs:
        proc.kill()
        proc.wait()


def open_then(engine: Engine, facts: str, *args: str) -> dockeradapter.ExecChannel:
    script = factsmod.then_script()
    return dockeradapter.ExecChannel(
        Container(engine),  # type: ignore[arg-type]
        lambda token: ["bash", "-c", script, "ldapcheck", token, facts, *args],
        user="0",
    )


# The facts part must not read the stdin meant for the follow-up; it prints a fake boundary (another token).
FACTS = """echo "facts $*"
if IFS= read -r line; then echo "facts read: $line"; fi
echo "facts complain" >&2
printf '\\n@@part 0123456789abcdef 7\\n'
printf '@@done\\n'
"""


def test_facts_then_a_follow_up_as_another_user_with_the_secret_on_stdin_only(engine: Engine) -> None:
    channel = open_then(engine, FACTS, "ldap.example", "636")
    facts = channel.read_part(timeout=10)
    assert facts.exit_code == 0
    assert facts.stdout == "facts ldap.example 636\n\n@@part 0123456789abcdef 7\n@@done\n"
    assert facts.stderr == "facts complain\n"
    assert channel.open

    probe = ["bash", "-c", 'echo "home=$HOME mode=$MODE"; cat; echo "probe complains" >&2; exit 3']
    channel.send(followup_request(probe, user="root", environment={"MODE": "a b"}) + PASSWORD.encode())
    result = channel.read_part(timeout=10)
    channel.close()
    assert result.exit_code == 3
    assert result.stdout == f"home={Path('~root').expanduser()} mode=a b\n{PASSWORD}"
    assert result.stderr == "probe complains\n"
    assert engine.procs[0].wait(timeout=10) == 0
    # the user switch: uid, gid from /etc/passwd, groups by initgroups; the password in no argv or environment
    assert engine.setpriv_log.read_text() == f"--reuid=0 --regid=0 --init-groups -- {' '.join(probe)}\n"
    assert PASSWORD not in json.dumps(engine.created) and PASSWORD not in engine.setpriv_log.read_text()


def test_hanging_up_after_the_facts_ends_the_exec(engine: Engine) -> None:
    channel = open_then(engine, FACTS)
    assert channel.read_part(timeout=10).exit_code == 0
    channel.close()
    assert engine.procs[0].wait(timeout=10) == 0
    assert not engine.setpriv_log.exists()


def test_a_failing_facts_part_still_hands_over_its_output(engine: Engine) -> None:
    channel = open_then(engine, 'echo "@@proc 1 0 2"; echo "half way" >&2; exit 5')
    facts = channel.read_part(timeout=10)
    assert (facts.exit_code, facts.stdout, facts.stderr) == (5, "@@proc 1 0 2\n", "half way\n")
    assert channel.open  # the follow-up can still run


def test_a_follow_up_that_cannot_start_reports_why(engine: Engine) -> None:
    channel = open_then(engine, FACTS)
    channel.read_part(timeout=10)
    channel.send(followup_request(["true"], user="no-such-user-here", environment={}) + b"secret")
    result = channel.read_part(timeout=10)
    assert result.exit_code == 126
    assert "no user no-such-user-here" in result.stderr


def test_an_exec_that_ends_without_a_boundary_gives_all_it_said(engine: Engine) -> None:
    channel = dockeradapter.ExecChannel(
        Container(engine),  # type: ignore[arg-type]
        lambda token: ["bash", "-c", "echo out; echo err >&2; exit 4"],
    )
    result = channel.read_part(timeout=10)
    assert (result.exit_code, result.stdout, result.stderr) == (-1, "out\n", "err\n")
    assert not channel.open


def test_the_request_has_no_secret_room_and_counts_bytes() -> None:
    request = followup_request(["lua5.4", "-e", "é"], user="prosody", environment={"A": "1"})
    assert request == b"@@then prosody 3 1\n6\nlua5.4" + b"2\n-e" + b"2\n\xc3\xa9" + b"3\nA=1"
    with pytest.raises(ValueError):
        followup_request(["x"], user="pro sody", environment={})
    with pytest.raises(ValueError):
        followup_request(["x\0"], user="prosody", environment={})
