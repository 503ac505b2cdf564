"""The few Docker engine calls `diagnose` makes, over HTTP/1.1 on the engine's unix socket (or plain tcp://).

Why not the docker SDK: importing it pulls in requests, urllib3 and charset_normalizer, ~70 ms of CPU of a
diagnose on 2 cores, the largest single cost left. Measured on the bench lab (bench/README.md, "diagnose"): CPU
of one diagnose 0.33 -> 0.23 s and wall 0.47 -> 0.33 s with this client (ldap3 already gone); the bench: 0.357 s
median against 0.531 s for `main` (SDK and ldap3), 1.96x the manual three-command sequence (was 2.9x).
`adapters.docker.connect` uses this client for unix:// and tcp:// without TLS and keeps the SDK for everything
else (ssh://, TLS, LDAPCHECK_DOCKER_SDK=1, the lab).

It offers the small part of the SDK's interface that `adapters.docker` and its callers use: `containers.get` /
`containers.list`, a container's `attrs`, `name`, `id`, `short_id`, `status`, `reload()`, `logs()` and `client`,
and `api.exec_create` / `exec_start(socket=True)` (the hijacked stream: the exec's stdin, where secrets go, is
written on that socket exactly as with the SDK) / `exec_inspect` / `wait`. One connection per request (a unix
socket connects in microseconds); requests go to the unversioned API, which the engine serves at its own version.
"""

from __future__ import annotations

import json
import socket
import struct
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

_MAX_HEADER = 64 * 1024
_MAX_BODY = 64 * 1024 * 1024  # a container list or a log tail; bounded all the same


