"""Benchmark: `ldapcheck validate` vs one paged `ldapsearch` pass fetching the login attribute, same directory.

For each size, a lab slapd (ldapcheck.lab: the seed generator, then `slapadd -q` in the image's entrypoint) is started
with the service account's size limit lifted (LDAP_SERVICE_SIZELIMIT=unlimited), and both tools bind as that account:

    ldapsearch -x -H URL -D BINDDN -y PWFILE -E pr=1000/noprompt -b BASE '(uid=*)' uid > /dev/null
    ldapcheck validate --env-file ENV --json > /dev/null

Each is run `--runs` times, alternating, under /usr/bin/time (wall, peak RSS). Prints medians, the ratio, and the
memory growth per user between the sizes (what duplicate detection costs). Passwords go through 0600 files only.

    .venv/bin/python bench/validate_vs_ldapsearch.py [--users 100000 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ldapcheck.lab.containers import LabPaths, openldap_plan, run_container, write_private
from ldapcheck.lab.engine import docker_client
from ldapcheck.lab.envfile import write_env_file
from ldapcheck.lab.ready import wait_for_bind
from ldapcheck.lab.seed import write_seed_dir
from ldapcheck.lab.spec import new_spec

LDAPCHECK = str(Path(sys.executable).with_name("ldapcheck"))


@dataclass
class Run:
    wall: float
    rss_kb: int


def timed(argv: list[str], stdout: Path | None = None) -> Run:
    """Run `argv` under /usr/bin/time; stdout to a file (or /dev/null)."""
    fmt = "%e %M"
    with open(stdout or "/dev/null", "wb") as out:
        proc = subprocess.run(["/usr/bin/time", "-f", fmt, *argv], stdout=out, stderr=subprocess.PIPE, check=False)
    last = proc.stderr.decode().strip().splitlines()[-1]
    wall, rss = last.split()
    if proc.returncode not in (0, 1):  # validate exits 1 when it finds problems (the seed has some on purpose)
        raise SystemExit(f"{argv[0]} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return Run(float(wall), int(rss))


def bench_size(n_users: int, runs: int, workdir: Path) -> dict[str, object]:
    client = docker_client()
    spec = new_spec(f"ldapcheck-bench-{secrets.token_hex(3)}", n_users)
    paths = LabPaths(workdir / f"lab-{n_users}")
    t0 = time.perf_counter()
    write_seed_dir(spec.seed, paths.seed_dir)
    paths.export_dir.mkdir(parents=True, exist_ok=True)
    seed_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    container = run_container(client, openldap_plan(spec, paths, extra_env={"LDAP_SERVICE_SIZELIMIT": "unlimited"}))
    try:
        wait_for_bind(container, spec.ldap_port, spec.bind_dn, spec.bind_password, timeout=1800)
        load_s = time.perf_counter() - t0
        print(f"[{n_users:,}] seed LDIF {seed_s:.1f} s, slapadd + start {load_s:.1f} s", flush=True)
        env_file = paths.root / "bench.env"
        write_env_file(env_file, spec.lab_env(str(paths.ca_cert)))
        pw_file = paths.root / "bind.pw"
        write_private(pw_file, spec.bind_password)
        ldapsearch = [
            "ldapsearch", "-x", "-H", spec.ldap_url, "-D", spec.bind_dn, "-y", str(pw_file),
            "-E", "pr=1000/noprompt", "-b", spec.suffix, "(uid=*)", "uid",
        ]  # fmt: skip
        validate = [LDAPCHECK, "validate", "--env-file", str(env_file), "--json"]
        # Warm the server cache once with each tool, and check what they return.
        ldif = paths.root / "ldapsearch.ldif"
        timed(ldapsearch, ldif)
        ldapsearch_entries = sum(1 for line in ldif.open("rb") if line.startswith(b"dn:"))
        ldif.unlink()
        report_file = paths.root / "validate.json"
        timed(validate, report_file)
        report = json.loads(report_file.read_text(encoding="utf-8"))
        directory = report["meta"]["directory"]
        results: dict[str, list[Run]] = {"ldapsearch": [], "validate": []}
        for i in range(runs):
            order = ("ldapsearch", "validate") if i % 2 == 0 else ("validate", "ldapsearch")
            for tool in order:
                results[tool].append(timed(ldapsearch if tool == "ldapsearch" else validate))
        row: dict[str, object] = {"users": n_users, "ldapsearch_entries": ldapsearch_entries}
        row["validate_selected"] = directory["selected"]
        row["validate_scan_s"] = directory["scan_seconds"]
        row["dedup_bytes"] = directory["dedup_bytes"]
        for tool, rs in results.items():
            row[f"{tool}_wall"] = [r.wall for r in rs]
            row[f"{tool}_wall_median"] = statistics.median(r.wall for r in rs)
            row[f"{tool}_wall_min"] = min(r.wall for r in rs)
            row[f"{tool}_rss_mb"] = max(r.rss_kb for r in rs) / 1024
        row["ratio"] = float(row["validate_wall_median"]) / float(row["ldapsearch_wall_median"])
        row["ratio_min"] = float(row["validate_wall_min"]) / float(row["ldapsearch_wall_min"])
        return row
    finally:
        container.remove(force=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="ldapcheck-bench-") as tmp:
        for n in args.users:
            row = bench_size(n, args.runs, Path(tmp))
            rows.append(row)
            print(json.dumps(row), flush=True)
    print()
    print(
        "| users | ldapsearch wall median (min) | validate wall median (min) | ratio median (min) | ldapsearch RSS "
        "| validate RSS |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['users']:,} | {r['ldapsearch_wall_median']:.2f} s ({r['ldapsearch_wall_min']:.2f}) "
            f"| {r['validate_wall_median']:.2f} s ({r['validate_wall_min']:.2f}) "
            f"| {r['ratio']:.2f}x ({r['ratio_min']:.2f}x) "
            f"| {r['ldapsearch_rss_mb']:.1f} MB | {r['validate_rss_mb']:.1f} MB |"
        )
    for r in rows:
        print(
            f"{r['users']:,} users: ldapsearch returned {r['ldapsearch_entries']:,} entries, validate selected "
            f"{r['validate_selected']:,}; validate's scan step {r['validate_scan_s']:.2f} s; duplicate-detection "
            f"state {int(r['dedup_bytes']) / 1024 / 1024:.1f} MB ({int(r['dedup_bytes']) / int(r['users']):.1f} B/user)"
        )
    if len(rows) >= 2:
        a, b = rows[0], rows[-1]
        growth = (float(b["validate_rss_mb"]) - float(a["validate_rss_mb"])) * 1024 * 1024
        per_user = growth / (int(b["users"]) - int(a["users"]))
        print(f"validate peak RSS growth {a['users']:,} → {b['users']:,} users: {per_user:.1f} bytes per added user")


if __name__ == "__main__":
    main()
