"""`diagnose_vs_manual.py --mode internal|internal+guests|jwt`: a full `ldapcheck diagnose` of a lab of that mode
against the commands an admin types for the same facts, interleaved, with peak RSS (GNU time).

The manual sequence per mode (the facts diagnose reports, one command each):
  every mode  `docker inspect` prosody's env (drift from the .env), `grep VirtualHost/authentication` in prosody's
              rendered config, `curl PUBLIC_URL/config.js` (hosts, anonymousdomain), `docker exec jicofo cat
              jicofo.conf` (its auth block)
  internal    `docker exec prosody ls <data_path>/<host>/accounts/alice.dat` (the account), a BOSH login by hand:
              curl session create + curl SASL PLAIN (password on stdin, base64 in the request body)
  + guests    a BOSH ANONYMOUS login on the guest host (two curls)
  jwt         the token settings in prosody's config (`grep app_id/app_secret/asap`), the token module on disk,
              the container's clock (`docker exec prosody date +%s`)
"""

from __future__ import annotations

import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import CPUS, loadavg, machine_line, update_readme
from peers import Peer

CLI = [sys.executable, "-m", "ldapcheck"]

# A BOSH login by hand: session create, then one SASL exchange; prints the server's answer element.
BOSH = r"""
url=$1 domain=$2 user=$3 mech=$4
ns="xmlns='http://jabber.org/protocol/httpbind'"
sasl="xmlns='urn:ietf:params:xml:ns:xmpp-sasl'"
body() { curl -s -m 10 -H 'Content-Type: text/xml; charset=utf-8' --data-binary @- "$url"; }
open=$(printf "<body rid='100' to='%s' xml:lang='en' wait='10' hold='1' %s xmlns:xmpp='urn:xmpp:xbosh' \
xmpp:version='1.0'/>" "$domain" "$ns" | body)
sid=$(printf '%s' "$open" | sed -n "s/.*sid=[\"']\([^\"']*\)[\"'].*/\1/p")
[ -n "$sid" ] || { echo "no sid: $open"; exit 1; }
if [ "$mech" = PLAIN ]; then auth=$(printf '\0%s\0%s' "$user" "$(cat)" | base64 -w0); else auth='='; fi
printf "<body rid='101' sid='%s' %s><auth %s mechanism='%s'>%s</auth></body>" "$sid" "$ns" "$sasl" "$mech" "$auth" \
  | body | grep -o '<success[^>]*>\|<failure.*</failure>'
"""


def manual_sequence(mode: str, spec: object, names: dict[str, str], bosh: Path, password: str) -> list[Peer]:
    prosody, jicofo = names["prosody"], names["jicofo"]
    url = spec.public_url  # type: ignore[attr-defined]
    domain = spec.xmpp_domain  # type: ignore[attr-defined]
    cfg = "/run/prosody/config/prosody.cfg.lua"
    peers = [
        Peer("docker inspect prosody env", ["docker", "inspect", "-f", "{{json .Config.Env}}", prosody]),
        Peer("grep VirtualHost", ["docker", "exec", prosody, "grep", "-A4", "VirtualHost", cfg]),
        Peer("curl config.js", ["curl", "-s", "-m", "10", f"{url}/config.js"]),
        Peer("cat jicofo.conf", ["docker", "exec", jicofo, "cat", "/run/jicofo/jicofo.conf"]),
    ]
    if mode.startswith("internal"):
        account = f"/var/lib/prosody/{domain.replace('.', '%2e')}/accounts/alice.dat"
        peers += [
            Peer("ls the account", ["docker", "exec", prosody, "ls", "-l", account]),
            Peer(
                "BOSH login (2 curls)",
                ["bash", "-c", BOSH, "bosh", f"{url}/http-bind", domain, "alice", "PLAIN"],
                stdin=password,
            ),
        ]
    if mode == "internal+guests":
        guest = spec.guest_domain  # type: ignore[attr-defined]
        peers.append(
            Peer("BOSH guest login (2 curls)", ["bash", "-c", BOSH, "bosh", f"{url}/http-bind", guest, "", "ANONYMOUS"])
        )
    if mode == "jwt":
        peers += [
            Peer(
                "grep token settings",
                ["docker", "exec", prosody, "grep", "-nE", "app_id|app_secret|asap|token", cfg],
                ok_codes=(0, 1),
            ),
            Peer(
                "find the token module",
                [
                    "docker",
                    "exec",
                    prosody,
                    "sh",
                    "-c",
                    "ls /usr/share/jitsi-meet/prosody-plugins/mod_auth_token.lua "
                    "/prosody-plugins/mod_auth_token.lua 2>&1",
                ],
                ok_codes=(0, 1, 2),
            ),
            Peer("container clock", ["docker", "exec", prosody, "date", "+%s"]),
        ]
    return peers


