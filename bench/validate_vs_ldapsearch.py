"""Benchmark: `ldapcheck validate` against the ldapsearch pipelines that find duplicate logins, same directory.

For each size a lab OpenLDAP with N generated users is started (removed afterwards) and every peer runs
interleaved in one run, bound as the rootdn (no size limit; validate reads the same .env):

    ldapcheck validate --env-file ADMIN.env --json
    ldapsearch -LLL                     … '(uid=*)' uid | LC_ALL=C grep '^uid:' | LC_ALL=C sort | uniq -d
    ldapsearch -LLL -E pr=100000/noprompt … (the same pipeline)

validate does much more than the pipelines (login rules, account states, a sample of lookups, security probes on
side connections); the scan is the part comparable to them. Printed per peer: wall time and slapd's CPU
(min / median / max), the peer's CPU and peak RSS, ratios of the medians, the load average, and a warning when
other processes used the machine meanwhile. The table in bench/README.md is regenerated. Installs ldap-utils
with apt-get if ldapsearch is missing.

    .venv/bin/python bench/validate_vs_ldapsearch.py                 # 10k and 100k users (~1 minute)
    .venv/bin/python bench/validate_vs_ldapsearch.py --with-1m       # and 1M (~4 more minutes)
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import tempfile
from pathlib import Path

import harness

LDAPCHECK = str(Path(sys.executable).with_name("ldapcheck"))


def validate_result(stdout: str) -> str:
    directory = json.loads(stdout)["meta"]["directory"]
    dupes = directory["problems"]["duplicate-login"]["count"]
    return f"{directory['entries_scanned']} entries, {dupes} duplicate login(s)"


def peers(lab: harness.Lab) -> list[harness.Peer]:
    search = (
        f"ldapsearch -LLL -x -H {lab.url} -D {shlex.quote(lab.admin_dn)} -y {shlex.quote(str(lab.admin_pw_file))}"
        f" -b {shlex.quote(lab.base)}"
    )
    dupes = "| LC_ALL=C grep '^uid:' | LC_ALL=C sort | uniq -d"

    def sh(cmd: str) -> list[str]:
        return ["bash", "-o", "pipefail", "-c", cmd]

    def lines(stdout: str) -> str:
        return f"{len(stdout.splitlines())} duplicate uid value(s)"

    return [
        harness.Peer(
            "ldapcheck validate", [LDAPCHECK, "validate", "--env-file", str(lab.admin_env), "--json"], validate_result
        ),
        harness.Peer("ldapsearch (unpaged) uid | sort | uniq -d", sh(f"{search} '(uid=*)' uid {dupes}"), lines),
        harness.Peer(
            "ldapsearch pr=100000 uid | sort | uniq -d",
            sh(f"{search} -E pr=100000/noprompt '(uid=*)' uid {dupes}"),
            lines,
        ),
    ]


def main() -> None:
    args = harness.bench_arguments(__doc__, minutes_for_1m=4)
    harness.ensure_tools()
    sizes = args.users or ([] if args.lab_env else [10_000, 100_000])  # --lab-env alone: only the running labs
    if args.with_1m:
        sizes.append(1_000_000)
    targets: list[tuple[int, str | None]] = [(n, None) for n in sizes] + [(0, e) for e in args.lab_env or ()]
    load_before = harness.loadavg()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LDAPCHECK_")}
    rows, notes = [], []
    with tempfile.TemporaryDirectory(prefix="ldapcheck-bench-") as tmp:
        for n, lab_env in targets:
            with harness.lab(n, Path(tmp), lab_env) as lab:
                group = peers(lab)
                warnings = harness.measure(group, harness.slapd_pid(lab.container), args.runs, env)
                title = f"{int(next(iter(group[0].values)).split()[0]):,} entries"
                rows += harness.report(title, group, 0, warnings)
                notes += [f"{title}: {w}" for w in warnings]
    lines = [harness.machine_line(load_before, args.runs), "", harness.HEADER, *rows, ""]
    lines += [f"- {n}" for n in notes]
    print("\n" + "\n".join(lines))
    if not args.no_readme:
        harness.update_readme("validate-table", lines)


if __name__ == "__main__":
    main()
