"""Docker engine access: connect with short timeouts, find the prosody container, run commands inside it.

Secrets only ever travel on an exec's STDIN (never in its argv or environment), so they appear in no
process listing inside the container and in no `docker inspect` of the exec.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ldapcheck.adapters.docker_errors import DockerError

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 5.0
# An exec whose stream ended early: how long a container that still says "running" may take to say it stopped.
EARLY_END_SETTLE = 3.0
COMPOSE_SERVICE_LABEL = "com.docker.compose.service"
COMPOSE_PROJECT_LABEL = "com.docker.compose.project"
COMPOSE_NUMBER_LABEL = "com.docker.compose.container-number"
COMPOSE_ONEOFF_LABEL = "com.docker.compose.oneoff"
COMPOSE_WORKING_DIR_LABEL = "com.docker.compose.project.working_dir"


@dataclass(frozen=True)
class ExecResult:
    """What a command run inside the container returned."""

    exit_code: int
    stdout: str
    stderr: str


_SDK_IMPORT = threading.Lock()


def _engine_url(docker_host: str | None) -> str:
    return docker_host or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def own_client(docker_host: str | None = None) -> bool:
    """Whether `connect` talks to this engine with `adapters.engine` (unix://, or tcp:// without TLS) rather than
    the docker SDK (ssh://, TLS, or LDAPCHECK_DOCKER_SDK=1): the SDK's import is ~70 ms of CPU (bench/README.md)."""
    where = _engine_url(docker_host)
    if (
        os.environ.get("LDAPCHECK_DOCKER_SDK")
        or os.environ.get("DOCKER_TLS_VERIFY")
        or os.environ.get("DOCKER_CERT_PATH")
    ):
        return False
    return where.startswith(("unix://", "tcp://"))


def load_sdk(docker_host: str | None = None) -> None:
    """Import the docker SDK (about 0.1 s: requests, urllib3), e.g. in a background thread ahead of use; nothing
    when `connect` will not use it (`own_client`).

    The SDK imports paramiko whenever it is installed (the ssh extra) for its ssh:// adapter: ~0.1 s more of CPU
    in every diagnose (a third of its time on 2 cores, measured: bench/README.md), though only ssh:// uses it. So
    unless the engine is reached over ssh://, the SDK is imported with paramiko hidden (`import paramiko` fails,
    which the SDK expects when the extra is absent); `_ssh_adapter` adds the adapter if ssh:// comes later after all.
    """
    if own_client(docker_host):
        return
    with _SDK_IMPORT:
        if "docker" in sys.modules or "paramiko" in sys.modules or _engine_url(docker_host).startswith("ssh://"):
            import docker

            return
        sys.modules["paramiko"] = None  # type: ignore[assignment]
        try:
            import docker  # noqa: F401
        finally:
            if sys.modules.get("paramiko", 0) is None:
                del sys.modules["paramiko"]


def _ssh_adapter() -> None:
    """The SDK's ssh:// adapter, when `load_sdk` imported the SDK without paramiko and ssh:// is needed now."""
    import docker.api.client
    import docker.transport

    if hasattr(docker.api.client, "SSHHTTPAdapter"):
        return
    try:
        from docker.transport.sshconn import SSHHTTPAdapter
    except ImportError:  # no paramiko: the SDK says so when the client is made (and `connect` explains the extra)
        return
    for module in (docker.transport, docker.api.client):  # where the SDK's own import would have bound it
        setattr(module, "SSHHTTPAdapter", SSHHTTPAdapter)  # noqa: B010


def connect(
    docker_host: str | None = None, *, timeout: float = DEFAULT_TIMEOUT, sdk: bool = False
) -> docker.DockerClient:
    """A client for `docker_host` (or DOCKER_HOST / the default socket) whose engine answered: the project's own
    (`adapters.engine`) for unix:// and plain tcp://, else the docker SDK's; `sdk`: always the SDK's (the lab
    builds images, creates networks and containers: the whole API)."""
    where = _engine_url(docker_host)
    if not sdk and own_client(docker_host):
        from ldapcheck.adapters import engine

        lite = engine.Client(where, timeout)
        try:
            lite.api.ping()
        except (OSError, engine.EngineError) as exc:
            log.debug("docker connect to %s failed", where, exc_info=True)
            raise DockerError(
                "unavailable",
                f"no Docker engine answered at {where} ({_short(exc)}); start the engine, or point "
                "--docker-host / DOCKER_HOST at it (unix://, tcp:// or ssh://user@host)",
            ) from None
        return lite  # type: ignore[return-value]  # the part of DockerClient's interface used here
    load_sdk(docker_host)
    import docker

    if where.startswith("ssh://"):
        _ssh_adapter()
    try:
        if docker_host:
            # ssh:// goes through the system ssh client (keys, known_hosts, ~/.ssh/config) rather than paramiko.
            client = docker.DockerClient(
                base_url=docker_host, timeout=int(timeout), use_ssh_client=docker_host.startswith("ssh://")
            )
        else:
            client = docker.from_env(timeout=int(timeout), use_ssh_client=where.startswith("ssh://"))
        # No ping: creating the client already asked the engine for its API version (one round trip).
    except Exception as exc:  # the SDK raises DockerException, requests and OSError subclasses alike
        log.debug("docker connect to %s failed", where, exc_info=True)
        if "paramiko" in str(exc):
            raise DockerError(
                "unavailable",
                f"{where}: ssh:// needs paramiko; install the ssh extra (pip install 'ldapcheck[ssh]'), "
                "or forward the socket yourself (ssh -L /tmp/docker.sock:/var/run/docker.sock HOST) and use "
                "--docker-host unix:///tmp/docker.sock",
            ) from None
        raise DockerError(
            "unavailable",
            f"no Docker engine answered at {where} ({_short(exc)}); start the engine, or point "
            "--docker-host / DOCKER_HOST at it (unix://, tcp:// or ssh://user@host)",
        ) from None
    return client


_REASONS = (
    re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)"),
    re.compile(r"\w+Error\(-?\d+, '([^']+)'\)"),
    re.compile(r"(Connection refused|No such file or directory|Permission denied|timed out|Name or service not known)"),
)


def _short(exc: BaseException) -> str:
    """The operating system's reason buried in the SDK's nested message, else its first line."""
    text = str(exc).strip() or type(exc).__name__
    for pattern in _REASONS:
        match = pattern.search(text)
        if match:
            return match.group(1).strip()
    return text.splitlines()[0][:160]


def describe(container: Container) -> str:
    """`name (image, status)` for messages."""
    image = image_name(container)
    return f"{container.name} ({image}, {container.status})"


def image_name(container: Container) -> str:
    """The image the container was created from, as it was named (e.g. `jitsi/prosody:stable-11146`)."""
    config = container.attrs.get("Config") or {}
    return str(config.get("Image") or container.attrs.get("Image", "?"))


def find_prosody(
    client: docker.DockerClient,
    *,
    container: str | None = None,
    project: str | None = None,
    prefer_env: Callable[[], Mapping[str, str] | None] | None = None,
    identifying_keys: Sequence[str] = (),
    prefer_dir: Callable[[], str | None] | None = None,
) -> Container:
    """The prosody container: by name/id, else by compose label, else by an image name containing `prosody`.

    When several run (the callables are called only then: they may wait for the operator's .env), the one whose
    compose project directory (label `com.docker.compose.project.working_dir`) is `prefer_dir` wins, if
    exactly one is; else the one whose `identifying_keys` all match `prefer_env`, if exactly one does.
    Raises DockerError when there is none, several, or it is not running.
    """
    if container:
        try:
            found = client.containers.get(container)
        except Exception as exc:
            if not _engine_refused(exc):
                raise
            if _not_found(exc):
                raise DockerError(
                    "no-container", f"no container named or with id {container!r}", container=container
                ) from None
            raise DockerError(
                "unavailable", f"the Docker engine refused to look up {container!r}: {_short(exc)}"
            ) from None
        return _running(found)
    return _running(_discover(client, project, prefer_env, identifying_keys, prefer_dir))


def _not_found(exc: BaseException) -> bool:
    """A 404 of the engine, from either client (the SDK's errors only looked up when the SDK is loaded)."""
    from ldapcheck.adapters import engine

    sdk = sys.modules.get("docker.errors")
    return isinstance(exc, engine.NotFound) or (sdk is not None and isinstance(exc, sdk.NotFound))


def _engine_refused(exc: BaseException) -> bool:
    """An error status of the engine, from either client."""
    from ldapcheck.adapters import engine

    sdk = sys.modules.get("docker.errors")
    return isinstance(exc, engine.EngineError) or (sdk is not None and isinstance(exc, sdk.APIError))


def _matching_env(
    candidates: Sequence[Container], wanted: Mapping[str, str], identifying_keys: Sequence[str]
) -> list[Container]:
    keys = [k for k in identifying_keys if wanted.get(k)]
    if not keys:
        return []
    return [c for c in candidates if all(container_env(c).get(k) == wanted[k] for k in keys)]


def _in_dir(candidates: Sequence[Container], directory: str) -> list[Container]:
    wanted = {os.path.normpath(directory), os.path.realpath(directory)}
    return [
        c
        for c in candidates
        if (wd := compose_labels(c).get(COMPOSE_WORKING_DIR_LABEL)) and os.path.normpath(wd) in wanted
    ]


def _discover(
    client: docker.DockerClient,
    project: str | None,
    prefer_env: Callable[[], Mapping[str, str] | None] | None = None,
    identifying_keys: Sequence[str] = (),
    prefer_dir: Callable[[], str | None] | None = None,
) -> Container:
    labels = [f"{COMPOSE_SERVICE_LABEL}=prosody"]
    if project:
        labels.append(f"{COMPOSE_PROJECT_LABEL}={project}")
    by_label = client.containers.list(all=True, filters={"label": labels})
    candidates = by_label
    how = "label " + " and ".join(labels)
    if not candidates and not project:
        candidates = [c for c in client.containers.list(all=True) if "prosody" in image_name(c).lower()]
        how = "image name containing 'prosody'"
    if not candidates:
        raise DockerError("no-container", f"no prosody container found (looked for {how})", searched=how)
    running = [c for c in candidates if c.status == "running"]
    if len(candidates) > 1 and len(running) == 1:
        return running[0]
    directory = prefer_dir() if prefer_dir is not None and len(running) > 1 else None
    in_dir = _in_dir(running, directory) if directory else []
    if len(in_dir) == 1:
        log.debug("%d prosody containers run; %s is the compose project in %s", len(running), in_dir[0].name, directory)
        return in_dir[0]
    wanted = prefer_env() if prefer_env is not None and len(running) > 1 else None
    matching = _matching_env(running, wanted, identifying_keys) if wanted else []
    if len(matching) == 1:
        log.debug("%d prosody containers run; %s matches the .env", len(running), matching[0].name)
        return matching[0]
    if len(candidates) > 1:
        listing = "; ".join(describe(c) for c in candidates)
        raise DockerError(
            "ambiguous",
            f"{len(candidates)} prosody containers match ({how}): {listing}",
            candidates=tuple(str(c.name) for c in candidates),
        )
    return candidates[0]


def _running(container: Container) -> Container:
    if container.status != "running":
        raise DockerError("stopped", f"container {describe(container)} is not running", container=str(container.name))
    return container


def exec_in(
    container: Container,
    argv: Sequence[str],
    *,
    stdin: bytes | None = None,
    user: str = "",
    environment: Mapping[str, str] | None = None,
    timeout: float = 15.0,
) -> ExecResult:
    """Run `argv` inside the container, feeding `stdin` (where secrets go), and collect its output.

    `environment` is for non-secret settings only: an exec's environment is visible in `docker inspect`.
    """
    client = container.client
    if client is None:
        raise DockerError("exec", f"no engine connection for {container.name}", container=str(container.name))
    api = client.api
    try:
        exec_id = api.exec_create(
            container.id,
            list(argv),
            stdin=stdin is not None,
            stdout=True,
            stderr=True,
            user=user,
            environment=dict(environment) if environment else None,
        )["Id"]
        sock = api.exec_start(exec_id, socket=True)
    except Exception as exc:
        raise DockerError(
            "exec", f"could not run {argv[0]} in {container.name}: {_short(exc)}", container=str(container.name)
        ) from None
    raw = _raw_socket(sock)
    try:
        raw.settimeout(timeout)
        if stdin is not None:
            # Feed stdin from a thread while this one reads: a command that writes before (or instead of)
            # reading its input must not deadlock us.
            threading.Thread(target=_feed, args=(raw, stdin), daemon=True).start()
        stdout, stderr = _read_frames(raw, deadline=time.monotonic() + timeout)
    except TimeoutError:
        raise _state_error(container, argv[0]) or DockerError(
            "exec-timeout",
            f"{argv[0]} inside {container.name} did not finish within {timeout:.0f} s",
            container=str(container.name),
        ) from None
    except OSError as exc:
        raise DockerError(
            "exec-broken",
            f"the connection to {argv[0]} inside {container.name} broke: {_short(exc)}",
            container=str(container.name),
        ) from None
    finally:
        _close(sock)
    try:
        code = api.exec_inspect(exec_id).get("ExitCode")
    except Exception:  # the output is what matters; the exit code is a detail
        log.debug("exec_inspect failed", exc_info=True)
        code = None
    if code is None or int(code) >= 128:  # killed: by a signal, or with its container (stopped, removed)
        gone = _state_error(container, argv[0], settle=EARLY_END_SETTLE)
        if gone is not None:
            raise gone
    return ExecResult(
        exit_code=int(code) if code is not None else -1,
        stdout=stdout.decode("utf-8", "replace"),
        stderr=stderr.decode("utf-8", "replace"),
    )


class ExecChannel:
    """One exec kept open between parts: the command prints a boundary after each part and may then read more
    stdin (a follow-up the host writes once it has read the part before).

    A part ends with the line `@@part TOKEN RC` on stdout AND on stderr, each preceded by a newline that is not
    part of the output (`TOKEN` is random, chosen here: no file content can fake a boundary; `RC` is the part's
    exit code). What came before an early end of stream is still returned, with exit code -1.
    """

    def __init__(
        self,
        container: Container,
        argv: Callable[[str], Sequence[str]],
        *,
        user: str = "",
        environment: Mapping[str, str] | None = None,
    ) -> None:
        import secrets

        self.name = str(container.name)
        self._container = container
        self.token = secrets.token_hex(16)
        self._argv0 = "exec"
        self._buffers = {1: b"", 2: b""}
        self._eof = False
        self._sock: Any = None
        client = container.client
        if client is None:
            raise DockerError("exec", f"no engine connection for {self.name}", container=self.name)
        command = list(argv(self.token))
        self._argv0 = command[0]
        api = client.api
        try:
            exec_id = api.exec_create(
                container.id,
                command,
                stdin=True,
                stdout=True,
                stderr=True,
                user=user,
                environment=dict(environment) if environment else None,
            )["Id"]
            self._sock = api.exec_start(exec_id, socket=True)
        except Exception as exc:
            raise DockerError(
                "exec", f"could not run {command[0]} in {self.name}: {_short(exc)}", container=self.name
            ) from None
        self._raw = _raw_socket(self._sock)

    @property
    def open(self) -> bool:
        """Whether the command may still answer (no end of stream seen, not closed)."""
        return not self._eof and self._sock is not None

    def read_part(self, *, timeout: float) -> ExecResult:
        """The output of the next part (up to its boundary on both streams, or to the end of the stream)."""
        marker = f"\n@@part {self.token} ".encode()
        deadline = time.monotonic() + timeout
        try:
            self._raw.settimeout(timeout)
            while not self._eof and not all(_boundary(b, marker) for b in self._buffers.values()):
                header = _read_exact(self._raw, 8, deadline)
                if len(header) < 8:
                    self._eof = True
                    break
                stream, length = struct.unpack(">BxxxL", header)
                payload = _read_exact(self._raw, length, deadline)
                if stream in self._buffers:
                    self._buffers[stream] += payload
                if len(payload) < length:
                    self._eof = True
        except TimeoutError:
            self.close()
            raise _state_error(self._container, self._argv0) or DockerError(
                "exec-timeout",
                f"{self._argv0} inside {self.name} did not finish within {timeout:.0f} s",
                container=self.name,
            ) from None
        except OSError as exc:
            self.close()
            raise DockerError(
                "exec-broken",
                f"the connection to {self._argv0} inside {self.name} broke: {_short(exc)}",
                container=self.name,
            ) from None
        if self._eof and not _boundary(self._buffers[1], marker):
            gone = _state_error(self._container, self._argv0, settle=EARLY_END_SETTLE)  # ended with its container?
            if gone is not None:
                self.close()
                raise gone
        out, out_rc = self._take(1, marker)
        err, err_rc = self._take(2, marker)
        code = out_rc if out_rc is not None else err_rc
        return ExecResult(
            exit_code=code if code is not None else -1,
            stdout=out.decode("utf-8", "replace"),
            stderr=err.decode("utf-8", "replace"),
        )

    def _take(self, stream: int, marker: bytes) -> tuple[bytes, int | None]:
        data = self._buffers[stream]
        found = _boundary(data, marker)
        if found is None:  # the end of the stream came first: all of it belongs to this part
            self._buffers[stream] = b""
            return data, None
        start, end, code = found
        self._buffers[stream] = data[end:]
        return data[:start], code

    def send(self, data: bytes) -> None:
        """Write the rest of the command's stdin (from a thread, as `exec_in` does) and close it."""
        if self._sock is None:
            return
        threading.Thread(target=_feed, args=(self._raw, data), daemon=True).start()

    def write(self, data: bytes, *, timeout: float) -> None:
        """Write more of the command's stdin and keep it open (a loop that reads one request a line).

        Small writes only: the command must read them before it answers, or this blocks until `timeout`.
        """
        if self._sock is None:
            raise DockerError("exec-broken", f"{self._argv0} inside {self.name} was closed", container=self.name)
        try:
            self._raw.settimeout(timeout)
            self._raw.sendall(data)
        except OSError as exc:  # TimeoutError included
            self.close()
            raise DockerError(
                "exec-broken",
                f"the connection to {self._argv0} inside {self.name} broke: {_short(exc)}",
                container=self.name,
            ) from None

    def close(self) -> None:
        """Hang up: the command reads the end of its stdin (and exits if it was waiting for a follow-up)."""
        if self._sock is not None:
            _shutdown_write(self._raw)
            _close(self._sock)
            self._sock = None


def _state_error(container: Container, argv0: str, *, settle: float = 0.0) -> DockerError | None:
    """Why an exec ended early or hangs, when its container is the reason: removed, stopped or paused.

    `settle` > 0 (the exec's stream ended early): the engine may still call a stopping container running for a
    moment after its processes died, so wait up to `settle` seconds for it to say "not running".
    """
    name = str(container.name)
    try:
        if settle > 0:
            container.reload()
            if container.status == "running" and container.client is not None:
                with contextlib.suppress(Exception):  # still running after `settle`: the exec ended on its own
                    container.client.api.wait(str(container.id), timeout=max(1, round(settle)), condition="not-running")
        container.reload()
    except Exception as exc:  # the engine's answer would only have refined the message
        if _not_found(exc):
            return DockerError("no-container", f"container {name} was removed while {argv0} ran in it", container=name)
        log.debug("could not inspect %s after its exec ended", name, exc_info=True)
        return None
    if container.status == "paused":
        return DockerError(
            "paused", f"container {name} was paused while {argv0} ran in it (its processes are frozen)", container=name
        )
    if container.status != "running":
        return DockerError(
            "stopped", f"container {name} stopped ({container.status}) while {argv0} ran in it", container=name
        )
    return None


def _boundary(data: bytes, marker: bytes) -> tuple[int, int, int | None] | None:
    """Where the boundary line is in `data` (start, end past its newline, exit code), if it is complete."""
    start = data.find(marker)
    if start < 0:
        return None
    end = data.find(b"\n", start + len(marker))
    if end < 0:
        return None
    field = data[start + len(marker) : end].strip()
    return start, end + 1, int(field) if field.lstrip(b"-").isdigit() else None


def _raw_socket(sock: Any) -> Any:
    # exec_start(socket=True) hands back a SocketIO (unix/tcp) or the transport's own socket (ssh, npipe).
    return getattr(sock, "_sock", sock)


def _feed(raw: Any, data: bytes) -> None:
    try:
        raw.sendall(data)
    except OSError:  # the command exited without reading it all: its output still tells why
        log.debug("exec did not read all of its stdin")
    _shutdown_write(raw)


def _shutdown_write(raw: Any) -> None:
    try:
        raw.shutdown(socket.SHUT_WR)
    except (OSError, AttributeError):
        log.debug("could not half-close the exec socket", exc_info=True)


def _close(sock: Any) -> None:
    try:
        sock.close()
    except OSError:
        log.debug("closing the exec socket failed", exc_info=True)


def _read_exact(raw: Any, n: int, deadline: float) -> bytes:
    data = b""
    while len(data) < n:
        if time.monotonic() > deadline:
            raise TimeoutError
        chunk = raw.recv(n - len(data))
        if not chunk:
            return data
        data += chunk
    return data


def _read_frames(raw: Any, *, deadline: float) -> tuple[bytes, bytes]:
    """Demultiplex the engine's stream framing: 8-byte header (stream id, 3 pad bytes, big-endian length)."""
    out = {1: b"", 2: b""}
    while True:
        header = _read_exact(raw, 8, deadline)
        if len(header) < 8:
            break
        stream, length = struct.unpack(">BxxxL", header)
        payload = _read_exact(raw, length, deadline)
        if stream in out:
            out[stream] += payload
        if len(payload) < length:
            break
    return out[1], out[2]


def container_env(container: Container) -> dict[str, str]:
    """The container's environment as the engine holds it (what the image's scripts saw)."""
    env: dict[str, str] = {}
    for item in (container.attrs.get("Config") or {}).get("Env") or []:
        key, sep, value = str(item).partition("=")
        if sep:
            env[key] = value
    return env


def mounts(container: Container) -> list[dict[str, str]]:
    """Bind mounts and volumes: destination → source."""
    return [
        {"source": str(m.get("Source", "")), "destination": str(m.get("Destination", "")), "type": str(m.get("Type"))}
        for m in container.attrs.get("Mounts") or []
    ]


def compose_labels(container: Container) -> dict[str, str]:
    """The compose labels of the container (project, service, working dir)."""
    labels = (container.attrs.get("Config") or {}).get("Labels") or {}
    return {k: str(v) for k, v in labels.items() if k.startswith("com.docker.compose.")}
