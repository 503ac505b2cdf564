"""The "Debian packages on this host" deployment: the same session the container steps use, with local files
and local processes instead of the docker SDK.

`HostSession` is a `ContainerSession` whose locating, reading and executing are local: the facts script
(`jitsi/container/facts.sh`, the one collector of file/process facts) runs with this host's bash; commands run
with subprocess (as prosody's user through setpriv when ldapcheck runs as root); the "environment" is what the
files amount to (`site.Site.env`), so every step that judges a docker deployment's environment judges this one.
Reproduce lines and fixes are the host's commands: prosodyctl, systemctl, paths under /etc.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ldapcheck.adapters.docker import ExecResult
from ldapcheck.core import catalogue as ids
from ldapcheck.core.secrets import remember
from ldapcheck.core.step import CheckFailed
from ldapcheck.jitsi.container import facts as factsmod
from ldapcheck.jitsi.container.session import ContainerSession
from ldapcheck.jitsi.deploy import host as layoutmod
from ldapcheck.jitsi.deploy.site import Site, read_site

OUTPUT_LIMIT = 4 << 20  # a command's output kept (facts of a host are a few hundred KiB at most)
# More variables a mode reads from the host's files (LDAP: saslauthd.conf; jwt: the VirtualHost's app_id …).
EnvReader = Callable[[layoutmod.HostLayout, Site], Mapping[str, str]]


@dataclass(frozen=True)
class LocalHost:
    """What `locate` finds: this machine (stands where a container stands for the docker kind)."""

    name: str
    evidence: tuple[str, ...]


@dataclass
class HostSession(ContainerSession):
    """A ContainerSession on this host's Debian-package layout (under `layout.root`)."""

    layout: layoutmod.HostLayout = field(default_factory=layoutmod.HostLayout)
    env_readers: list[EnvReader] = field(default_factory=list)
    kind = "host"

    # --- commands an admin of this host types --------------------------------------------------
    def shell(self, command: str, *, interactive: bool = False, stdin: bool = False, user: str = "") -> str:
        return f"sudo {'-u ' + user + ' ' if user else ''}{command}"

    def prosodyctl(self, args: str, *, config: str | None = None) -> str:
        return f"sudo prosodyctl {args}"  # Debian's prosodyctl reads /etc/prosody/prosody.cfg.lua itself

    def apply_hint(self, service: str = "prosody") -> str:
        return f"sudo systemctl restart {service}"

    def restart_hint(self, service: str = "prosody") -> str:
        return f"sudo systemctl restart {service}"

    def logs_command(self, service: str = "prosody") -> str:
        if systemd_running(self.layout):
            return f"sudo journalctl -u {service} -n 50 --no-pager"
        return "sudo tail -n 50 " + (
            "/var/log/auth.log" if service == "saslauthd" else " ".join(layoutmod.PROSODY_LOGS)
        )

    def config_place(self, key: str) -> str:
        return layoutmod.config_place(key, self.site().domain or "<domain>")

    @property
    def name(self) -> str:
        return f"this host ({socket.gethostname()})"

    # --- locating ------------------------------------------------------------------------------
    def _locate(self) -> LocalHost:  # type: ignore[override]
        layout = self.layout
        if not layout.is_debian_prosody():
            raise CheckFailed(
                ids.HOST_NO_PROSODY,
                f"no Debian-package prosody here: {layoutmod.PROSODY_CFG} with {layoutmod.CONF_D} or "
                f"{layoutmod.CONF_AVAIL} is missing",
                hint="Run ldapcheck on the Jitsi server itself (as root, to read prosody's files), or use "
                "--deployment docker for docker-jitsi-meet.",
                reproduce=f"ls -l {layoutmod.PROSODY_DIR}",
            )
        evidence = [layoutmod.PROSODY_CFG]
        evidence += [d for d in (layoutmod.CONF_D, layoutmod.CONF_AVAIL) if layout.path(d).is_dir()]
        host = LocalHost(name=self.name, evidence=tuple(evidence))
        self.container = host
        return host

    def site(self) -> Site:
        """The files' view of the site (read once; the secrets in its files registered for masking at once)."""

        def read() -> Site:
            site = read_site(self.layout)
            texts = [site.jicofo_text, site.web.text if site.web is not None else ""]
            if site.prosody is not None:
                texts += list(site.prosody.texts.values())
            # conf.avail's files too: host.conf_links reads those prosody does not load
            names = self.layout.listdir(layoutmod.CONF_AVAIL)
            texts += [self.layout.read(f"{layoutmod.CONF_AVAIL}/{n}") or "" for n in names if n.endswith(".cfg.lua")]
            self.register_secrets(*texts)
            return site

        return self.memo("site", read)

    def register_secrets(self, *texts: str) -> None:
        """Mask in every output (reports, --debug logs) the secrets these host files hold, as soon as read: a
        package install keeps in files what docker-jitsi-meet keeps in the environment."""
        found = set().union(*(layoutmod.file_secrets(t) for t in texts if t))
        self.secrets.update(found)
        remember(*found)

    def env(self) -> dict[str, str]:
        """What the files amount to, in docker-jitsi-meet's variable names (secrets registered for masking)."""

        def build() -> dict[str, str]:
            site = self.site()
            env = site.env()
            for reader in self.env_readers:
                env.update(reader(self.layout, site))
            return env

        env = dict(self.memo("env", build))
        values = [env[k] for k in self.options.secret_keys if env.get(k)]
        self.secrets.update(values)
        remember(*values)
        return env

    def generation(self) -> tuple[str, list[str]]:
        return "debian", [f"prosody config at {layoutmod.PROSODY_CFG} (Debian packages)"]

    def live_config(self) -> str:
        return layoutmod.PROSODY_CFG  # Debian's prosody and prosodyctl read it without --config

    def prosody_files(self) -> tuple[str, list[str], str] | None:
        files = self.site().prosody
        if files is None:
            return None
        return files.path, list(files.included), files.text()

    def jicofo_conf(self) -> tuple[str, str] | None:
        site = self.site()
        return (site.jicofo_path, site.jicofo_text) if site.jicofo_path else None

    def web_config(self) -> tuple[str, str] | None:
        web = self.site().web
        return (web.path, web.text) if web is not None else None

    # --- running -------------------------------------------------------------------------------
    def _run_facts(self) -> factsmod.ContainerFacts:
        parsed = self._collect_facts()
        self.register_secrets(*parsed.files.values())  # saslauthd.conf's ldap_bind_pw, prosody's config
        return parsed

    def _collect_facts(self) -> factsmod.ContainerFacts:
        """Run the facts script with this host's bash (the same script the docker kind runs in the container)."""
        args: list[str] = []
        for host, port in self.targets():
            args += [host, str(port)]
        before = time.time()
        timeout = self.options.timeout
        result = _run(
            ["bash", "-c", factsmod.script(), "ldapcheck", *args],
            stdin=None,
            timeout=factsmod.deadline(timeout),
            environment=factsmod.net_environment(timeout),
        )
        parsed = factsmod.parse(result.stdout)
        parsed.host_window = (before, time.time())
        if not parsed.complete:
            raise CheckFailed(
                ids.DOCKER_EXEC,
                f"could not read this host's files (bash exited {result.exit_code}: "
                f"{result.stderr.strip()[:200] or 'no output'})",
                hint="Run ldapcheck as root on the Jitsi host (prosody's files and /proc need it).",
            )
        return parsed

    def exec(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None = None,
        user: str = "",
        environment: Mapping[str, str] | None = None,
        timeout: float = 15.0,
    ) -> ExecResult:
        """Run `argv` here, as `user` when ldapcheck runs as root (secrets only on `stdin`)."""
        return _run([*_as_user(user), *argv], stdin=stdin, timeout=timeout, environment=environment)

    def followup(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes,
        user: str,
        environment: Mapping[str, str] | None = None,
        timeout: float = 15.0,
    ) -> ExecResult:
        return self.exec(argv, stdin=stdin, user=user, environment=environment, timeout=timeout)

    def close(self) -> None:
        self._join()

    def started_at(self) -> float | None:
        """When the running prosody started: its first process's start in /proc (boot time + start ticks)."""
        try:
            procs = self.facts().prosody()
        except CheckFailed:
            return None
        stat = self.layout.read(f"/proc/{procs[0].pid}/stat") if procs else None
        boot = self.layout.read("/proc/stat")
        if not stat or not boot or ")" not in stat:
            return None
        fields = stat.rsplit(")", 1)[1].split()  # field 3 (state) onwards: the command may hold spaces
        btime = next((line.split()[1] for line in boot.splitlines() if line.startswith("btime ")), None)
        if len(fields) < 20 or btime is None or not fields[19].isdigit() or not btime.isdigit():
            return None
        return int(btime) + int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: starttime, in clock ticks

    def logs(self, *, since: float, tail: int = 400) -> str:
        """prosody's and saslauthd's journal since `since` (systemd), else the end of prosody's log files, from
        the first line stamped `since` or later (prosody's `%b %d %H:%M:%S` stamps; lines without one follow
        the line before them; a file whose lines carry no such stamp is taken whole)."""
        if systemd_running(self.layout) and shutil.which("journalctl"):
            result = _run(
                [
                    "journalctl",
                    "--no-pager",
                    "-q",
                    "-o",
                    "short",
                    "-u",
                    "prosody",
                    "-u",
                    "saslauthd",
                    "--since",
                    f"@{int(since) - 1}",
                    "-n",
                    str(tail),
                ],
                stdin=None,
                timeout=10,
            )
            return result.stdout
        lines: list[str] = []
        for path in layoutmod.PROSODY_LOGS:
            lines += since_stamp(self.layout.tail(path, lines=tail) or [], since)
        return "\n".join(lines)


