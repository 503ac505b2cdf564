"""Ask saslauthd inside a prosody container whether a login works, answering the way testsaslauthd does.

It runs ldapcheck's own in-container probe (auth/ldap/container/probe.lua), so the password travels on the
exec's stdin: in no process's argv or environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ldapcheck.adapters.docker import exec_in
from ldapcheck.auth.ldap.container import probe as probemod

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
    """Run the probe in `container` (the password on its stdin) and answer as testsaslauthd would."""
    fields = {
        "sasl": "1",
        "sasl_auth": "1",
        "socket": socket_path,
        "login": user,
        "password": password,
        "service": service,
        "realm": realm,
    }
    result = exec_in(
        container,
        ["lua5.4", "-e", probemod.script()],
        stdin=probemod.encode_fields(fields),
        user=exec_user,
        timeout=20,
    )
    parsed = probemod.parse(result.stdout, result.stderr)
    for key, what in (("sasl_module", "socket.unix"), ("sasl_connect", "connect()")):
        rec = parsed.get(key)
        if rec is not None and not rec.ok:
            return SaslauthdAnswer(exit_code=255, stdout="0: \n", stderr=f"{what} : {rec.field(0)}\n")
    reply = parsed.get("sasl_reply")
    if reply is None:  # the probe itself did not run (no lua5.4, no lua-socket): its own output says why
        return SaslauthdAnswer(exit_code=result.exit_code, stdout=result.stdout, stderr=result.stderr)
    if not reply.ok:
        return SaslauthdAnswer(exit_code=255, stdout="0: \n", stderr=f"{reply.field(0)}\n")
    # saslauthd answers a bare "OK" / "NO"; testsaslauthd prints these fixed texts for them.
    if probemod.classify_reply(parsed.sasl_answer) == "OK":
        return SaslauthdAnswer(exit_code=0, stdout='0: OK "Success."\n', stderr="")
    return SaslauthdAnswer(exit_code=255, stdout='0: NO "authentication failed"\n', stderr="")
