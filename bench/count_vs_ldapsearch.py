"""Benchmark: `ldapcheck count` against `ldapsearch -E pr=1000/noprompt … 1.1 | grep -c '^dn:'` (and ldap3).

Starts a dedicated lab OpenLDAP with N generated users (slapadd at start-up), binds as the rootdn so that no
size limit applies, and runs each counter `--runs` times under `/usr/bin/time` (wall time, peak RSS; for the
pipeline the peak of bash/ldapsearch/grep). Passwords travel by environment or a 0600 file, never argv.

    .venv/bin/python bench/count_vs_ldapsearch.py --users 100000 --users 1000000 --runs 3
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ldapcheck.lab.containers import LabPaths, openldap_plan, run_container
from ldapcheck.lab.engine import docker_client
from ldapcheck.lab.envfile import write_env_file
from ldapcheck.lab.manager import prepare_files
from ldapcheck.lab.ready import wait_for_bind
from ldapcheck.lab.spec import LabSpec, new_spec

VENV_BIN = Path(sys.executable).parent
LDAP3_COUNT = """
import os, sys, ldap3
s = ldap3.Server("127.0.0.1", port=int(sys.argv[1]), get_info=ldap3.NONE, connect_timeout=5)
c = ldap3.Connection(s, user=sys.argv[2], password=os.environ["BENCH_PW"], auto_bind=True, receive_timeout=30)
n = sum(1 for e in c.extend.standard.paged_search(sys.argv[3], "(uid=*)", attributes=["1.1"], paged_size=1000,
                                                   generator=True) if e["type"] == "searchResEntry")
print(n)
"""


@dataclass(frozen=True)
class Target:
    """The directory under test."""

    ldap_port: int
    admin_dn: str
    admin_password: str = field(repr=False)
    suffix: str
    env: dict[str, str] = field(repr=False)


def _target(spec: LabSpec) -> Target:
    return Target(spec.ldap_port, spec.admin_dn, spec.admin_password, spec.suffix, spec.jitsi_env())


@contextlib.contextmanager
def directory(n_users: int, workdir: Path, lab_env: str | None) -> Iterator[tuple[Target, float]]:
    """A lab OpenLDAP seeded with `n_users` generated users (or an running one, from its lab .env)."""
    if lab_env:
        from ldapcheck.lab.envfile import read_env_file

        values = read_env_file(Path(lab_env))
        yield (
            Target(
                int(values["LAB_LDAP_PORT"]),
                values["LAB_ADMIN_DN"],
                values["LAB_ADMIN_PASSWORD"],
                values["LDAP_BASE"],
                {k: v for k, v in values.items() if not k.startswith("LAB_")},
            ),
            0.0,
        )
        return
    spec = new_spec(f"bench-{n_users}-{os.getpid()}", n_users)
    paths = LabPaths(workdir / f"lab-{n_users}")
    start = time.monotonic()
    prepare_files(spec, paths)
    container = run_container(docker_client(), openldap_plan(spec, paths))
    try:
        wait_for_bind(container, spec.ldap_port, spec.admin_dn, spec.admin_password, timeout=1800)
        yield _target(spec), time.monotonic() - start
    finally:
        container.remove(force=True)


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """(wall seconds, peak RSS in KB, stdout) of one run under /usr/bin/time."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        proc = subprocess.run(
            ["/usr/bin/time", "-o", report.name, "-f", "%e %M", *argv],
            capture_output=True,
            text=True,
            env=env,
            timeout=3600,
            check=False,
        )
        if proc.returncode != 0:
            raise SystemExit(f"{argv[0]} failed ({proc.returncode}): {proc.stderr[-500:]}")
        wall, rss = report.read().split()[-2:]
    return float(wall), int(rss), proc.stdout


def commands(spec: Target, env_path: Path, pw_file: Path) -> dict[str, list[str]]:
    base = spec.suffix
    ldapsearch = (
        f"ldapsearch -x -H ldap://127.0.0.1:{spec.ldap_port} -D {shlex.quote(spec.admin_dn)}"
        f" -y {shlex.quote(str(pw_file))} -E pr=1000/noprompt -b {shlex.quote(base)} '(uid=*)' 1.1 | grep -c '^dn:'"
    )
    return {
        "ldapcheck count": [str(VENV_BIN / "ldapcheck"), "count", "--env-file", str(env_path), "--json"],
        "ldapcheck count --page-size 1000": [
            str(VENV_BIN / "ldapcheck"),
            "count",
            "--env-file",
            str(env_path),
            "--json",
            "--page-size",
            "1000",
        ],
        "ldapsearch -E pr=1000 | grep -c": ["bash", "-c", ldapsearch],
        "ldap3 paged_search": [sys.executable, "-c", LDAP3_COUNT, str(spec.ldap_port), spec.admin_dn, base],
    }


