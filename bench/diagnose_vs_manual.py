"""Benchmark: a full `ldapcheck diagnose` (host + container steps) of a healthy login, this checkout against a
baseline revision (default `main`), and against the manual sequence an admin types.

Manual peer, for the same facts, run back to back:
  1. `ldapsearch -x -H URL -D BINDDN -y pwfile -b BASE -E pr=1000/noprompt '(uid=*)' 1.1 | grep -c '^dn:'`
     (service bind + count),
  2. `docker exec PROSODY cat /run/saslauthd.conf`,
  3. `docker exec -i PROSODY bash -c 'testsaslauthd -u alice -p "$(cat)" -s xmpp -r meet.jitsi'`
     (the password on stdin of the exec: the admin would type it on the command line).
Targets (speed issue): diagnose <= 2.5 x that sequence, and < 0.5 s.

Starts a dedicated lab (OpenLDAP with N generated users + prosody/saslauthd) and removes it at the end; the
baseline is `git archive REV` of this repository, run with the same interpreter (`PYTHONPATH`). Every round
runs both builds (in alternating order) and the manual sequences once; the docker execs of one diagnose of each
build are counted from the engine's events. Passwords travel by stdin or 0600 files, never argv of a host process.
Installs ldap-utils (ldapsearch) with apt-get when missing (harness.ensure_tools). Rewrites its table in
bench/README.md (`--no-readme` to skip).

    .venv/bin/python bench/diagnose_vs_manual.py [--runs 10] [--users 1200] [--baseline main]
        [--mode ldap --mode internal --mode internal+guests --mode jwt]

Other modes (`--mode internal|internal+guests|jwt`, see modes_manual.py) start that mode's lab (prosody, web,
jicofo) and measure diagnose against that mode's manual sequence. Every mode, ldap included, records peak RSS
(GNU time: the largest process of each command's tree).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness import CPUS, TIME, ensure_tools, loadavg, machine_line, update_readme

from ldapcheck.lab.containers import LabPaths, write_private
from ldapcheck.lab.engine import docker_client
from ldapcheck.lab.envfile import write_env_file
from ldapcheck.lab.images import ensure_images
from ldapcheck.lab.manager import prepare_files, start_lab
from ldapcheck.lab.spec import LabSpec, new_spec

REPO = Path(__file__).resolve().parent.parent
TARGET_RATIO = 2.5
TARGET_SECONDS = 0.5


@dataclass
class Peer:
    name: str
    argv: list[str]
    stdin: str = ""
    env: dict[str, str] | None = None
    times: list[float] = field(default_factory=list)
    label: str = ""
    rss_kb: list[int] = field(default_factory=list)  # peak RSS of each timed run (GNU time: its largest process)

    def run(self) -> tuple[float, str, int]:
        start = time.perf_counter()
        # From a neutral directory: `python -m` puts the working directory first on sys.path, which would
        # shadow the baseline's PYTHONPATH with this checkout. GNU time adds a fork+exec, as in the other modes'
        # table (modes_manual.py), to every peer alike.
        with tempfile.NamedTemporaryFile("r", suffix=".time") as rss:
            proc = subprocess.run(
                [TIME, "-q", "-o", rss.name, "-f", "%M", *self.argv], input=self.stdin, capture_output=True,
                text=True, env=self.env, timeout=120, check=False, cwd=tempfile.gettempdir(),
            )  # fmt: skip
            wall = time.perf_counter() - start
            text = rss.read().split()
        if proc.returncode != 0:
            print(proc.stdout[-3000:], proc.stderr[-3000:], file=sys.stderr)
            raise SystemExit(f"{self.name} failed (exit {proc.returncode})")
        return wall, proc.stdout, int(text[-1]) if text and text[-1].isdigit() else 0

    def timed(self) -> str:
        wall, out, rss_kb = self.run()
        self.times.append(wall)
        self.rss_kb.append(rss_kb)
        return out

    def rss_mb(self) -> float:
        """The largest peak RSS of the timed runs, in MB."""
        return max(self.rss_kb, default=0) / 1024

    def span(self) -> str:
        t = self.times
        return f"{min(t):.3f} / {statistics.median(t):.3f} / {max(t):.3f}"


def baseline_tree(rev: str, workdir: Path) -> Path:
    """`git archive REV` of this repository, importable with PYTHONPATH (templates mapped as in the wheel)."""
    tree = workdir / f"baseline-{rev.replace('/', '_')}"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    if not (tree / "ldapcheck" / "templates").exists():
        (tree / "ldapcheck" / "templates").symlink_to(tree / "templates")
    compiled(tree)
    return tree


def compiled(tree: Path) -> None:
    """Byte-compile `tree`'s package: with PYTHONDONTWRITEBYTECODE set, a build without .pyc files would compile
    every module on every run (tens of ms) and lose to one that has them."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(tree / "ldapcheck")], check=True, stdout=subprocess.DEVNULL
    )


