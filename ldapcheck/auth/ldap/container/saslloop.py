"""Logins through saslauthd's socket in the prosody container, many in a row: `ldapcheck bench logins`.

One exec per worker, kept open for the whole run (`saslloop.lua`): starting an exec costs the engine ~50 ms, more
than a login, so one per login would measure Docker. The password goes once, on the exec's stdin; each login is
then one line on stdin and one answer line back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ldapcheck.adapters import docker as dockeradapter
from ldapcheck.adapters.docker_errors import DockerError
from ldapcheck.auth.ldap.container import probe
from ldapcheck.auth.ldap.container.view import SaslauthdView
from ldapcheck.core.loadstats import CONNECT, ERROR, OK, REJECTED, TIMEOUT, Attempt
from ldapcheck.core.secrets import Secret

if TYPE_CHECKING:
    from docker.models.containers import Container


def script() -> str:
    """The Lua loop."""
    return probe.lua_script("saslloop.lua")


@dataclass(frozen=True)
class Target:
    """What every worker asks saslauthd (prosody's request for the typed login) and as whom it runs."""

    socket: str
    user: str
    service: str
    realm: str
    run_as: str


def target(view: SaslauthdView) -> Target:
    """The socket and request prosody would use for the view's login (runs the facts exec once)."""
    req = view.request()
    if req is None:
        raise ValueError("a login is needed")
    return Target(view.socket_path(), req.user, req.service, req.realm, view.prosody_user())


def parse_line(line: str) -> Attempt:
    """`login\\t<status>\\t<ms>\\t<text>` → an attempt (saslauthd's NO is `rejected`)."""
    parts = line.rstrip("\n").split("\t")
    if len(parts) < 3 or parts[0] != "login":
        return Attempt(ERROR, 0.0, "unexpected output from the loop script")
    status, text = parts[1], "\t".join(parts[3:])
    try:
        ms = float(parts[2])
    except ValueError:
        ms = 0.0
    if status == "answer":
        answer = probe.classify_reply(text)
        kind = {"OK": OK, "NO": REJECTED}.get(answer, ERROR)
        return Attempt(kind, ms, text if kind == ERROR else "")
    if status == "timeout":
        return Attempt(TIMEOUT, ms, text)
    if status == "connect":
        return Attempt(CONNECT, ms, text)
    return Attempt(ERROR, ms, f"{status}: {text}")


class SaslLoop:
    """One worker's exec: `login()` asks saslauthd once; `close()` ends the script (it reads the end of stdin).

    An exec that broke or hung is replaced before the next login (that login is counted as failed).
    """

    def __init__(self, container: Container, tgt: Target, password: Secret, *, timeout: float) -> None:
        self.timeout = timeout
        self._container = container
        self._target = tgt
        self._password = password
        self._channel = self._open()

    def _open(self) -> dockeradapter.ExecChannel:
        channel = dockeradapter.ExecChannel(
            self._container, lambda _token: ["lua5.4", "-e", script()], user=self._target.run_as
        )
        fields = {
            "token": channel.token,  # the boundary the channel looks for, chosen by it
            "socket": self._target.socket,
            "login": self._target.user,
            "password": self._password.reveal(),
            "service": self._target.service,
            "realm": self._target.realm,
            "timeout": f"{self.timeout:g}",
        }
        channel.write(probe.encode_fields(fields), timeout=self.timeout)
        ready = channel.read_part(timeout=self.timeout + 10)  # lua5.4 starting in a busy container
        if ready.exit_code != 0:
            channel.close()
            raise DockerError(
                "exec",
                f"the saslauthd load loop did not start in {channel.name}: "
                f"{ready.stderr.strip()[:200] or 'no output (does the image have lua5.4 and lua-socket?)'}",
                container=channel.name,
            )
        return channel

    def login(self) -> Attempt:
        """One login, timed inside the container; a hung or broken exec is a failed attempt, not an exception."""
        started = time.monotonic()
        try:
            if not self._channel.open:
                self._channel = self._open()
            self._channel.write(b"\n", timeout=self.timeout)
            part = self._channel.read_part(timeout=self.timeout + 5)
        except DockerError as exc:
            kind = TIMEOUT if exc.kind == "exec-timeout" else ERROR
            return Attempt(kind, (time.monotonic() - started) * 1000, str(exc))
        line = next((x for x in part.stdout.splitlines() if x.startswith("login\t")), "")
        if not line:
            self._channel.close()
        return parse_line(line)

    def close(self) -> None:
        """End the script: it reads the end of its stdin and exits."""
        self._channel.close()
