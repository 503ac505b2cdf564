"""The figures issue 16 asks for beyond count/validate/diagnose, each against its peer in one interleaved run:

  startup   `ldapcheck --help` vs `ldapsearch --help`
  token     `ldapcheck token check --no-container` vs the admin's PyJWT one-liner (`python3 -c "import jwt; …"`,
            Debian's python3-jwt: signature, exp/nbf, aud, iss: the strongest peer an admin has at hand)
  dead      time to give up on a dead server, `--timeout T` vs `ldapsearch -o nettimeout=T`: a listener whose
            backlog is full (connect hangs) and one that accepts and never answers
  logins    `ldapcheck bench logins --via saslauthd` vs a `testsaslauthd` loop inside the container (sequential
            and `xargs -P`), and `--via ldap` vs `ldapwhoami` (a loop and `xargs -P`), same login count

Every figure: min / median / max over interleaved rounds, peak RSS (GNU time), the ratio of medians, the date, the
machine and the load average. Installs ldap-utils, GNU time and python3-jwt with apt-get when missing. Starts an
OpenLDAP + prosody lab for `logins` unless `--lab-env` names a running one (`ldapcheck lab up`'s .env).

    .venv/bin/python bench/figures.py [--rounds 3] [--only logins,dead,...] [--lab-env FILE] [--no-readme]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from harness import CPUS, ensure_tools, loadavg, machine_line, update_readme
from peers import Peer, interleave

CLI = [sys.executable, "-m", "ldapcheck"]
SECTIONS = ("startup", "token", "dead", "logins")
TABLE = (
    "| figure | command | wall s min / median / max | peak RSS MB | ratio of medians (ldapcheck / peer) |\n"
    "|---|---|---:|---:|---:|"
)


def ensure_pyjwt() -> None:
    """The peer of `token check` is Debian's python3-jwt (what `apt install python3-jwt` gives an admin)."""
    if subprocess.run(["/usr/bin/python3", "-c", "import jwt"], capture_output=True).returncode == 0:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit("missing: python3-jwt (apt-get install python3-jwt) and rerun")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "python3-jwt"], check=True, env=env)


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("LDAPCHECK_PASSWORD", "LDAPCHECK_TOKEN")}


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def rows(figure: str, ours: Peer, peers: list[Peer], note: str = "") -> list[str]:
    out = []
    for p in [ours, *peers]:
        killed = f" ({p.killed} of {len(p.runs)} killed: never gave up)" if p.killed else ""
        ratio = "-" if p is ours else f"{ours.wall() / p.wall():.2f}x"
        rss = f"{p.rss_mb():.1f}" if p.rss_mb() else "n/a"  # GNU time was killed with it
        out.append(f"| {figure} | `{cell(p.name)}`{killed} | {p.span()} | {rss} | {ratio} |")
    if note:
        out.append(f"| | {note} | | | |")
    return out


# --- startup ----------------------------------------------------------------------------------------------------
def startup(rounds: int) -> list[str]:
    ours = Peer("ldapcheck --help", [*CLI, "--help"], env=env())
    peer = Peer("ldapsearch --help", ["ldapsearch", "--help"], ok_codes=(0, 1, 2))
    interleave([[ours, peer]], rounds)
    return rows("`--help` start-up", ours, [peer])


# --- token check ------------------------------------------------------------------------------------------------
PYJWT = (
    "import jwt,sys;"
    "s=open(sys.argv[1]).read();t=sys.stdin.read().strip();"
    "print(jwt.decode(t,s,algorithms=['HS256'],audience=sys.argv[2],issuer=sys.argv[3]))"
)


def token(rounds: int, tmp: Path) -> list[str]:
    from ldapcheck.lab.containers import write_private
    from ldapcheck.lab.envfile import write_env_file
    from ldapcheck.lab.spec import JWT_APP_ID, new_spec

    spec = new_spec("ldapcheck-bench-jwt", 0, auth="jwt")
    env_file = tmp / "jwt.env"
    write_env_file(env_file, spec.jitsi_env())
    secret = tmp / "jwt.secret"
    write_private(secret, spec.jwt_secret)
    minted = subprocess.run(
        [*CLI, "token", "mint", "--env-file", str(env_file), "--user", "alice", "--room", "*"],
        capture_output=True, text=True, check=True, env=env(),
    ).stdout.split("\n")[0]  # fmt: skip
    check = [*CLI, "token", "check", "--no-container", "--env-file", str(env_file), "--token-stdin"]
    ours = Peer("ldapcheck token check --no-container", check, stdin=minted, env=env())
    audience = spec.jitsi_env().get("JWT_ACCEPTED_AUDIENCES") or "jitsi"
    peer = Peer(
        "python3 -c 'import jwt; jwt.decode(…, audience, issuer)' (python3-jwt)",
        ["/usr/bin/python3", "-c", PYJWT, str(secret), audience, JWT_APP_ID],
        stdin=minted,
    )
    interleave([[ours, peer]], rounds)
    return rows("`token check`", ours, [peer], "ldapcheck also checks the rules prosody applies beyond PyJWT's")