def count_execs(peer: Peer, container_id: str) -> int:
    """The `docker exec`s one run of `peer` asked the engine for (its exec_create events)."""
    # The window below reaches 0.5 s back (the engine's clock): let the execs of the runs before fall out of it
    # (the last round's manual commands were counted as this build's second exec).
    time.sleep(1.0)
    since = time.time()
    peer.run()
    until = time.time() + 0.5  # the engine's event clock has second resolution
    events = subprocess.run(
        [
            "docker",
            "events",
            "--since",
            f"{since - 0.5:.3f}",
            "--until",
            f"{until:.3f}",
            "--filter",
            f"container={container_id}",
            "--filter",
            "event=exec_create",
            "--format",
            "{{.TimeNano}}",  # one line per event (the Action carries the command, newlines and all)
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    return len(events.splitlines())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--users", type=int, default=1200)
    parser.add_argument("--baseline", default="main", help="git revision to compare with ('' for none)")
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite bench/README.md")
    parser.add_argument(
        "--mode",
        action="append",
        choices=("ldap", "internal", "internal+guests", "jwt"),
        help="lab mode(s) to measure (default ldap; other modes: modes_manual.py's sequences)",
    )
    args = parser.parse_args()
    ensure_tools()
    others = [m for m in args.mode or () if m != "ldap"]
    if others:
        from modes_manual import main as modes_main

        modes_main(others, args.runs, not args.no_readme)
        if "ldap" not in args.mode:
            return 0
    compiled(REPO)
    client = docker_client()
    ensure_images(client)
    spec = new_spec(f"ldapcheck-bench-{secrets.token_hex(3)}", args.users)
    with tempfile.TemporaryDirectory(prefix="ldapcheck-bench-") as tmp:
        baseline = baseline_tree(args.baseline, Path(tmp)) if args.baseline else None
        paths = LabPaths(Path(tmp) / "lab")
        prepare_files(spec, paths)
        openldap, prosody = start_lab(client, spec, paths)
        try:
            env_file = Path(tmp) / ".env"
            write_env_file(env_file, spec.lab_env(str(paths.ca_cert), paths.compose_values()))
            pwfile = Path(tmp) / "bindpw"
            write_private(pwfile, spec.bind_password)
            return run(args, spec, str(prosody.name), str(prosody.id), env_file, pwfile, baseline)
        finally:
            openldap.remove(force=True)
            prosody.remove(force=True)


def run(
    args: argparse.Namespace,
    spec: LabSpec,
    prosody: str,
    prosody_id: str,
    env_file: Path,
    pwfile: Path,
    baseline: Path | None,
) -> int:
    login = "alice"
    password = spec.users[login]
    ldap_url, bind_dn, base, realm = spec.ldap_url, spec.bind_dn, spec.suffix, spec.xmpp_domain
    env = {k: v for k, v in os.environ.items() if k not in ("LDAPCHECK_PASSWORD", "PYTHONPATH")}
    cli = [sys.executable, "-m", "ldapcheck"]  # both builds started the same way
    diagnose = ["diagnose", "--env-file", str(env_file), "--user", login, "--password-stdin", "--container", prosody]
    # This checkout on PYTHONPATH: the venv's editable install may point at another worktree.
    mine = {**env, "PYTHONPATH": str(REPO)}
    ours = Peer("diagnose (this checkout)", [*cli, *diagnose, "--json"], password + "\n", mine, label="this checkout")
    builds = [ours]
    here = Peer("where", [sys.executable, "-c", "import ldapcheck; print(ldapcheck.__file__)"], env=mine)
    if not here.run()[1].startswith(str(REPO)):
        raise SystemExit(f"this checkout's run imports {here.run()[1].strip()}, not {REPO}")
    if baseline is not None:
        old_env = {**env, "PYTHONPATH": str(baseline)}
        where = Peer("where", [sys.executable, "-c", "import ldapcheck; print(ldapcheck.__file__)"], env=old_env)
        if not where.run()[1].startswith(str(baseline)):  # the baseline must not run this checkout
            raise SystemExit(f"the baseline imports {where.run()[1].strip()}, not {baseline}")
        old = [*cli, *diagnose, "--json"]
        builds.append(Peer(f"diagnose ({args.baseline})", old, password + "\n", old_env, label=f"`{args.baseline}`"))
    count = (
        f"ldapsearch -x -H {ldap_url} -D '{bind_dn}' -y {pwfile} -b '{base}' -E pr=1000/noprompt '(uid=*)' 1.1 "
        "| grep -c '^dn:'"
    )
    testsasl = f'testsaslauthd -u {login} -p "$(cat)" -s xmpp -r {realm}'
    manual = [
        Peer("ldapsearch bind + count", ["bash", "-c", count]),
        Peer("docker exec cat saslauthd.conf", ["docker", "exec", prosody, "cat", "/run/saslauthd.conf"]),
        Peer("docker exec testsaslauthd", ["docker", "exec", "-i", prosody, "bash", "-c", testsasl], password),
    ]
    # The commands an admin needs for the facts diagnose reports beyond those three (user search and bind, the
    # container's env, saslauthd's process and socket, xmpp.conf, prosody's VirtualHost, DNS/TCP from inside).
    user_dn = f"uid={login},{spec.users_base}"
    host, port = ldap_url.split("//", 1)[1].rstrip("/").split(":")
    dexec = ["docker", "exec", prosody]
    extra = [
        Peer(
            "ldapsearch user",
            ["ldapsearch", "-x", "-H", ldap_url, "-D", bind_dn, "-y", str(pwfile), "-b", base, f"(uid={login})", "1.1"],
        ),
        Peer(
            "ldapwhoami user bind",
            ["bash", "-c", f"ldapwhoami -x -H {ldap_url} -D '{user_dn}' -y /dev/stdin"],
            password,
        ),
        Peer("docker inspect env", ["docker", "inspect", "-f", "{{json .Config.Env}}", prosody]),
        Peer("docker exec saslauthd cmdline", [*dexec, "bash", "-c", "cat /proc/[0-9]*/cmdline | tr '\\0' ' '"]),
        Peer("docker exec ls mux", [*dexec, "ls", "-l", "/var/run/saslauthd"]),
        Peer("docker exec cat xmpp.conf", [*dexec, "cat", "/etc/sasl/xmpp.conf"]),
        Peer(
            "docker exec grep VirtualHost",
            [*dexec, "grep", "-A3", "VirtualHost", "/run/prosody/config/prosody.cfg.lua"],
        ),
        Peer(
            "docker exec getent + tcp", [*dexec, "bash", "-c", f"getent hosts {host}; exec 3<>/dev/tcp/{host}/{port}"]
        ),
    ]
    host_only = Peer(
        "diagnose --no-container", [*cli, *diagnose[:-2], "--no-container", "--json"], password + "\n", mine
    )
    floor = Peer(
        "interpreter + imports",
        [
            sys.executable,
            "-c",
            "import ldapcheck.cli.app, ldapcheck.commands.diagnose, ldapcheck.adapters.engine",
        ],  # what a diagnose of a local engine imports: no docker SDK (adapters.engine), no ldap3 (ASCII passwords)
        env=mine,
    )
    for peer in [*builds, host_only, floor, *manual]:  # warm-up: page cache, saslauthd's first LDAP connection
        peer.run()
    load_before = loadavg()
    loads: list[float] = []
    manual_times: list[float] = []
    extended_times: list[float] = []
    reports: dict[str, dict[str, object]] = {}
    for i in range(args.runs):
        for peer in builds if i % 2 == 0 else builds[::-1]:
            reports[peer.name] = json.loads(peer.timed())
        total = sum(_timed(p) for p in manual)
        manual_times.append(total)
        extended_times.append(total + sum(_timed(p) for p in extra))
        host_only.timed()
        floor.timed()
        loads.append(loadavg()[0])
    execs = {peer.name: count_execs(peer, prosody_id) for peer in builds}

    m, e = statistics.median(manual_times), statistics.median(extended_times)
    lines = [
        f"Lab: {args.users} generated users, a healthy login (alice); {machine_line(load_before, args.runs)}; "
        f"1-minute load average during the rounds {min(loads):.2f} to {max(loads):.2f} ({CPUS} cores)"
        + (" — BUSY machine: wall times are noisy" if max(loads) > CPUS else "")
        + ".",
        "",
        "| command | docker execs | wall s min / median / max | peak RSS MB | ratio to the manual sequence (medians) |",
        "|---|---:|---:|---:|---:|",
    ]
    for peer in builds:
        d = statistics.median(peer.times)
        lines.append(
            f"| `ldapcheck diagnose`, {peer.label} | {execs[peer.name]} | {peer.span()} | {peer.rss_mb():.1f} | "
            f"{d / m:.2f} |"
        )
    largest = max(p.rss_mb() for p in manual)
    lines.append(f"| manual sequence, 3 commands | 2 | {_span(manual_times)} | {largest:.1f} (largest) | 1.00 |")
    lines += [
        f"| &nbsp;&nbsp;{p.name} | {int('docker exec' in p.name)} | {p.span()} | {p.rss_mb():.1f} | |" for p in manual
    ]
    largest_all = max(p.rss_mb() for p in [*manual, *extra])
    lines.append(
        f"| manual sequence for all the facts diagnose reports, {len(manual) + len(extra)} commands | "
        f"{2 + sum('docker exec' in p.name for p in extra)} | {_span(extended_times)} | {largest_all:.1f} (largest) "
        f"| {e / m:.2f} |"
    )
    lines.append(
        f"| `ldapcheck diagnose --no-container` (this checkout) | 0 | {host_only.span()} | {host_only.rss_mb():.1f} | |"
    )
    lines.append(f"| interpreter + imports (`{floor.argv[-1]}`) | 0 | {floor.span()} | {floor.rss_mb():.1f} | |")
    d = statistics.median(ours.times)
    steps = reports[ours.name].get("steps", [])
    assert isinstance(steps, list)
    container_ms = sum(float(s["duration_ms"]) for s in steps if str(s["id"]).startswith("container."))
    lines += [
        "",
        f"Targets: diagnose <= {TARGET_RATIO} x the manual sequence: {d / m:.2f} x, "
        f"{'met' if d / m <= TARGET_RATIO else 'MISSED'}; diagnose < {TARGET_SECONDS} s: {d:.3f} s, "
        f"{'met' if d < TARGET_SECONDS else 'MISSED'}. Container steps' reported time (last run, this checkout): "
        f"{container_ms:.0f} ms over {sum(1 for s in steps if str(s['id']).startswith('container.'))} steps.",
    ]
    print("\n".join(lines))
    if not args.no_readme:
        update_readme("diagnose", lines)
    return 0


def _timed(peer: Peer) -> float:
    peer.timed()
    return peer.times[-1]


def _span(times: list[float]) -> str:
    return f"{min(times):.3f} / {statistics.median(times):.3f} / {max(times):.3f}"


if __name__ == "__main__":
    sys.exit(main())
