"""Ask saslauthd inside a prosody container whether a login works (testsaslauthd's question, password off argv)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docker.models.containers import Container

DEFAULT_SOCKET = "/var/run/saslauthd/mux"


@dataclass(frozen=True)
class SaslauthdAnswer:
    """stdout/stderr/exit code exactly as testsaslauthd would give them (`0: OK "Success."`, exit 0)."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and 'OK "Success."' in self.stdout


@cache
def probe_script() -> str:
    """The Lua source of the probe (lua5.4 + lua-socket, both in docker-jitsi-meet's prosody image)."""
    return resources.files("ldapcheck.lab").joinpath("saslauthd_probe.lua").read_text(encoding="utf-8")


def probe_saslauthd(
    container: Container,
    user: str,
    password: str,
    *,
    realm: str,
    service: str = "xmpp",
    socket_path: str = DEFAULT_SOCKET,
    exec_user: str = "",
) -> SaslauthdAnswer:
    """Run the probe in `container`; the password travels in the exec's environment, never on a command line."""
    env = {
        "PROBE_USER": user,
        "PROBE_PASSWORD": password,
        "PROBE_SERVICE": service,
        "PROBE_REALM": realm,
        "SASLAUTHD_SOCKET": socket_path,
    }
    result = container.exec_run(["lua5.4", "-e", probe_script()], environment=env, demux=True, user=exec_user)
    out, err = result.output if isinstance(result.output, tuple) else (result.output, b"")
    return SaslauthdAnswer(
        exit_code=int(result.exit_code if result.exit_code is not None else -1),
        stdout=_text(out),
        stderr=_text(err),
    )


def _text(chunk: object) -> str:
    return chunk.decode("utf-8", "replace") if isinstance(chunk, bytes) else ""
