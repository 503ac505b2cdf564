"""Faults end in a clear failed step and an exit code: never a traceback, never a hang.

Fake servers (testing/fakeldap.py) answer correctly up to one protocol step and then hold the connection in
silence; a unix socket that accepts and never answers stands in for a hanging Docker engine. Signals are sent
once the run is observably blocked (the fake server saw the request it will not answer), never after a sleep.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ldapcheck.auth.ldap.directory.scan import SCAN_PAGE_FACTOR
from testing.fakeldap import BASE, fake_ldap
from testing.servers import silent_server, silent_unix_server

TIMEOUT = "1"
BOUND = 30  # seconds any one run may take (the timeouts above make them end in ~1-3 s)


def env_for(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LDAPCHECK_", "DOCKER_"))}
    env.update({"LDAPCHECK_BIND_PASSWORD": "not-a-real-password", "NO_COLOR": "1", **extra})
    return env


def ldap_args(url: str, timeout: str = TIMEOUT) -> list[str]:
    return ["--url", url, "--base", BASE, "--bind-dn", f"cn=svc,{BASE}", "--timeout", timeout]


# Time to give up follows --timeout: with --timeout 1, a run blocked on a silent server ends within the waits it
# makes (each one --timeout, validate's page wait SCAN_PAGE_FACTOR of them) plus START, the interpreter's start-up
# and the report on a busy 2-core machine.
START = 3.0


def run(args: list[str], *, env: dict[str, str] | None = None, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return run_timed(args, env=env, stdin=stdin)[0]


def run_timed(
    args: list[str], *, env: dict[str, str] | None = None, stdin: str = ""
) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "ldapcheck", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=BOUND,
        check=False,
        env=env or env_for(),
    )
    return proc, time.monotonic() - started


def no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr


def failed_step(proc: subprocess.CompletedProcess[str]) -> tuple[str, str]:
    data = json.loads(proc.stdout)
    failed = [s for s in data["steps"] if s["status"] == "fail"]
    assert failed, proc.stdout
    return failed[0]["id"], failed[0]["failure_id"]


# --- a server that goes silent at each protocol step ----------------------------------------------------------


@pytest.mark.parametrize(
    ("silent_at", "command", "step", "failure", "waits"),
    [
        ("rootdse", "count", "ldap.rootdse", "NET-TIMEOUT", 1),
        ("rootdse", "validate", "ldap.rootdse", "NET-TIMEOUT", 1),
        ("rootdse", "diagnose", "ldap.rootdse", "NET-TIMEOUT", 1),
        ("bind", "count", "ldap.service_bind", "NET-TIMEOUT", 1),
        ("bind", "validate", "ldap.service_bind", "NET-TIMEOUT", 1),
        ("bind", "diagnose", "ldap.service_bind", "NET-TIMEOUT", 1),
        ("search", "count", "ldap.base", "NET-TIMEOUT", 1),
        ("search", "validate", "ldap.base", "NET-TIMEOUT", 1),
        ("search", "diagnose", "ldap.base", "NET-TIMEOUT", 1),
        ("search", "user", "ldap.base", "NET-TIMEOUT", 1),
        ("page2", "count", "ldap.user_count", "NET-TIMEOUT", 1),
        ("page2", "validate", None, "NET-TIMEOUT", int(SCAN_PAGE_FACTOR)),
        ("starttls", "count", "tls.handshake[", "NET-TIMEOUT", 1),
        ("handshake", "diagnose", "tls.handshake[", "NET-TIMEOUT", 1),
    ],
)
def test_server_silent_at_a_step(silent_at: str, command: str, step: str | None, failure: str, waits: int) -> None:
    with fake_ldap(silent_at) as server:
        args = [command, *([] if command != "user" else ["alice", "--no-bind"]), *ldap_args(server.url), "--json"]
        if command == "diagnose":
            args += ["--no-container"]
        if silent_at in ("starttls", "handshake"):
            args += ["--start-tls"]
        proc, seconds = run_timed(args)
        assert server.reached.is_set(), f"the client never reached {silent_at}: {server.requests}"
    no_traceback(proc)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    step_id, failure_id = failed_step(proc)
    if step is not None:
        assert step_id.startswith(step), proc.stdout
    assert failure_id == failure, proc.stdout
    # gave up within the waits --timeout 1 allows (not a fixed 30 s page wait, nor a fixed 5 s lookup)
    assert seconds < waits * float(TIMEOUT) + START, f"{command} took {seconds:.2f} s to give up at {silent_at}"


def test_ldaps_port_silent_during_the_tls_handshake() -> None:
    with silent_server() as port:
        proc = run(["count", *ldap_args(f"ldaps://127.0.0.1:{port}"), "--json"])
    no_traceback(proc)
    assert proc.returncode == 1
    step_id, failure_id = failed_step(proc)
    assert step_id.startswith("tls.handshake[") and failure_id == "NET-TIMEOUT", proc.stdout


def test_count_says_a_stopped_count_is_not_a_total() -> None:
    with fake_ldap("page2") as server:
        proc = run(["count", *ldap_args(server.url)])
    no_traceback(proc)
    assert proc.returncode == 1
    # the first page's 3 entries, said to be partial
    assert "the count stopped after 3 entries (a partial count, not the total)" in " ".join(proc.stdout.split())


def test_env_generate_discover_silent_root_dse(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("KEEP=1\n")
    with fake_ldap("rootdse") as server:
        proc = run(
            ["env", "generate", "--discover", "--url", server.url, "--timeout", TIMEOUT, "--write", str(env_file)]
        )
    no_traceback(proc)
    assert proc.returncode in (1, 2), proc.stdout + proc.stderr
    assert env_file.read_text() == "KEEP=1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env"]


# --- the Docker engine: missing, refusing, hanging ---------------------------------------------------------------


@pytest.fixture
def refusing_socket(tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "refusing.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))  # bound, never listening: connect() is refused
    try:
        yield f"unix://{path}"
    finally:
        sock.close()


def test_docker_missing_refusing_hanging(tmp_path: Path, refusing_socket: str) -> None:
    hanging = tmp_path / "hanging.sock"
    with fake_ldap("never") as server, silent_unix_server(str(hanging)) as connected:
        for docker_host in ("unix:///nonexistent", refusing_socket, f"unix://{hanging}"):
            for how in ("env", "option"):
                extra = ["--docker-host", docker_host] if how == "option" else []
                env = env_for(DOCKER_HOST=docker_host) if how == "env" else env_for()
                proc = run(["diagnose", *ldap_args(server.url), *extra, "--json"], env=env)
                no_traceback(proc)
                assert proc.returncode == 1, (docker_host, proc.stdout, proc.stderr)
                data = json.loads(proc.stdout)
                find = next(s for s in data["steps"] if s["id"] == "container.find")
                assert (find["status"], find["failure_id"]) == ("fail", "DOCKER-UNAVAILABLE"), (docker_host, find)
                assert data["verdict"]["failure_id"] == "DOCKER-UNAVAILABLE"
        assert connected.is_set()


# --- signals --------------------------------------------------------------------------------------------------


def default_sigint() -> None:
    # A child inherits an ignored SIGINT (e.g. pytest started in the background by a non-interactive shell), and
    # Python then installs no KeyboardInterrupt handler: give the child the default, as a terminal would.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(args: list[str], *, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ldapcheck", *args],
        preexec_fn=default_sigint,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or env_for(),
    )


def wait_for(event: threading.Event, proc: subprocess.Popen[str]) -> None:
    if not event.wait(BOUND):
        proc.kill()
        raise AssertionError(f"never blocked where expected: {proc.communicate()}")


SIGNALS = [(signal.SIGINT, 130), (signal.SIGTERM, 143)]


@pytest.mark.parametrize(("signum", "code"), SIGNALS, ids=["SIGINT", "SIGTERM"])
def test_signal_in_the_host_phase(signum: int, code: int) -> None:
    with fake_ldap("bind") as server:
        proc = start(["diagnose", *ldap_args(server.url, "20"), "--no-container"])
        wait_for(server.reached, proc)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=BOUND)
    assert proc.returncode == code, out + err
    assert "Traceback" not in out + err, err


@pytest.mark.parametrize(("signum", "code"), SIGNALS, ids=["SIGINT", "SIGTERM"])
def test_signal_in_the_container_phase(tmp_path: Path, signum: int, code: int) -> None:
    hanging = tmp_path / "engine.sock"
    with fake_ldap("never") as server, silent_unix_server(str(hanging)) as connected:
        args = ["diagnose", *ldap_args(server.url, "20"), "--docker-host", f"unix://{hanging}"]
        proc = start(args)
        wait_for(connected, proc)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=BOUND)
    assert proc.returncode == code, out + err
    assert "Traceback" not in out + err, err


@pytest.mark.parametrize(("signum", "code"), SIGNALS, ids=["SIGINT", "SIGTERM"])
def test_signal_during_env_generate_discover_write(tmp_path: Path, signum: int, code: int) -> None:
    env_file = tmp_path / ".env"
    original = "# mine\nLDAP_URL=ldap://old.example\nOTHER='x y'\n"
    env_file.write_text(original)
    with fake_ldap("rootdse") as server:
        args = ["env", "generate", "--discover", "--url", server.url, "--timeout", "20", "--write", str(env_file)]
        proc = start(args)
        wait_for(server.reached, proc)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=BOUND)
    assert proc.returncode == code, out + err
    assert "Traceback" not in out + err, err
    assert env_file.read_text() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env"]


WRITE_INTERRUPTED = """
import os, sys
real_fsync = os.fsync
signum, at = int(sys.argv[1]), int(sys.argv[2])
calls = []
def fsync(fd):
    real_fsync(fd)
    calls.append(fd)
    if len(calls) == at:
        os.kill(os.getpid(), signum)
