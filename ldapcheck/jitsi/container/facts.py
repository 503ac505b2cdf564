"""Parse what `facts.sh` prints inside the prosody container into typed facts (one exec, many steps)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.resources import files

# libsasl2's compiled-in search path for `<app>.conf` on Debian (strings libsasl2.so.2).
SASL_CONF_SEARCH_PATH = ("/etc/sasl2", "/etc/sasl", "/usr/lib/x86_64-linux-gnu/sasl2", "/usr/lib/sasl2")
SASLAUTHD_GETOPT = "a:cdhO:lm:n:rs:t:vV"  # saslauthd-main.c 2.1.28
DEFAULT_RUN_DIR = "/var/run/saslauthd"


# The facts script's DNS and TCP probes from inside each wait --timeout (coreutils `timeout`, run in parallel per
# server: DNS then TCP, so 2 x --timeout for all of them); reading the files takes no network wait, FACTS_SLACK covers
# it and the exec's start (the former fixed 20 s at the default --timeout 5).
NET_TIMEOUT_VAR = "LDAPCHECK_NET_TIMEOUT"
FACTS_SLACK = 10.0


def net_environment(timeout: float) -> dict[str, str]:
    """The facts script's environment: its network probes' wait (seconds, `timeout`'s syntax)."""
    return {NET_TIMEOUT_VAR: f"{timeout:g}"}


def deadline(timeout: float) -> float:
    """The facts exec's deadline for --timeout: its two sequential network waits plus FACTS_SLACK."""
    return 2 * timeout + FACTS_SLACK


def script() -> str:
    """The bash script (package data)."""
    return files("ldapcheck.jitsi.container").joinpath("facts.sh").read_text(encoding="utf-8")


def then_script() -> str:
    """The bash script that runs the facts, then waits for one follow-up command (package data)."""
    return files("ldapcheck.jitsi.container").joinpath("then.sh").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Process:
    """A saslauthd or prosody process seen in /proc."""

    pid: int
    uid: int
    argv: tuple[str, ...]

    @property
    def name(self) -> str:
        """The program's base name (the script's for `lua5.4 /usr/bin/prosody`)."""
        first = self.argv[0].rsplit("/", 1)[-1] if self.argv else ""
        if first.startswith("lua") and len(self.argv) > 1:
            return self.argv[1].rsplit("/", 1)[-1]
        return first


@dataclass(frozen=True)
class FileStat:
    """`stat -L` of a path: octal mode, owner, group, type."""

    mode: str
    owner: str
    group: str
    kind: str


@dataclass
class ContainerFacts:
    """Everything the single facts exec reported."""

    files: dict[str, str] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)
    dirs: dict[str, list[str]] = field(default_factory=dict)
    processes: list[Process] = field(default_factory=list)
    stats: dict[str, FileStat] = field(default_factory=dict)
    users: dict[str, tuple[int, int, tuple[str, ...]]] = field(default_factory=dict)
    binaries: dict[str, str] = field(default_factory=dict)
    dns: dict[str, tuple[int, str]] = field(default_factory=dict)
    tcp: dict[tuple[str, int], int] = field(default_factory=dict)
    net_ms: dict[tuple[str, int], float] = field(default_factory=dict)  # DNS + TCP time, measured inside
    exists: dict[str, bool] = field(default_factory=dict)  # TLS files named in saslauthd.conf
    clock: float | None = None  # the container's epoch seconds when the exec started ($EPOCHREALTIME)
    host_window: tuple[float, float] | None = None  # this host's epoch seconds before and after the exec
    complete: bool = False

    def measured_ms(self) -> float:
        """Time of this exec that the net steps report (their probes run in parallel: the longest)."""
        return max(self.net_ms.values(), default=0.0)

    def saslauthd(self) -> list[Process]:
        """saslauthd processes (master first: lowest pid)."""
        return sorted((p for p in self.processes if p.name == "saslauthd"), key=lambda p: p.pid)

    def prosody(self) -> list[Process]:
        """prosody processes."""
        return sorted((p for p in self.processes if p.name == "prosody"), key=lambda p: p.pid)

    def has_binary(self, name: str) -> bool:
        """Whether `command -v name` found it."""
        return self.binaries.get(name, "-") != "-"


_PAYLOAD_KINDS = frozenset({"file", "dir", "proc", "dns"})