# --- dead server ------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def silent_listener(*, accept: bool) -> Iterator[int]:
    """127.0.0.1:port that accepts and never answers (`accept`), or whose backlog is full: connects hang."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0 if not accept else 64)
    port = server.getsockname()[1]
    held: list[socket.socket] = []
    stop = threading.Event()
    if accept:

        def loop() -> None:
            server.settimeout(0.2)
            while not stop.is_set():
                with contextlib.suppress(OSError):
                    held.append(server.accept()[0])  # kept open, never read, never answered

        threading.Thread(target=loop, daemon=True).start()
    else:
        for _ in range(2):  # fill the accept queue: later SYNs are dropped, connect() waits
            c = socket.socket()
            c.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                c.connect(("127.0.0.1", port))
            held.append(c)
    try:
        yield port
    finally:
        stop.set()
        for s in held:
            s.close()
        server.close()


def dead(rounds: int, timeout: float = 2.0) -> list[str]:
    out: list[str] = []
    for accept, what in ((False, "connect hangs (backlog full)"), (True, "accepts, never answers")):
        with silent_listener(accept=accept) as port:
            url = f"ldap://127.0.0.1:{port}"
            ours = Peer(
                f"ldapcheck count --timeout {timeout:g}",
                [*CLI, "count", "--url", url, "--base", "dc=example,dc=org", "--timeout", f"{timeout:g}"],
                env=env(),
                ok_codes=(1,),
                limit=10 * timeout + 20,
            )
            peer = Peer(
                f"ldapsearch -o nettimeout={timeout:g}",
                ["ldapsearch", "-x", "-o", f"nettimeout={timeout:g}", "-H", url, "-b", "", "-s", "base"],
                ok_codes=(255, 1),
                limit=5 * timeout,
            )
            interleave([[ours, peer]], rounds)
            out += rows(f"dead server: {what}", ours, [peer])
    return out


# --- logins -----------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def ldap_lab(lab_env: str | None, tmp: Path) -> Iterator[dict[str, str]]:
    """LAB_* values of a running lab (`--lab-env`) or of one started here (removed afterwards)."""
    from ldapcheck.lab.containers import LabPaths
    from ldapcheck.lab.engine import docker_client
    from ldapcheck.lab.envfile import read_env_file, write_env_file
    from ldapcheck.lab.images import ensure_images
    from ldapcheck.lab.manager import prepare_files, start_lab
    from ldapcheck.lab.spec import new_spec

    if lab_env:
        values = read_env_file(Path(lab_env))
        values.setdefault("LAB_CONTAINER", f"{values['LAB_PROJECT']}-prosody-1")
        yield {**values, "LAB_ENV_FILE": lab_env}
        return
    client = docker_client()
    ensure_images(client)
    spec = new_spec(f"ldapcheck-bench-logins-{os.getpid()}", 1200)
    paths = LabPaths(tmp / "lab")
    prepare_files(spec, paths)
    openldap, prosody = start_lab(client, spec, paths)
    try:
        values = spec.lab_env(str(paths.ca_cert), paths.compose_values())
        env_file = tmp / "lab.env"
        write_env_file(env_file, values)
        yield {**values, "LAB_CONTAINER": str(prosody.name), "LAB_ENV_FILE": str(env_file)}
    finally:
        openldap.remove(force=True)
        prosody.remove(force=True)


def logins(rounds: int, tmp: Path, lab_env: str | None) -> tuple[list[str], list[str]]:
    from ldapcheck.lab.containers import write_private

    notes: list[str] = []
    out: list[str] = []
    with ldap_lab(lab_env, tmp) as lab:
        password, prosody, realm = lab["LAB_PASSWORD"], lab["LAB_CONTAINER"], lab.get("XMPP_DOMAIN", "meet.jitsi")
        pwfile = tmp / "alice.pw"
        write_private(pwfile, password)
        # The same work as ldapcheck's binds: StartTLS exactly when the .env asks for it.
        zz = "-ZZ" if lab.get("LDAP_START_TLS") == "1" else ""
        user_dn = f"uid={lab.get('LAB_USER', 'alice')},ou=users,{lab['LDAP_BASE']}"
        for concurrency, n_sasl, n_ldap in ((1, 300, 200), (5, 1000, 500)):
            bench = [*CLI, "bench", "logins", "--user", "alice", "--password-file", str(pwfile), "--json"]
            bench += ["-c", str(concurrency), "--duration", "300"]
            ours_s = Peer(
                f"ldapcheck bench logins --via saslauthd -c {concurrency}",
                [*bench, "--via", "saslauthd", "--container", prosody, "--max-logins", str(n_sasl)],
                env=env(),
            )
            loop = f'testsaslauthd -u alice -p "$PW" -s xmpp -r {realm} >/dev/null'
            inner = (
                f"PW=$(cat); for i in $(seq {n_sasl}); do {loop}; done"
                if concurrency == 1
                else f"export PW=$(cat); seq {n_sasl} | xargs -P {concurrency} -I{{}} sh -c '{loop}'"
            )
            peer_s = Peer(
                f"docker exec -i … testsaslauthd {'loop' if concurrency == 1 else f'| xargs -P {concurrency}'}",
                ["docker", "exec", "-i", prosody, "bash", "-c", inner],
                stdin=password,
            )
            ours_l = Peer(
                f"ldapcheck bench logins --via ldap -c {concurrency}",
                [*bench, "--via", "ldap", "--env-file", lab["LAB_ENV_FILE"], "--max-logins", str(n_ldap)],
                env=env(),
            )
            whoami = f"ldapwhoami -x {zz} -H {lab['LDAP_URL']} -D '{user_dn}' -y {pwfile} >/dev/null"
            tls = {**env(), "LDAPTLS_REQCERT": "allow"}  # ldapcheck's binds do not verify the certificate either
            peer_l = Peer(
                f"ldapwhoami {zz or '(plain)'} {'loop' if concurrency == 1 else f'| xargs -P {concurrency}'}",
                [
                    "bash",
                    "-c",
                    f"for i in $(seq {n_ldap}); do {whoami}; done"
                    if concurrency == 1
                    else f'seq {n_ldap} | xargs -P {concurrency} -I{{}} sh -c "{whoami}"',
                ],
                env=tls,
            )
            interleave([[ours_s, peer_s], [ours_l, peer_l]], rounds)
            for ours, peer, n in ((ours_s, peer_s, n_sasl), (ours_l, peer_l, n_ldap)):
                rates = [n / r.wall for r in ours.runs]
                peer_rates = [n / r.wall for r in peer.runs]
                reported = [json.loads(r.stdout)["throughput_per_s"] for r in ours.runs]
                p95 = [json.loads(r.stdout)["latency_ms"]["p95"] for r in ours.runs]
                figure = f"{n} logins, {concurrency} at once"
                out.append(
                    f"| {figure} | `{cell(ours.name)}` | {ours.span()} | {ours.rss_mb():.1f} | - | "
                    f"{ours.span(rates, '{:.0f}')} | {ours.span(reported, '{:.0f}')} "
                    f"(p95 {statistics.median(p95):.1f} ms) |"
                )
                out.append(
                    f"| {figure} | `{cell(peer.name)}` | {peer.span()} | {peer.rss_mb():.1f} | "
                    f"{ours.wall() / peer.wall():.2f}x | {peer.span(peer_rates, '{:.0f}')} | |"
                )
            limited = json.loads(ours_s.runs[-1].stdout)["limited_by"]
            notes.append(f"saslauthd, {concurrency} at once, `limited by`: " + " / ".join(limited))
    return out, notes


LOGIN_TABLE = (
    "| figure | command | wall s min / median / max | peak RSS MB | ratio of medians (ldapcheck / peer) "
    "| logins/s by wall (min / median / max) | logins/s as bench reports it (its own clock) |\n"
    "|---|---|---:|---:|---:|---:|---:|"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated: {', '.join(SECTIONS)}")
    parser.add_argument("--lab-env", help="a running lab's .env (ldapcheck lab up) for `logins`")
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()
    chosen = [s for s in args.only.split(",") if s]
    unknown = set(chosen) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    ensure_tools()
    if "token" in chosen:
        ensure_pyjwt()
    with tempfile.TemporaryDirectory(prefix="ldapcheck-figures-") as tmp_name:
        tmp = Path(tmp_name)
        for section in chosen:
            before = loadavg()
            notes: list[str] = []
            if section == "logins":
                body, notes = logins(args.rounds, tmp, args.lab_env)
                table = LOGIN_TABLE
            else:
                body = {"startup": lambda: startup(args.rounds), "token": lambda: token(args.rounds, tmp),
                        "dead": lambda: dead(args.rounds)}[section]()  # fmt: skip
                table = TABLE
            after = loadavg()
            busy = max(before[0], after[0]) > CPUS
            lines = [
                machine_line(before, args.rounds)
                + (f" — BUSY machine (load above {CPUS} cores): wall times are noisy" if busy else ""),
                "",
                table,
                *body,
                *([""] + [f"- {n}" for n in notes] if notes else []),
            ]
            print(f"\n## {section}\n" + "\n".join(lines), flush=True)
            if not args.no_readme:
                update_readme(f"figures-{section}", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