os.fsync = fsync
sys.argv = ["ldapcheck", *sys.argv[3:]]
from ldapcheck.entry import main
main()
"""


# The writes `env generate --write` makes: the backup (temp file fsync 1, directory fsync 2), then the .env
# (temp file fsync 3, before its rename).
@pytest.mark.parametrize("at", [1, 3], ids=["backup", "env"])
@pytest.mark.parametrize(("signum", "code"), SIGNALS, ids=["SIGINT", "SIGTERM"])
def test_signal_while_the_env_file_is_being_written(tmp_path: Path, signum: int, code: int, at: int) -> None:
    """The signal arrives inside an atomic write (after a temp file's fsync, before its rename)."""
    env_file = tmp_path / ".env"
    original = "# mine\nLDAP_URL=ldap://old.example\n"
    env_file.write_text(original)
    args = ["env", "generate", "--url", "ldap://new.example", "--base", BASE, "--bind-dn", ""]
    args += ["--filter", "(uid=%u)", "--xmpp-domain", "meet.jitsi", "--no-start-tls", "--write", str(env_file)]
    proc = subprocess.run(
        [sys.executable, "-c", WRITE_INTERRUPTED, str(int(signum)), str(at), *args],
        preexec_fn=default_sigint,
        capture_output=True,
        text=True,
        timeout=BOUND,
        check=False,
        stdin=subprocess.DEVNULL,
        env=env_for(),
    )
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    assert env_file.read_text() == original
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name != ".env")
    assert not [n for n in leftovers if n.endswith(".tmp")], leftovers