def run_mode(mode: str, runs: int, readme: bool) -> None:
    from ldapcheck.lab.containers import LabPaths
    from ldapcheck.lab.engine import docker_client
    from ldapcheck.lab.envfile import write_env_file
    from ldapcheck.lab.images import ensure_images
    from ldapcheck.lab.manager import prepare_files, start_services
    from ldapcheck.lab.spec import new_spec

    client = docker_client()
    ensure_images(client)
    auth, guests = mode.split("+")[0], mode.endswith("+guests")
    spec = new_spec(f"ldapcheck-bench-{auth}-{secrets.token_hex(3)}", 20, auth=auth, guests=guests, web=True)
    with tempfile.TemporaryDirectory(prefix="ldapcheck-bench-modes-") as tmp_name:
        tmp = Path(tmp_name)
        paths = LabPaths(tmp / "lab")
        prepare_files(spec, paths)
        containers = start_services(client, spec, paths)
        try:
            env_file = tmp / ".env"
            write_env_file(env_file, spec.lab_env(str(paths.ca_cert), paths.compose_values()))
            bosh = tmp / "bosh.sh"
            names = {k: str(c.name) for k, c in containers.items()}
            measure(mode, spec, names, env_file, bosh, runs, readme)
        finally:
            for c in containers.values():
                c.remove(force=True)


def measure(
    mode: str, spec: object, names: dict[str, str], env_file: Path, bosh: Path, runs: int, readme: bool
) -> None:
    password = spec.lab_password  # type: ignore[attr-defined]
    env = {k: v for k, v in os.environ.items() if k not in ("LDAPCHECK_PASSWORD", "PYTHONPATH")}
    argv = [*CLI, "diagnose", "--env-file", str(env_file), "--container", names["prosody"], "--json"]
    login = mode.startswith("internal")
    if login:
        argv += ["--user", "alice", "--password-stdin"]
    ours = Peer(f"ldapcheck diagnose ({mode})", argv, stdin=password + "\n" if login else "", env=env, ok_codes=(0, 1))
    manual = manual_sequence(mode, spec, names, bosh, password)
    for p in [ours, *manual]:  # warm-up; every manual command must work once
        r = p.once()
        if p is not ours and "BOSH" in p.name and "<success" not in r.stdout:
            raise SystemExit(f"{p.name}: no <success/>: {r.stdout[-300:]}")
    before = loadavg()
    totals: list[float] = []
    loads: list[float] = []
    for i in range(runs):
        if i % 2 == 0:
            ours.timed()
        totals.append(sum(p.timed().wall for p in manual))
        if i % 2 == 1:
            ours.timed()
        loads.append(loadavg()[0])
    m = statistics.median(totals)
    rss = max(max(r.rss_kb for r in p.runs) for p in manual) / 1024
    lines = [
        f"{machine_line(before, runs)}; 1-minute load average during the rounds {min(loads):.2f} to {max(loads):.2f}"
        + (f" — BUSY machine (above {CPUS} cores): wall times are noisy" if max(loads) > CPUS else ""),
        "",
        "| command | wall s min / median / max | peak RSS MB | ratio to the manual sequence (medians) |",
        "|---|---:|---:|---:|",
        f"| `ldapcheck diagnose` ({mode}) | {ours.span()} | {ours.rss_mb():.1f} | {ours.wall() / m:.2f} |",
        f"| manual sequence, {len(manual)} commands | {Peer('', []).span(totals)} | {rss:.1f} (largest) | 1.00 |",
        *(f"| &nbsp;&nbsp;{p.name} | {p.span()} | {p.rss_mb():.1f} | |" for p in manual),
    ]
    print(f"\n## diagnose, {mode}\n" + "\n".join(lines), flush=True)
    if readme:
        update_readme(f"diagnose-{mode.replace('+', '-')}", lines)


def ensure_curl() -> None:
    """The manual BOSH logins use curl (apt-get on a fresh machine)."""
    if shutil.which("curl"):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit("missing: curl (apt-get install curl) and rerun")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "curl"], check=True, env=env)


def main(modes: list[str], runs: int, readme: bool) -> int:
    ensure_curl()
    for mode in modes:
        run_mode(mode, runs, readme)
    return 0
