"""The project's own engine client (`adapters.engine`) against a fake Docker engine on a unix socket.

What diagnose asks the engine (ping, inspect, list by label, exec create/start with the hijacked stream, exec
inspect, logs) goes through `adapters.docker` exactly as with the SDK; the exec's stdin (where secrets go) travels
on the stream, never in the exec's Cmd or Env; and the docker SDK, requests and urllib3 are not imported at all
(checked in a fresh interpreter: that import was ~70 ms of CPU of every diagnose).
"""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ldapcheck.adapters import docker as dockeradapter
from ldapcheck.adapters.docker_errors import DockerError

SECRET = "s3cret-on-stdin"
ID = "c0ffee" * 10 + "abcd"
ATTRS = {
    "Id": ID,
    "Name": "/jitsi-prosody-1",
    "State": {"Status": "running"},
    "Config": {
        "Image": "jitsi/prosody:stable",
        "Env": ["XMPP_DOMAIN=meet.jitsi"],
        "Labels": {"com.docker.compose.service": "prosody", "com.docker.compose.project": "jitsi"},
        "Tty": False,
    },
}


def _frame(stream: int, data: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(data)) + data


class FakeEngine:
    """Answers the engine API calls the client makes; records the exec bodies."""

    def __init__(self, path: str) -> None:
        self.execs: list[dict[str, Any]] = []
        self.queries: list[str] = []
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(8)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _reply(self, conn: socket.socket, status: int, body: object, *, chunked: bool = False) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        kind = "application/octet-stream" if isinstance(body, bytes) else "application/json"
        head = f"HTTP/1.1 {status} X\r\nContent-Type: {kind}\r\n"
        if chunked:  # two chunks, as the engine streams
            half = len(data) // 2
            payload = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in (data[:half], data[half:]) if p)
            conn.sendall(head.encode() + b"Transfer-Encoding: chunked\r\n\r\n" + payload + b"0\r\n\r\n")
        else:
            conn.sendall(head.encode() + f"Content-Length: {len(data)}\r\n\r\n".encode() + data)

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(4096)
            head, _, body = data.partition(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            method, target, _ = lines[0].split(" ")
            length = next((int(x.split(":")[1]) for x in lines if x.lower().startswith("content-length")), 0)
            while len(body) < length:
                body += conn.recv(4096)
            path, _, query = target.partition("?")
            self.queries.append(query)
            if path == "/_ping":
                self._reply(conn, 200, b"OK")
            elif path == "/containers/json":
                self._reply(conn, 200, [{"Id": ID}], chunked=True)
            elif path in (f"/containers/{ID}/json", "/containers/jitsi-prosody-1/json"):
                self._reply(conn, 200, ATTRS)
            elif path.startswith("/containers/") and path.endswith("/json"):
                self._reply(conn, 404, {"message": "No such container"})
            elif path == f"/containers/{ID}/exec" and method == "POST":
                self.execs.append(json.loads(body))
                self._reply(conn, 201, {"Id": "e1"})
            elif path == "/exec/e1/start":
                conn.sendall(b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n" + _frame(2, b"w"))
                stdin = b""
                while chunk := conn.recv(4096):  # the client half-closes after writing stdin
                    stdin += chunk
                conn.sendall(_frame(1, b"got " + stdin) + _frame(2, b"done"))
            elif path == "/exec/e1/json":
                self._reply(conn, 200, {"ExitCode": 3})
            elif path == f"/containers/{ID}/logs":
                self._reply(conn, 200, _frame(1, b"line one\n") + _frame(2, b"line two\n"))
            else:
                self._reply(conn, 500, {"message": f"unexpected {method} {path}"})

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[tuple[str, FakeEngine]]:
    path = str(tmp_path / "docker.sock")
    fake = FakeEngine(path)
    yield f"unix://{path}", fake
    fake.close()


def test_find_exec_logs_through_the_own_client(engine: tuple[str, FakeEngine]) -> None:
    url, fake = engine
    assert dockeradapter.own_client(url)
    client = dockeradapter.connect(url, timeout=5)
    found = dockeradapter.find_prosody(client)
    assert (found.name, found.status, found.short_id) == ("jitsi-prosody-1", "running", ID[:12])
    assert json.loads(urllib.parse.parse_qs(fake.queries[-2])["filters"][0]) == {
        "label": ["com.docker.compose.service=prosody"]
    }
    assert dockeradapter.container_env(found) == {"XMPP_DOMAIN": "meet.jitsi"}
    result = dockeradapter.exec_in(found, ["cat"], stdin=SECRET.encode(), user="prosody")
    assert (result.exit_code, result.stdout, result.stderr) == (3, f"got {SECRET}", "wdone")
    assert fake.execs[-1]["Cmd"] == ["cat"] and fake.execs[-1]["User"] == "prosody"
    assert SECRET not in json.dumps(fake.execs)  # neither in Cmd nor in Env
    assert found.logs(stdout=True, stderr=True, since=0, tail=10) == b"line one\nline two\n"


def test_unknown_container_and_no_engine(engine: tuple[str, FakeEngine], tmp_path: Path) -> None:
    url, _ = engine
    with pytest.raises(DockerError) as missing:
        dockeradapter.find_prosody(dockeradapter.connect(url, timeout=5), container="nope")
    assert missing.value.kind == "no-container"
    with pytest.raises(DockerError) as down:
        dockeradapter.connect(f"unix://{tmp_path}/absent.sock", timeout=1)
    assert down.value.kind == "unavailable" and "No such file or directory" in str(down.value)


def test_the_sdk_is_kept_for_ssh_and_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not dockeradapter.own_client("ssh://user@host")
    assert dockeradapter.own_client("tcp://127.0.0.1:2375")
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    assert not dockeradapter.own_client("tcp://127.0.0.1:2376")


def test_no_sdk_import(engine: tuple[str, FakeEngine]) -> None:
    url, _ = engine
    script = (
        "import sys; from ldapcheck.adapters import docker as d; d.load_sdk(sys.argv[1]); "
        "c = d.find_prosody(d.connect(sys.argv[1])); r = d.exec_in(c, ['cat'], stdin=b'x'); "
        "print(r.stdout, sorted(m for m in sys.modules if m.split('.')[0] in ('docker', 'requests', 'urllib3')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, url], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert out.strip() == "got x []"