def parse(output: str) -> ContainerFacts:
    """Parse the records; a payload kind's last header field is the byte length of the raw bytes that follow."""
    data = output.encode("utf-8", "surrogateescape")
    facts = ContainerFacts()
    pos = 0
    while pos < len(data):
        end = data.find(b"\n", pos)
        if end < 0:
            end = len(data)
        header = data[pos:end].decode("utf-8", "replace")
        pos = end + 1
        if not header.startswith("@@"):
            continue
        kind, _, rest = header[2:].partition(" ")
        parts = rest.split(" ")
        payload = ""
        if kind in _PAYLOAD_KINDS:
            size = _int(parts.pop()) if parts else -1
            if size < 0:
                continue
            payload = data[pos : pos + size].decode("utf-8", "replace")
            pos += size + 1
        _record(facts, kind, parts, payload)
    return facts


def _record(facts: ContainerFacts, kind: str, parts: list[str], payload: str) -> None:
    if kind == "clock" and parts:
        try:
            facts.clock = float(parts[0].replace(",", "."))
        except ValueError:
            facts.clock = None
    elif kind == "file" and parts:
        facts.files[" ".join(parts)] = payload
    elif kind == "missing" and parts:
        facts.missing.add(" ".join(parts))
    elif kind == "dir" and parts:
        facts.dirs[" ".join(parts)] = [n for n in payload.split("\n") if n]
    elif kind == "proc" and len(parts) >= 2 and parts[0].isdigit():
        facts.processes.append(Process(pid=int(parts[0]), uid=_int(parts[1]), argv=tuple(payload.split("\n"))))
    elif kind == "stat" and len(parts) >= 5:
        facts.stats[parts[0]] = FileStat(mode=parts[1], owner=parts[2], group=parts[3], kind=" ".join(parts[4:]))
    elif kind == "user" and len(parts) >= 4:
        facts.users[parts[0]] = (_int(parts[1]), _int(parts[2]), tuple(g for g in parts[3].split(",") if g))
    elif kind == "bin" and len(parts) >= 2:
        facts.binaries[parts[0]] = parts[1]
    elif kind == "dns" and len(parts) >= 2:
        facts.dns[parts[0]] = (_int(parts[1]), payload.strip())
    elif kind == "tcp" and len(parts) >= 3:
        facts.tcp[(parts[0], _int(parts[1]))] = _int(parts[2])
        if len(parts) >= 4 and parts[3].isdigit():
            facts.net_ms[(parts[0], _int(parts[1]))] = float(parts[3])
    elif kind == "exists" and len(parts) >= 2:
        facts.exists[" ".join(parts[1:])] = parts[0] == "1"
    elif kind == "done":
        facts.complete = True


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return -1


@dataclass(frozen=True)
class SaslauthdOptions:
    """saslauthd's command line, parsed with its own getopt string."""

    mechanism: str = ""
    conf_path: str = "/etc/saslauthd.conf"  # the compiled-in default of -O for -a ldap
    cache: bool = False
    run_dir: str = DEFAULT_RUN_DIR
    workers: str = ""
    debug: bool = False
    append_realm: bool = False

    @property
    def socket(self) -> str:
        """The mux socket path (libsasl's default when xmpp.conf sets no saslauthd_path)."""
        return self.run_dir.rstrip("/") + "/mux"

    def flags(self) -> str:
        """A short, readable summary."""
        parts = [f"-a {self.mechanism or '?'}", f"-O {self.conf_path}", f"-m {self.run_dir}"]
        if self.workers:
            parts.append(f"-n {self.workers}")
        if self.cache:
            parts.append("-c")
        if self.debug:
            parts.append("-d")
        if self.append_realm:
            parts.append("-r")
        return " ".join(parts)


def saslauthd_options(argv: Sequence[str]) -> SaslauthdOptions:
    """Parse saslauthd's argv with getopt("a:cdhO:lm:n:rs:t:vV") semantics."""
    with_arg = {
        c for i, c in enumerate(SASLAUTHD_GETOPT) if i + 1 < len(SASLAUTHD_GETOPT) and SASLAUTHD_GETOPT[i + 1] == ":"
    }
    seen: dict[str, str] = {}
    args = list(argv[1:])
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--" or not arg.startswith("-") or arg == "-":
            break
        j = 1
        while j < len(arg):
            opt = arg[j]
            if opt in with_arg:
                value = arg[j + 1 :] if j + 1 < len(arg) else (args[i + 1] if i + 1 < len(args) else "")
                if j + 1 >= len(arg):
                    i += 1
                seen[opt] = value
                break
            seen[opt] = ""
            j += 1
        i += 1
    return SaslauthdOptions(
        mechanism=seen.get("a", ""),
        conf_path=seen.get("O", "/etc/saslauthd.conf"),
        cache="c" in seen,
        run_dir=seen.get("m", DEFAULT_RUN_DIR) or DEFAULT_RUN_DIR,
        workers=seen.get("n", ""),
        debug="d" in seen,
        append_realm="r" in seen,
    )