def since_stamp(lines: list[str], since: float) -> list[str]:
    """The log lines from the first one stamped at `since` or later (local time, this year or the last)."""
    now = time.time()
    keep: list[str] = []
    stamped = taking = False
    for line in lines:
        moment = _stamp(line[:15], now)
        if moment is not None:
            stamped = True
            taking = moment >= int(since) - 1
        if taking:
            keep.append(line)
    return keep if stamped else lines


def _stamp(text: str, now: float) -> float | None:
    try:
        moment = datetime.strptime(f"{datetime.fromtimestamp(now).year} {text}", "%Y %b %d %H:%M:%S").timestamp()
    except ValueError:
        return None
    if moment > now + 86400:  # "Dec 31" read in January: last year's
        moment = datetime.strptime(f"{datetime.fromtimestamp(now).year - 1} {text}", "%Y %b %d %H:%M:%S").timestamp()
    return moment


def host_session(ctx: Any) -> HostSession:
    """The host session of a step's context (the host's own steps run only on this kind)."""
    session = ctx.session
    assert isinstance(session, HostSession)
    return session


def systemd_running(layout: layoutmod.HostLayout) -> bool:
    """Whether systemd is this host's init (its runtime directory exists), as systemctl itself tests."""
    return layout.path("/run/systemd/system").is_dir()


