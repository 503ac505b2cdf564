"""Render speed and CLI start-up: in-process saslauthd.conf rendering and wall time of the commands.

Targets (issue 3): render < 5 ms in-process; `ldapcheck render saslauthd` and `ldapcheck --help` < 0.3 s wall.
Peer: a bare `python -c pass` (the interpreter's own start-up, the floor any Python CLI pays).

    .venv/bin/python bench/render_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ENV = {
    "AUTH_TYPE": "ldap",
    "LDAP_URL": "ldaps://dc1.example.org:636 ldaps://dc2.example.org:636",
    "LDAP_BASE": "ou=users,dc=example,dc=org",
    "LDAP_BINDDN": "cn=svc,dc=example,dc=org",
    "LDAP_BINDPW": "s3cret $ #",
    "LDAP_FILTER": "(uid=%u)",
    "LDAP_USE_TLS": "1",
    "LDAP_TLS_CHECK_PEER": "1",
    "LDAP_TLS_CIPHERS": "HIGH",
    "XMPP_DOMAIN": "meet.example.org",
}

FIRST_CALL = """
import time
t0 = time.perf_counter()
from ldapcheck.render.saslauthd import render
render({env!r})
print((time.perf_counter() - t0) * 1000)
"""


CPU: dict[str, float] = {}


def wall(argv: list[str], env: dict[str, str], runs: int) -> list[float]:
    """Wall-clock seconds of `runs` executions (after one untimed warm-up for the page cache).

    Also records the children's mean CPU time (user + sys) in CPU: it does not grow when other
    processes compete for the cores, so it tells load apart from start-up cost.
    """
    subprocess.run(argv, env=env, capture_output=True, check=False)
    times = []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - t0)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU[" ".join(argv[-2:])] = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) / runs
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15, help="subprocess runs per command")
    parser.add_argument("--renders", type=int, default=5000, help="in-process renders")
    args = parser.parse_args()

    from ldapcheck.auth.ldap.render import render

    first = [
        float(subprocess.run([sys.executable, "-c", FIRST_CALL.format(env=ENV)], capture_output=True, text=True).stdout)
        for _ in range(5)
    ]
    for _ in range(200):  # warm-up
        render(ENV)
    samples = []
    for _ in range(args.renders):
        t0 = time.perf_counter()
        render(ENV)
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    mean = statistics.fmean(samples)
    print("in-process render (current template, 10 variables):")
    print(f"  first call in a fresh interpreter (import jinja2 + compile): median {statistics.median(first):.1f} ms")
    print(
        f"  warm: mean {mean * 1000:.0f} µs, p50 {samples[len(samples) // 2] * 1000:.0f} µs, "
        f"p99 {samples[int(len(samples) * 0.99)] * 1000:.0f} µs over {args.renders} runs  (target < 5 ms: "
        f"{'OK' if mean < 5 else 'MISSED'})"
    )

    exe = shutil.which("ldapcheck", path=str(Path(sys.executable).parent)) or "ldapcheck"
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"}
    peer = wall([sys.executable, "-c", "pass"], base, args.runs)
    rows = [
        ("python -c pass (peer: interpreter floor)", peer),
        ("ldapcheck --help", wall([exe, "--help"], base, args.runs)),
        ("ldapcheck render saslauthd", wall([exe, "render", "saslauthd"], {**base, **ENV}, args.runs)),
    ]
    print(f"\nwall time, median of {args.runs} runs (target < 0.3 s); load average {os.getloadavg()[0]:.2f}:")
    floor = statistics.median(peer)
    cpu = list(CPU.values())
    for (name, times), cpu_s in zip(rows, cpu, strict=True):
        med = statistics.median(times)
        verdict = "" if name.startswith("python") else ("  OK" if med < 0.3 else "  MISSED")
        print(
            f"  {name:45s} {med * 1000:6.0f} ms  (max {max(times) * 1000:4.0f} ms, cpu {cpu_s * 1000:4.0f} ms, "
            f"{med / floor:4.1f}x peer){verdict}"
        )


if __name__ == "__main__":
    main()
