"""What the ldapsearch benches share: tools, labs, slapd's CPU, interleaved runs, the summary and the README table.

Each peer runs as a child process; per run we record its wall time, its CPU (wait4: the whole process tree, so a
pipeline counts bash, ldapsearch, grep and sort), its peak RSS (GNU time: the largest process of the tree), slapd's
CPU (utime+stime of the container's slapd from /proc/<pid>/stat before and after) and what everything else on the
machine used meanwhile (busy time from /proc/stat minus slapd and the peer): a bench on a shared machine says when
its figures cannot be trusted.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
CPUS = os.cpu_count() or 1
OTHER_CPU_LIMIT = 0.5  # other processes' CPU during a run, in cores: above it the run is flagged
README = Path(__file__).with_name("README.md")


TIME = "/usr/bin/time"


def ensure_tools() -> None:
    """ldapsearch (ldap-utils) and GNU time on a fresh machine: the benches run as root, apt-get installs them.

    GNU time measures peak RSS: wait4() from this process would report at least this (Python) process's own RSS,
    which a child inherits at fork and keeps in its high-water mark across exec.
    """
    missing = [pkg for tool, pkg in (("ldapsearch", "ldap-utils"), (TIME, "time")) if not shutil.which(tool)]
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit(f"missing: install {' '.join(missing)} (apt-get install {' '.join(missing)}) and rerun")
    print(f"installing {' '.join(missing)} with apt-get", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], check=True, env=env)
    if not (shutil.which("ldapsearch") and shutil.which(TIME)):
        raise SystemExit(f"apt-get install {' '.join(missing)} did not provide ldapsearch and {TIME}")


@dataclass(frozen=True)
class Lab:
    """A directory under test, bound as its rootdn (no size limit): `service_env` is saslauthd's (limit 500)."""

    users: int
    port: int
    admin_dn: str
    base: str
    container: str
    admin_env: Path
    service_env: Path
    admin_pw_file: Path
    ready_seconds: float = 0.0
    reused: bool = False

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"


def bench_arguments(description: str | None, minutes_for_1m: int) -> argparse.Namespace:
    """The options every directory bench takes (sizes, runs, a running lab, whether to rewrite the README)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, action="append", help="directory size(s); default 10000 and 100000")
    parser.add_argument("--with-1m", action="store_true", help=f"also 1,000,000 users (~{minutes_for_1m} more minutes)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--lab-env",
        action="append",
        help="also measure a running lab (its .env with LAB_* values: port, admin, LAB_PROJECT or LAB_CONTAINER)",
    )
    parser.add_argument("--no-readme", action="store_true", help="print only; leave bench/README.md as it is")
    return parser.parse_args()


@contextlib.contextmanager
def lab(users: int, workdir: Path, lab_env: str | None = None) -> Iterator[Lab]:
    """A lab OpenLDAP seeded with `users` generated users (removed afterwards), or a running one from its lab .env."""
    from ldapcheck.lab.containers import LabPaths, container_name, openldap_plan, run_container, write_private
    from ldapcheck.lab.engine import docker_client
    from ldapcheck.lab.envfile import read_env_file, write_env_file
    from ldapcheck.lab.manager import prepare_files
    from ldapcheck.lab.ready import wait_for_bind
    from ldapcheck.lab.spec import new_spec

    workdir.mkdir(parents=True, exist_ok=True)
    if lab_env:
        values = read_env_file(Path(lab_env))
        jitsi = {k: v for k, v in values.items() if not k.startswith("LAB_")}
        admin_env, service_env = workdir / f"admin-{users}.env", workdir / f"service-{users}.env"
        write_env_file(
            admin_env, {**jitsi, "LDAP_BINDDN": values["LAB_ADMIN_DN"], "LDAP_BINDPW": values["LAB_ADMIN_PASSWORD"]}
        )
        write_env_file(service_env, jitsi)
        pw = workdir / f"admin-{users}.pw"
        write_private(pw, values["LAB_ADMIN_PASSWORD"])
        name = values.get("LAB_CONTAINER") or container_name(values["LAB_PROJECT"], "openldap")
        yield Lab(users, int(values["LAB_LDAP_PORT"]), values["LAB_ADMIN_DN"], values["LDAP_BASE"], name,
                  admin_env, service_env, pw, reused=True)  # fmt: skip
        return
    spec = new_spec(f"ldapcheck-bench-{users}-{secrets.token_hex(3)}", users)
    paths = LabPaths(workdir / f"lab-{users}")
    start = time.monotonic()
    prepare_files(spec, paths)
    container = run_container(docker_client(), openldap_plan(spec, paths))
    try:
        wait_for_bind(container, spec.ldap_port, spec.admin_dn, spec.admin_password, timeout=1800)
        admin_env, service_env = workdir / f"admin-{users}.env", workdir / f"service-{users}.env"
        write_env_file(
            admin_env, {**spec.jitsi_env(), "LDAP_BINDDN": spec.admin_dn, "LDAP_BINDPW": spec.admin_password}
        )
        write_env_file(service_env, spec.jitsi_env())
        pw = workdir / f"admin-{users}.pw"
        write_private(pw, spec.admin_password)  # ldapsearch -y reads the whole file: no newline
        yield Lab(users, spec.ldap_port, spec.admin_dn, spec.suffix, container.name or "", admin_env, service_env, pw,
                  ready_seconds=time.monotonic() - start)  # fmt: skip
    finally:
        container.remove(force=True)


def slapd_pid(container: str) -> int:
    """The host pid of the container's slapd (`docker top`)."""
    out = subprocess.run(
        ["docker", "top", container, "-eo", "pid,comm"], capture_output=True, text=True, check=True
    ).stdout
    pids = [int(row[0]) for row in (line.split() for line in out.splitlines()[1:]) if row[1:] == ["slapd"]]
    if len(pids) != 1:
        raise SystemExit(f"expected one slapd in {container}, found {pids}")
    return pids[0]


def cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_busy() -> float:
    """CPU seconds the whole machine spent outside idle and iowait."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / TICK


def loadavg() -> tuple[float, float, float]:
    one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    return float(one), float(five), float(fifteen)


@dataclass(frozen=True)
class Sample:
    wall: float
    slapd: float  # slapd's CPU seconds during the run
    client: float  # the peer's CPU seconds (its whole process tree)
    rss_kb: int  # the peer's peak RSS (the largest process of its tree)
    other: float  # CPU seconds used by everything else on the machine meanwhile
    load1: float
    stdout: str


def run_once(argv: list[str], slapd: int, env: dict[str, str]) -> Sample:
    """One run of `argv` (stdout captured to a file, stderr kept for errors)."""
    load1 = loadavg()[0]
    with (
        open(os.devnull, "rb") as stdin,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r", suffix=".time") as rss,
    ):
        busy0, slapd0, t0 = machine_busy(), cpu_seconds(slapd), time.monotonic()
        proc = subprocess.Popen(
            [TIME, "-q", "-o", rss.name, "-f", "%M", *argv], stdin=stdin, stdout=out, stderr=err, env=env
        )
        _, status, usage = os.wait4(proc.pid, 0)
        t1, slapd1, busy1 = time.monotonic(), cpu_seconds(slapd), machine_busy()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
        rss_kb = int(rss.read().split()[-1])
    if proc.returncode not in (0, 1):  # validate exits 1 when it finds problems (the seed has some on purpose)
        raise SystemExit(f"{argv[:3]} failed ({proc.returncode}): {stderr[-600:]}")
    client = usage.ru_utime + usage.ru_stime
    other = max(0.0, (busy1 - busy0) - (slapd1 - slapd0) - client)
    return Sample(t1 - t0, slapd1 - slapd0, client, rss_kb, other, load1, stdout)


@dataclass
class Peer:
    """One command measured against the others; `check` turns its stdout into the value all must agree on."""

    name: str
    argv: list[str]
    check: Callable[[str], object]
    samples: list[Sample] = field(default_factory=list)
    values: set[object] = field(default_factory=set)

    def median(self, what: str) -> float:
        return statistics.median(getattr(s, what) for s in self.samples)

    def spread(self, what: str) -> str:
        v = [getattr(s, what) for s in self.samples]
        return f"{min(v):.2f} / {statistics.median(v):.2f} / {max(v):.2f}"


def measure(peers: list[Peer], slapd: int, runs: int, env: dict[str, str]) -> list[str]:
    """Warm-up, then `runs` rounds with every peer once per round (order rotated); returns the warnings."""
    for peer in peers:  # the server's caches warm, and every peer's output is checked once more below
        peer.values.add(peer.check(run_once(peer.argv, slapd, env).stdout))
    for i in range(runs):
        for peer in peers[i % len(peers) :] + peers[: i % len(peers)]:
            sample = run_once(peer.argv, slapd, env)
            peer.samples.append(sample)
            peer.values.add(peer.check(sample.stdout))
    warnings = []
    busy = [(p.name, s) for p in peers for s in p.samples if s.other / s.wall > OTHER_CPU_LIMIT]
    if busy:
        worst = max(busy, key=lambda x: x[1].other / x[1].wall)
        warnings.append(
            f"{len(busy)} of {sum(len(p.samples) for p in peers)} runs had other processes using more than "
            f"{OTHER_CPU_LIMIT} core (worst: {worst[1].other / worst[1].wall:.1f} cores during {worst[0]}): "
            "wall times are not to be trusted; slapd's CPU is"
        )
    loads = [s.load1 for p in peers for s in p.samples]
    if max(loads) > CPUS:
        warnings.append(f"load average up to {max(loads):.2f} on {CPUS} cores: the machine was busy")
    for peer in peers:
        if len(peer.values) != 1:
            warnings.append(f"{peer.name} gave different results across runs: {sorted(map(str, peer.values))}")
    return warnings


def report(title: str, peers: list[Peer], ours: int, warnings: list[str]) -> list[str]:
    """Print the figures of one size; returns its Markdown table rows."""
    mine = peers[ours]
    print(f"\n## {title}")
    print(f"  {'':<44} {'wall s min/med/max':>20} {'slapd CPU s min/med/max':>24} {'client CPU':>10} {'RSS MB':>7}")
    rows = []
    for peer in peers:
        wall_ratio = mine.median("wall") / peer.median("wall")
        slapd_ratio = mine.median("slapd") / peer.median("slapd")
        ratio = "" if peer is mine else f"  ours/this: wall {wall_ratio:.2f}x, slapd {slapd_ratio:.2f}x"
        rss = max(s.rss_kb for s in peer.samples) / 1024
        print(
            f"  {peer.name:<44} {peer.spread('wall'):>20} {peer.spread('slapd'):>24} "
            f"{peer.median('client'):>10.2f} {rss:>7.1f}{ratio}"
        )
        cell = peer.name.replace("|", "\\|")  # a pipe inside a Markdown table cell, even in backticks
        rows.append(
            f"| {title} | `{cell}` | {peer.spread('wall')} | {peer.spread('slapd')} | {peer.median('client'):.2f} "
            f"| {rss:.1f} | {'-' if peer is mine else f'{wall_ratio:.2f}x'} "
            f"| {'-' if peer is mine else f'{slapd_ratio:.2f}x'} | {next(iter(sorted(map(str, peer.values))))} |"
        )
    for w in warnings:
        print(f"  WARNING: {w}")
    return rows


def machine_line(load_before: tuple[float, float, float], runs: int) -> str:
    load = loadavg()
    return (
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {CPUS} cores, Linux {platform.release()}, "
        f"Python {platform.python_version()}, {runs} runs per peer (interleaved, after one warm-up run each); "
        f"load average before {load_before[0]:.2f} / {load_before[1]:.2f} / {load_before[2]:.2f}, "
        f"after {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"
    )


HEADER = (
    "| directory | command | wall s min / median / max | slapd CPU s min / median / max | client CPU s (median) "
    "| peak RSS MB | ratio wall (ours / this) | ratio slapd CPU | result |\n|---|---|---:|---:|---:|---:|---:|---:|---|"
)


def update_readme(section: str, lines: list[str]) -> None:
    """Replace the text between `<!-- section:start -->` and `<!-- section:end -->` in bench/README.md."""
    start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
    text = README.read_text(encoding="utf-8")
    if start not in text or end not in text:
        text = text.rstrip("\n") + f"\n\n{start}\n{end}\n"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    README.write_text(head + start + "\n" + "\n".join(lines) + "\n" + end + tail, encoding="utf-8")
    print(f"\n{README} updated ({section})", file=sys.stderr)