class EngineError(Exception):
    """The engine answered with an error status (or not as HTTP)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status} {message}".strip())
        self.status = status


class NotFound(EngineError):
    """404: no such container or exec."""


class Engine:
    """Where the engine listens (unix:///path or tcp://host:port) and how long to wait for it."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        if url.startswith("unix://"):
            self._unix: str | None = url[len("unix://") :] or "/var/run/docker.sock"
            self._tcp: tuple[str, int] | None = None
        elif url.startswith(("tcp://", "http://")):
            parsed = urllib.parse.urlsplit(url)
            self._unix, self._tcp = None, (parsed.hostname or "127.0.0.1", parsed.port or 2375)
        else:
            raise ValueError(f"{url}: only unix:// and tcp:// are spoken here")

    def _connect(self) -> socket.socket:
        if self._unix is not None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            try:
                sock.connect(self._unix)
            except OSError:
                sock.close()
                raise
            return sock
        assert self._tcp is not None
        return socket.create_connection(self._tcp, timeout=self.timeout)

    def _send(self, sock: socket.socket, method: str, path: str, body: object, extra: str = "") -> None:
        data = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: ldapcheck\r\n{extra}"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        elif method == "POST":
            head += "Content-Length: 0\r\n"
        sock.sendall(head.encode() + b"\r\n" + data)

    def request(self, method: str, path: str, body: object = None, *, timeout: float | None = None) -> Any:
        """Send one request and return its decoded JSON body (bytes when it is not JSON); raise EngineError."""
        sock = self._connect()
        try:
            if timeout is not None:
                sock.settimeout(timeout)
            self._send(sock, method, path, body, "Connection: close\r\n")
            status, headers, rest = _read_head(sock)
            payload = _read_body(sock, headers, rest)
        finally:
            sock.close()
        if status >= 400:
            raise _error(status, payload)
        if "application/json" in headers.get("content-type", ""):
            return json.loads(payload) if payload else None
        return payload

    def hijack(self, path: str, body: object) -> Hijacked:
        """POST and take over the connection (exec start): the raw stream, with what came after the headers."""
        sock = self._connect()
        try:
            self._send(sock, "POST", path, body, "Connection: Upgrade\r\nUpgrade: tcp\r\n")
            status, headers, rest = _read_head(sock)
            if status >= 400:
                raise _error(status, _read_body(sock, headers, rest))
        except BaseException:
            sock.close()
            raise
        return Hijacked(sock, rest)


class Hijacked:
    """The exec's stream: a socket whose first bytes may already have been read with the response headers."""

    def __init__(self, sock: socket.socket, pending: bytes) -> None:
        self._conn = sock
        self._pending = pending

    def recv(self, n: int) -> bytes:
        """Up to `n` bytes of the stream (the buffered ones first)."""
        if self._pending:
            data, self._pending = self._pending[:n], self._pending[n:]
            return data
        return self._conn.recv(n)

    def sendall(self, data: bytes) -> None:
        """Write to the exec's stdin."""
        self._conn.sendall(data)

    def settimeout(self, timeout: float | None) -> None:
        """The socket's timeout."""
        self._conn.settimeout(timeout)

    def shutdown(self, how: int) -> None:
        """Half-close (SHUT_WR: the exec reads the end of its stdin)."""
        self._conn.shutdown(how)

    def close(self) -> None:
        """Close the stream."""
        self._conn.close()


def _read_head(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > _MAX_HEADER:
            raise EngineError(0, "the engine's response headers are too long")
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the engine closed the connection before answering")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise EngineError(0, f"not an HTTP answer: {lines[0][:80]!r}")
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return int(parts[1]), headers, rest


def _read_body(sock: socket.socket, headers: Mapping[str, str], rest: bytes) -> bytes:
    if headers.get("transfer-encoding", "").lower() == "chunked":
        return _dechunk(sock, rest)
    length = headers.get("content-length")
    if length is not None:
        want = int(length)
        if want > _MAX_BODY:
            raise EngineError(0, f"the engine's answer is too large ({want} bytes)")
        return rest + _read_n(sock, want - len(rest))
    return rest + _read_to_end(sock, _MAX_BODY - len(rest))  # Connection: close delimits it


def _read_n(sock: socket.socket, n: int) -> bytes:
    parts, got = [], 0
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            raise ConnectionError("the engine closed the connection mid-answer")
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _read_to_end(sock: socket.socket, limit: int) -> bytes:
    parts, got = [], 0
    while chunk := sock.recv(1 << 16):
        got += len(chunk)
        if got > limit:
            raise EngineError(0, "the engine's answer is too large")
        parts.append(chunk)
    return b"".join(parts)


def _dechunk(sock: socket.socket, data: bytes) -> bytes:
    out: list[bytes] = []
    total = 0
    while True:
        while b"\r\n" not in data:
            more = sock.recv(65536)
            if not more:
                raise ConnectionError("the engine closed the connection mid-answer")
            data += more
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        total += size
        if total > _MAX_BODY:
            raise EngineError(0, "the engine's answer is too large")
        if size == 0:
            return b"".join(out)
        if len(data) < size + 2:
            data += _read_n(sock, size + 2 - len(data))
        out.append(data[:size])
        data = data[size + 2 :]


def _error(status: int, payload: bytes) -> EngineError:
    try:
        message = str(json.loads(payload).get("message", ""))
    except (ValueError, AttributeError):
        message = payload.decode("utf-8", "replace")[:300]
    return (NotFound if status == 404 else EngineError)(status, message)


def _quote(name: str) -> str:
    return urllib.parse.quote(name, safe="")


class Api:
    """The low-level calls (the SDK's `client.api` for the parts used here)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ping(self) -> None:
        """Whether the engine answers at all (raises OSError / EngineError)."""
        self.engine.request("GET", "/_ping")

    def inspect_container(self, name_or_id: str) -> dict[str, Any]:
        """`docker inspect` of one container."""
        return dict(self.engine.request("GET", f"/containers/{_quote(name_or_id)}/json"))

    def containers(self, *, all: bool = False, filters: Mapping[str, object] | None = None) -> list[dict[str, Any]]:
        """`docker ps [-a] [--filter …]` (filters as the SDK takes them: a value or a list of values)."""
        query = {"all": "1" if all else "0"}
        if filters:
            query["filters"] = json.dumps({k: _filter_values(v) for k, v in filters.items()})
        return list(self.engine.request("GET", "/containers/json?" + urllib.parse.urlencode(query)))

    def exec_create(
        self,
        container: str,
        cmd: Sequence[str],
        *,
        stdin: bool = False,
        stdout: bool = True,
        stderr: bool = True,
        user: str = "",
        environment: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Create an exec (nothing runs yet); its environment is visible in `docker inspect`: no secrets there."""
        body = {
            "AttachStdin": stdin,
            "AttachStdout": stdout,
            "AttachStderr": stderr,
            "Tty": False,
            "Cmd": list(cmd),
            "User": user,
            "Env": [f"{k}={v}" for k, v in (environment or {}).items()] or None,
            "Privileged": False,
        }
        return dict(self.engine.request("POST", f"/containers/{_quote(container)}/exec", body))

    def exec_start(self, exec_id: str, *, socket: bool = True) -> Hijacked:
        """Start the exec and hand back its multiplexed stream (stdin is written on it)."""
        assert socket, "only the hijacked stream is implemented"
        return self.engine.hijack(f"/exec/{_quote(exec_id)}/start", {"Detach": False, "Tty": False})

    def exec_inspect(self, exec_id: str) -> dict[str, Any]:
        """The exec's state (ExitCode once it ended)."""
        return dict(self.engine.request("GET", f"/exec/{_quote(exec_id)}/json"))

    def wait(self, container: str, *, timeout: float, condition: str = "not-running") -> dict[str, Any]:
        """Wait until the container meets `condition`; a socket timeout past `timeout` seconds."""
        path = f"/containers/{_quote(container)}/wait?condition={_quote(condition)}"
        return dict(self.engine.request("POST", path, timeout=timeout))

    def logs(self, container: str, *, stdout: bool, stderr: bool, since: int, tail: int | str) -> bytes:
        """The container's log (its raw stream: multiplexed unless the container has a TTY)."""
        query = urllib.parse.urlencode(
            {"stdout": int(stdout), "stderr": int(stderr), "since": since, "tail": tail, "timestamps": 0}
        )
        data = self.engine.request("GET", f"/containers/{_quote(container)}/logs?{query}")
        return data if isinstance(data, bytes) else json.dumps(data).encode()


def _filter_values(value: object) -> list[str]:
    values = value if isinstance(value, list | tuple) else [value]
    return ["true" if v is True else "false" if v is False else str(v) for v in values]


class Containers:
    """`client.containers`: get one, list some."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def get(self, name_or_id: str) -> Container:
        """The container by name or id (NotFound when there is none)."""
        return Container(self.client, self.client.api.inspect_container(name_or_id))

    def list(self, *, all: bool = False, filters: Mapping[str, object] | None = None) -> list[Container]:
        """The containers matching, each inspected (as the SDK does); one removed meanwhile is left out."""
        found = []
        for row in self.client.api.containers(all=all, filters=filters):
            try:
                found.append(self.get(str(row["Id"])))
            except NotFound:
                continue
        return found


class Container:
    """One container as the engine described it (`reload` asks again)."""

    def __init__(self, client: Client, attrs: dict[str, Any]) -> None:
        self.client = client
        self.attrs = attrs

    @property
    def id(self) -> str:
        """The full id."""
        return str(self.attrs.get("Id", ""))

    @property
    def short_id(self) -> str:
        """The first 12 characters of the id (as `docker ps` shows it)."""
        return self.id[:12]

    @property
    def name(self) -> str:
        """The name without the engine's leading slash."""
        return str(self.attrs.get("Name", "")).lstrip("/")

    @property
    def status(self) -> str:
        """running, exited, paused, …"""
        state = self.attrs.get("State")
        return str(state.get("Status", "")) if isinstance(state, dict) else str(state)

    def reload(self) -> None:
        """Inspect the container again (NotFound once it was removed)."""
        self.attrs = self.client.api.inspect_container(self.id)

    def logs(self, *, stdout: bool = True, stderr: bool = True, since: int = 0, tail: int | str = "all") -> bytes:
        """Its log, stdout and stderr in the order they came (demultiplexed unless it has a TTY), as the SDK."""
        raw = self.client.api.logs(self.id, stdout=stdout, stderr=stderr, since=since, tail=tail)
        if (self.attrs.get("Config") or {}).get("Tty"):
            return raw
        return b"".join(_payloads(raw))


def _payloads(raw: bytes) -> list[bytes]:
    """The payloads of the engine's stream framing (8-byte header: stream id, 3 pad bytes, big-endian length)."""
    out, at = [], 0
    while at + 8 <= len(raw):
        (length,) = struct.unpack(">L", raw[at + 4 : at + 8])
        out.append(raw[at + 8 : at + 8 + length])
        at += 8 + length
    return out


class Client:
    """`docker.DockerClient`'s shape for what diagnose uses: `api`, `containers`, `close()`."""

    def __init__(self, url: str, timeout: float) -> None:
        self.api = Api(Engine(url, timeout))
        self.containers = Containers(self)

    def close(self) -> None:
        """Nothing held open between requests."""
