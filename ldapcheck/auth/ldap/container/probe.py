"""Inputs for and results of `probe.lua`: the LDAP chain and saslauthd's socket protocol, run inside the container."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources import files

# Records whose second field is the time the script measured for them (milliseconds).
LDAP_RECORDS = ("service_bind", "search", "user_bind")
TIMED_RECORDS = (*LDAP_RECORDS, "sasl_connect", "sasl_reply")

# The probe's waits, all derived from --timeout (T, the wait for one LDAP lookup, as saslauthd's ldap_timeout):
# - libldap inside the probe: LDAPNETWORK_TIMEOUT = LDAPTIMEOUT = ceil(T) (libldap reads whole seconds), so each
#   connect, StartTLS, TLS handshake and bind waits at most T; the user search has its own `timeout` of T.
# - saslauthd's answer on its socket: SASL_REPLY_FACTOR x T. One login is three LDAP round trips for saslauthd
#   (service bind, search, user bind), each of which ldapcheck allows T; 3 x 5 s keeps the former fixed 15 s at
#   the default. saslauthd's own worst case is its ldap_timeout x 2 (lak retries once after a timeout): when that
#   is longer, the probe reports that saslauthd did not answer within this bound rather than wait for it.
# - the exec as a whole (`exec_budget`): a safety net over the waits of a run against a silent directory.
SASL_REPLY_FACTOR = 3
# lua5.4 and the exec starting in a busy container: not a network wait, so not scaled by T.
EXEC_START_SLACK = 10.0


def ldap_wait(timeout: float) -> int:
    """libldap's LDAPNETWORK_TIMEOUT/LDAPTIMEOUT for --timeout: whole seconds, at least 1."""
    return max(1, math.ceil(timeout))


def exec_budget(timeout: float, servers: int) -> float:
    """The probe exec's deadline: the waits of a run against a dead or silent directory, plus EXEC_START_SLACK.

    The chain stops at its first wait that expires: the service bind tries each of `servers` (a connect of T each)
    and then waits T for StartTLS or the bind; then saslauthd's socket (connect T, answer SASL_REPLY_FACTOR x T).
    At the default --timeout 5 with one server that is the former fixed 40 s. A directory that answers every step
    just before T could take longer; the exec is then cut and the probe reports the records it had.
    """
    t = ldap_wait(timeout)
    return (max(1, servers) + 1) * t + (1 + SASL_REPLY_FACTOR) * t + EXEC_START_SLACK


def lua_script(name: str) -> str:
    """The in-container Lua script `name` (package data) after `records.lua`: the stdin records every one of them
    reads (`encode_fields`) and the output escaping (`_unescape`)."""
    here = files("ldapcheck.auth.ldap.container")
    return here.joinpath("records.lua").read_text(encoding="utf-8") + here.joinpath(name).read_text(encoding="utf-8")


def script() -> str:
    """The probe's Lua script."""
    return lua_script("probe.lua")


def encode_fields(fields: Mapping[str, str]) -> bytes:
    """Records `<name> <length>\\n<bytes>` ended by an empty line: what the script reads from stdin."""
    out = bytearray()
    for name, value in fields.items():
        data = value.encode("utf-8")
        out += f"{name} {len(data)}\n".encode() + data
    out += b"\n"
    return bytes(out)


def _unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append({"t": "\t", "n": "\n", "\\": "\\"}.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class Record:
    """One line of the script's output: key, ok/fail, fields."""

    key: str
    ok: bool
    fields: tuple[str, ...]

    def field(self, index: int, default: str = "") -> str:
        """A field by position."""
        return self.fields[index] if index < len(self.fields) else default


@dataclass
class ProbeResult:
    """What the in-container probe saw, by key (`service_bind`, `search`, `user_bind`, `sasl_connect`, `sasl_reply`)."""

    records: dict[str, Record] = field(default_factory=dict)
    complete: bool = False
    raw_stderr: str = ""
    started_at: float = 0.0  # wall-clock time the exec started (to read saslauthd's log lines since then)

    def get(self, key: str) -> Record | None:
        """A record, if the script got that far."""
        return self.records.get(key)

    def ms(self, *keys: str) -> float:
        """Milliseconds the script measured for these records (each record's second field)."""
        total = 0.0
        for key in keys:
            rec = self.records.get(key)
            with contextlib.suppress(ValueError):
                total += float(rec.field(1)) if rec is not None else 0.0
        return total

    def measured_ms(self) -> float:
        """Time of this exec that the steps reading its records report."""
        return self.ms(*TIMED_RECORDS)

    @property
    def entries(self) -> list[str]:
        """DNs the search returned (at most 2: the script stops at two)."""
        rec = self.get("search")
        return list(rec.fields[2:]) if rec and rec.ok else []

    @property
    def entry_count(self) -> int | None:
        """Entries found (2 means "two or more"), None when the search did not run."""
        rec = self.get("search")
        if rec is None or not rec.ok:
            return None
        try:
            return int(rec.field(0))
        except ValueError:
            return None

    @property
    def sasl_answer(self) -> str | None:
        """saslauthd's reply text (`OK…` / `NO…`), None when no reply was read."""
        rec = self.get("sasl_reply")
        return rec.field(0) if rec and rec.ok else None


def parse(stdout: str, stderr: str = "") -> ProbeResult:
    """Parse the tab-separated records; a missing `done` means the script died half-way."""
    result = ProbeResult(raw_stderr=stderr.strip())
    for line in stdout.splitlines():
        parts = line.split("\t")
        if len(parts) < 2:
            continue
        key = parts[0]
        if key == "done":
            result.complete = True
            continue
        result.records[key] = Record(key=key, ok=parts[1] == "ok", fields=tuple(_unescape(p) for p in parts[2:]))
    return result


@dataclass(frozen=True)
class TestsaslauthdResult:
    """testsaslauthd's answer, classified."""

    verdict: str  # "OK", "NO", "SOCKET" (connect/IO error), "USAGE", "UNKNOWN"
    stdout: str
    stderr: str
    exit_code: int

    @property
    def reason(self) -> str:
        """The perror text for socket problems (e.g. `connect() : No such file or directory`)."""
        return self.stderr.strip().splitlines()[0] if self.stderr.strip() else ""


def parse_testsaslauthd(stdout: str, stderr: str, exit_code: int) -> TestsaslauthdResult:
    """`0: OK "Success."` → OK; `0: NO "…"` → NO; `0: ` + perror on stderr → SOCKET; exit 1 → USAGE."""
    out = stdout.strip()
    body = out.split(":", 1)[1].strip() if ":" in out else out
    if body.startswith("OK"):
        verdict = "OK"
    elif body.startswith("NO"):
        verdict = "NO"
    elif exit_code == 1 and not body:
        verdict = "USAGE"
    elif stderr.strip():
        verdict = "SOCKET"
    else:
        verdict = "UNKNOWN"
    return TestsaslauthdResult(verdict=verdict, stdout=stdout, stderr=stderr, exit_code=exit_code)


def classify_reply(reply: str | None) -> str:
    """saslauthd's own reply: `OK` / `NO` (anything else is a protocol surprise)."""
    if reply is None:
        return "NONE"
    if reply.startswith("OK"):
        return "OK"
    if reply.startswith("NO"):
        return "NO"
    return "UNKNOWN"
