"""Benchmark: a full `ldapcheck diagnose` (host + container steps) against the manual sequence an admin types.

Manual peer, for the same facts, run back to back in the same process:
  1. `ldapsearch -x -H URL -D BINDDN -y pwfile -b BASE -E pr=1000/noprompt '(uid=*)' 1.1 | grep -c '^dn:'`
     (service bind + count),
  2. `docker exec PROSODY cat /run/saslauthd.conf`,
  3. `docker exec -i PROSODY bash -c 'testsaslauthd -u alice -p "$(cat)" -s xmpp -r meet.jitsi'`
     (the password on stdin of the exec: the admin would type it on the command line).
Target (issue 5): diagnose < 2 s wall and no slower than the manual sequence.

Starts a dedicated lab (OpenLDAP with N generated users + prosody/saslauthd) and removes it at the end.
Passwords travel by stdin or 0600 files, never argv of a host process.

    .venv/bin/python bench/diagnose_vs_manual.py [--runs 5] [--users 1200]
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
from pathlib import Path

from ldapcheck.lab.containers import LabPaths, write_private
from ldapcheck.lab.engine import docker_client
from ldapcheck.lab.envfile import write_env_file
from ldapcheck.lab.images import ensure_images
from ldapcheck.lab.manager import prepare_files, start_lab
from ldapcheck.lab.spec import new_spec

VENV_BIN = Path(sys.executable).parent


def timed(cmd: list[str], *, stdin: str = "", env: dict[str, str] | None = None) -> tuple[float, str, int]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=env, timeout=120, check=False)
    return time.perf_counter() - start, proc.stdout, proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--users", type=int, default=1200)
    args = parser.parse_args()

    client = docker_client()
    ensure_images(client)
    spec = new_spec(f"ldapcheck-bench-{secrets.token_hex(3)}", args.users)
    with tempfile.TemporaryDirectory(prefix="ldapcheck-bench-") as tmp:
        paths = LabPaths(Path(tmp) / "lab")
        prepare_files(spec, paths)
        openldap, prosody = start_lab(client, spec, paths)
        try:
            env_file = Path(tmp) / ".env"
            write_env_file(env_file, spec.lab_env(str(paths.ca_cert), paths.compose_values()))
            pwfile = Path(tmp) / "bindpw"
            write_private(pwfile, spec.bind_password)
            return run(args, spec, str(prosody.name), env_file, pwfile)
        finally:
            openldap.remove(force=True)
            prosody.remove(force=True)


def run(args: argparse.Namespace, spec: object, prosody: str, env_file: Path, pwfile: Path) -> int:
    login = "alice"
    password = spec.users[login]  # type: ignore[attr-defined]
    ldap_url, bind_dn, base = spec.ldap_url, spec.bind_dn, spec.suffix  # type: ignore[attr-defined]
    realm = spec.xmpp_domain  # type: ignore[attr-defined]
    env = {k: v for k, v in os.environ.items() if k != "LDAPCHECK_PASSWORD"}
    diagnose = [str(VENV_BIN / "ldapcheck"), "diagnose", "--env-file", str(env_file), "--user", login]
    diagnose += ["--password-stdin", "--container", prosody, "--json"]
    count = (
        f"ldapsearch -x -H {ldap_url} -D '{bind_dn}' -y {pwfile} -b '{base}' -E pr=1000/noprompt '(uid=*)' 1.1 "
        "| grep -c '^dn:'"
    )
    manual = [
        ("ldapsearch bind + count", ["bash", "-c", count], ""),
        ("docker exec cat saslauthd.conf", ["docker", "exec", prosody, "cat", "/run/saslauthd.conf"], ""),
        (
            "docker exec testsaslauthd",
            ["docker", "exec", "-i", prosody, "bash", "-c", f'testsaslauthd -u {login} -p "$(cat)" -s xmpp -r {realm}'],
            password,
        ),
    ]
    # A second peer: the commands an admin needs for the facts diagnose reports beyond those three
    # (user search and bind, the container's env, saslauthd's process and socket, xmpp.conf, prosody's
    # VirtualHost, DNS/TCP from inside). The user's password comes from stdin here too.
    user_dn = f"uid={login},{spec.users_base}"  # type: ignore[attr-defined]
    host_port = ldap_url.split("//", 1)[1].rstrip("/").replace(":", "/")
    extra = [
        (
            "ldapsearch user",
            ["ldapsearch", "-x", "-H", ldap_url, "-D", bind_dn, "-y", str(pwfile), "-b", base, f"(uid={login})", "1.1"],
            "",
        ),
        ("ldapwhoami user bind", ["bash", "-c", f"ldapwhoami -x -H {ldap_url} -D '{user_dn}' -y /dev/stdin"], password),
        ("docker inspect env", ["docker", "inspect", "-f", "{{json .Config.Env}}", prosody], ""),
        (
            "docker exec saslauthd cmdline",
            ["docker", "exec", prosody, "bash", "-c", "cat /proc/[0-9]*/cmdline | tr '\\0' ' '"],
            "",
        ),
        ("docker exec ls mux", ["docker", "exec", prosody, "ls", "-l", "/var/run/saslauthd"], ""),
        ("docker exec cat xmpp.conf", ["docker", "exec", prosody, "cat", "/etc/sasl/xmpp.conf"], ""),
        (
            "docker exec grep VirtualHost",
            ["docker", "exec", prosody, "grep", "-A3", "VirtualHost", "/run/prosody/config/prosody.cfg.lua"],
            "",
        ),
        (
            "docker exec getent + tcp",
            [
                "docker",
                "exec",
                prosody,
                "bash",
                "-c",
                f"getent hosts {host_port.split('/')[0]}; exec 3<>/dev/tcp/{host_port}",
            ],
            "",
        ),
    ]
    host_only = [*diagnose[:-3], "--no-container", "--json"]
    floor = [sys.executable, "-c", "import ldapcheck.cli, ldapcheck.chain, ldapcheck.checks.container, docker, ldap3"]
    timed(diagnose, stdin=password + "\n", env=env)  # warm-up (page cache, saslauthd's first LDAP connection)
    floors = [timed(floor)[0] for _ in range(args.runs)]
    hosts = [timed(host_only, stdin=password + "\n", env=env)[0] for _ in range(args.runs)]
    diag_times: list[float] = []
    manual_times: list[float] = []
    extended_times: list[float] = []
    parts: dict[str, list[float]] = {name: [] for name, _, _ in manual}
    last_report: dict[str, object] = {}
    for _ in range(args.runs):
        wall, out, rc = timed(diagnose, stdin=password + "\n", env=env)
        if rc != 0:
            print(out)
            raise SystemExit(f"diagnose failed (exit {rc})")
        diag_times.append(wall)
        last_report = json.loads(out)
        total = 0.0
        for name, cmd, stdin in manual:
            t, text, code = timed(cmd, stdin=stdin)
            if code != 0:
                raise SystemExit(f"manual step {name!r} failed (exit {code}): {text}")
            parts[name].append(t)
            total += t
        manual_times.append(total)
        extended = total
        for name, cmd, stdin in extra:
            t, text, code = timed(cmd, stdin=stdin)
            if code != 0:
                raise SystemExit(f"manual step {name!r} failed (exit {code}): {text}")
            extended += t
        extended_times.append(extended)

    steps = last_report.get("steps", [])
    assert isinstance(steps, list)
    n_container = sum(1 for s in steps if str(s["id"]).startswith("container."))
    container_ms = sum(float(s["duration_ms"]) for s in steps if str(s["id"]).startswith("container."))
    host_ms = sum(float(s["duration_ms"]) for s in steps if not str(s["id"]).startswith("container."))
    d, m = statistics.median(diag_times), statistics.median(manual_times)
    print(f"lab: {args.users} generated users, prosody {prosody}, {args.runs} runs (medians)")
    print(f"  ldapcheck diagnose (host + container, {len(steps)} steps, {n_container} in the container): {d:.3f} s")
    print(f"    step times as reported: host {host_ms:.0f} ms, container {container_ms:.0f} ms (last run)")
    print(f"  manual sequence (3 commands):                                      {m:.3f} s")
    for name, times in parts.items():
        print(f"    {name:<34} {statistics.median(times):.3f} s")
    print(
        f"  for scale: interpreter + imports {statistics.median(floors):.3f} s; "
        f"diagnose --no-container {statistics.median(hosts):.3f} s "
        f"(container steps add {d - statistics.median(hosts):.3f} s)"
    )
    met = "met" if d < 2 else "MISSED"
    e = statistics.median(extended_times)
    print(
        f"  manual sequence for all the facts diagnose reports ({3 + len(extra)} commands):  {e:.3f} s "
        f"(ratio diagnose / that: {d / e:.2f})"
    )
    print(f"  ratio diagnose / manual: {d / m:.2f}  (target <= 1.00; diagnose target < 2 s: {met})")
    print(
        f"  diagnose min/max: {min(diag_times):.3f}/{max(diag_times):.3f} s; manual min/max: "
        f"{min(manual_times):.3f}/{max(manual_times):.3f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
