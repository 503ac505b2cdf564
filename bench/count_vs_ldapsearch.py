"""Benchmark: `ldapcheck count` against the ldapsearch pipelines a user would type, and ldapsearch's floor.

For each size a lab OpenLDAP with N generated users is started (slapadd at start-up; removed afterwards) and every
peer below runs interleaved in one run, bound as the rootdn (no size limit):

    ldapcheck count --env-file ADMIN.env --json                     (the default: the largest page, here one page)
    ldapcheck count --env-file ADMIN.env --json --page-size 5000                 (pages of 5000, the old default)
    ldapsearch -LLL -E pr=5000/noprompt   … '(uid=*)' 1.1 | LC_ALL=C grep -c '^dn:'
    ldapsearch -LLL -E pr=100000/noprompt … '(uid=*)' 1.1 | LC_ALL=C grep -c '^dn:'
    ldapsearch -LLL                       … '(uid=*)' 1.1 | LC_ALL=C grep -c '^dn:'   (unpaged)
    ldapsearch -LLL                       … '(uid=*)' 1.1 > /dev/null                  (the floor: no counting)

Printed per peer: wall time and slapd's CPU (min / median / max), the peer's CPU, its peak RSS, the ratios of the
medians (ldapcheck count / peer), the load average, and a warning when other processes used the machine meanwhile.
Then `ldapcheck count` as the lab's service account must report exactly 500 entries, truncated (slapd's default
size limit). The table in bench/README.md is regenerated. Installs ldap-utils with apt-get if ldapsearch is missing.

    .venv/bin/python bench/count_vs_ldapsearch.py                 # 10k and 100k users (~2 minutes)
    .venv/bin/python bench/count_vs_ldapsearch.py --with-1m       # and 1M (~3 more minutes)
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


def ldapcheck_count(stdout: str) -> int:
    step = next(s for s in json.loads(stdout)["steps"] if s["id"] == "ldap.user_count")
    if step["status"] != "pass":
        raise SystemExit(f"ldapcheck count did not pass: {step['summary']}")
    return int(step["detail"]["count"])


def peers(lab: harness.Lab) -> list[harness.Peer]:
    search = (
        f"ldapsearch -LLL -x -H {lab.url} -D {shlex.quote(lab.admin_dn)} -y {shlex.quote(str(lab.admin_pw_file))}"
        f" -b {shlex.quote(lab.base)}"
    )
    count = "| LC_ALL=C grep -c '^dn:'"
    mine = [LDAPCHECK, "count", "--env-file", str(lab.admin_env), "--json"]

    def sh(cmd: str) -> list[str]:
        return ["bash", "-o", "pipefail", "-c", cmd]

    return [
        harness.Peer("ldapcheck count", mine, ldapcheck_count),
        harness.Peer("ldapcheck count --page-size 5000", [*mine, "--page-size", "5000"], ldapcheck_count),
        harness.Peer("ldapsearch pr=5000 | grep -c", sh(f"{search} -E pr=5000/noprompt '(uid=*)' 1.1 {count}"), int),
        harness.Peer(
            "ldapsearch pr=100000 | grep -c", sh(f"{search} -E pr=100000/noprompt '(uid=*)' 1.1 {count}"), int
        ),
        harness.Peer("ldapsearch (unpaged) | grep -c", sh(f"{search} '(uid=*)' 1.1 {count}"), int),
        harness.Peer("ldapsearch (unpaged) > /dev/null", sh(f"{search} '(uid=*)' 1.1 > /dev/null"), lambda _: "-"),
    ]


def truncation_check(lab: harness.Lab, env: dict[str, str]) -> str:
    """`count` as the service account (slapd's default size limit 500): exactly 500, reported as truncated."""
    pid = harness.slapd_pid(lab.container)
    out = harness.run_once([LDAPCHECK, "count", "--env-file", str(lab.service_env), "--json"], pid, env).stdout
    step = next(s for s in json.loads(out)["steps"] if s["id"] == "ldap.user_count")
    detail = step.get("detail") or {}
    ok = step["status"] == "warn" and detail.get("count") == 500 and detail.get("result_code") == 4
    line = f"service account: {detail.get('count')} entries, result code {detail.get('result_code')}, {step['status']}"
    print(f"  {'OK' if ok else 'WRONG'}: {line} ({step['summary']})")
    if not ok:
        raise SystemExit("the size limit was not reported as a truncated count of 500")
    return line


def main() -> None:
    args = harness.bench_arguments(__doc__, minutes_for_1m=3)
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
                pid = harness.slapd_pid(lab.container)
                group = peers(lab)
                warnings = harness.measure(group, pid, args.runs, env)
                counts = {p.name: p.values for p in group if p.name != "ldapsearch (unpaged) > /dev/null"}
                if len({frozenset(v) for v in counts.values()}) != 1:
                    warnings.append(f"the counts differ: {counts}")
                size = next(iter(group[0].values))
                title = f"{size:,} entries"
                rows += harness.report(title, group, 0, warnings)
                notes += [f"{title}: {w}" for w in warnings]
                notes.append(f"{title}: {truncation_check(lab, env)}")
    lines = [harness.machine_line(load_before, args.runs), "", harness.HEADER, *rows, ""]
    lines += [f"- {n}" for n in notes]
    print("\n" + "\n".join(lines))
    if not args.no_readme:
        harness.update_readme("count-table", lines)


if __name__ == "__main__":
    main()