def count_of(name: str, stdout: str) -> int:
    if name.startswith("ldapcheck"):
        import json

        step = next(s for s in json.loads(stdout)["steps"] if s["id"] == "ldap.user_count")
        if step["status"] != "pass":
            raise SystemExit(f"ldapcheck count did not pass: {step['summary']}")
        return int(step["detail"]["count"])
    return int(stdout.strip().splitlines()[-1])


def bench(
    n_users: int, runs: int, workdir: Path, skip_ldap3: bool, lab_env: str | None = None
) -> dict[str, tuple[float, int, int]]:
    with directory(n_users, workdir, lab_env) as (spec, ready_s):
        where = f"slapd on 127.0.0.1:{spec.ldap_port}"
        print(
            f"\n## {n_users:,} users ({'existing lab' if lab_env else f'directory ready in {ready_s:.1f} s'}, {where})"
        )
        env_path = workdir / f"bench-{n_users}.env"
        write_env_file(env_path, {**spec.env, "LDAP_BINDDN": spec.admin_dn, "LDAP_BINDPW": spec.admin_password})
        pw_file = workdir / f"bench-{n_users}.pw"
        pw_file.write_text(spec.admin_password)  # ldapsearch -y reads the whole file: no newline
        pw_file.chmod(0o600)
        env = {**os.environ, "BENCH_PW": spec.admin_password}
        env.pop("LDAPCHECK_BIND_PASSWORD", None)
        results: dict[str, tuple[float, int, int]] = {}
        chosen = {
            name: argv
            for name, argv in commands(spec, env_path, pw_file).items()
            if not (skip_ldap3 and name.startswith("ldap3"))
        }
        walls: dict[str, list[float]] = {name: [] for name in chosen}
        rsss: dict[str, list[int]] = {name: [] for name in chosen}
        counts: dict[str, set[int]] = {name: set() for name in chosen}
        for _ in range(runs):  # interleaved, so that load changes on the machine hit every counter alike
            for name, argv in chosen.items():
                wall, rss, out = timed(argv, env)
                walls[name].append(wall)
                rsss[name].append(rss)
                counts[name].add(count_of(name, out))
        for name in chosen:
            found = sorted(counts[name])
            results[name] = (statistics.median(walls[name]), max(rsss[name]), found[0] if len(found) == 1 else -1)
            print(
                f"  {name:<32} wall median {results[name][0]:.2f} s "
                f"(runs: {', '.join(f'{w:.2f}' for w in walls[name])})"
                f"  peak RSS {max(rsss[name]) / 1024:.1f} MB  count {found}"
            )
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, action="append", help="directory size(s); default 100000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-ldap3", action="store_true", help="skip the slow ldap3 reference")
    parser.add_argument("--lab-env", help="measure an already running lab (its .env with LAB_* values) instead")
    args = parser.parse_args()
    sizes = args.users or [100_000]
    table = []
    with tempfile.TemporaryDirectory(prefix="ldapcheck-bench-") as tmp:
        for n in sizes:
            r = bench(n, args.runs, Path(tmp), args.skip_ldap3, args.lab_env)
            mine, peer = r["ldapcheck count"], r["ldapsearch -E pr=1000 | grep -c"]
            table.append((n, mine, peer, r.get("ldap3 paged_search")))
    print("\n| users | ldapcheck count | ldapsearch pr=1000 | ratio (wall) | ldapcheck RSS | ldapsearch RSS | ldap3 |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n, mine, peer, ldap3 in table:
        other = f"{ldap3[0]:.2f} s / {ldap3[1] / 1024:.1f} MB" if ldap3 else "-"
        print(
            f"| {n:,} | {mine[0]:.2f} s | {peer[0]:.2f} s | {mine[0] / peer[0]:.2f}x | {mine[1] / 1024:.1f} MB "
            f"| {peer[1] / 1024:.1f} MB | {other} |"
        )
        if mine[2] != peer[2]:
            print(f"  !! counts differ: ldapcheck {mine[2]} vs ldapsearch {peer[2]}")


if __name__ == "__main__":
    main()