def _as_user(user: str) -> list[str]:
    if not user or user in ("0", "root") or os.geteuid() != 0:
        return []
    try:
        entry = pwd.getpwnam(user) if not user.isdigit() else pwd.getpwuid(int(user))
    except KeyError:
        return []
    # util-linux setpriv: no PAM session, no shell; the target's supplementary groups (sasl) come along.
    return ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--init-groups", "--"]


def _run(
    argv: Sequence[str],
    *,
    stdin: bytes | None,
    timeout: float,
    environment: Mapping[str, str] | None = None,
) -> ExecResult:
    """Run `argv` with a deadline, keeping at most OUTPUT_LIMIT bytes of each stream (a runaway command's output is
    read and dropped, never held: `subprocess.run` would hold all of it before we could cut it)."""
    env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "LC_ALL": "C", **(environment or {})}
    try:
        proc = subprocess.Popen(
            list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
    except OSError as exc:
        return ExecResult(exit_code=127, stdout="", stderr=f"{argv[0]}: {exc.strerror}")
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    kept: dict[int, bytearray] = {1: bytearray(), 2: bytearray()}

    def drain(stream: Any, into: bytearray) -> None:
        while chunk := stream.read1(65536):
            if len(into) < OUTPUT_LIMIT:
                into += chunk[: OUTPUT_LIMIT - len(into)]

    readers = [
        threading.Thread(target=drain, args=(proc.stdout, kept[1]), daemon=True),
        threading.Thread(target=drain, args=(proc.stderr, kept[2]), daemon=True),
    ]

    # stdin is written from a thread too: a command that never reads a large stdin must not block us.
    def feed(pipe: Any, data: bytes) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            pipe.write(data)
        with contextlib.suppress(BrokenPipeError, OSError):
            pipe.close()

    threads = [*readers, threading.Thread(target=feed, args=(proc.stdin, stdin or b""), daemon=True)]
    for thread in threads:
        thread.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return ExecResult(exit_code=124, stdout="", stderr=f"{argv[0]}: no answer within {timeout:.0f} s")
    finally:
        for reader in readers:
            reader.join(timeout=1.0)  # a grandchild holding the pipes open must not hold us
    return ExecResult(
        exit_code=proc.returncode,
        stdout=bytes(kept[1]).decode("utf-8", "surrogateescape"),
        stderr=bytes(kept[2]).decode("utf-8", "replace"),
    )
