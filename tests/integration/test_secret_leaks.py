"""No secret leaks: not in stdout, stderr, files ldapcheck writes, nor in the argv/environment of what it starts.

Sentinels are long random strings (a match means a leak, not a coincidence): the bind password (LDAP_BINDPW), a
user's password, JWT_APP_SECRET, a token, a PEM private key (served by a key server) and the lab's own secrets
(admin password, service bind password, alice's password; the lab's `.env` holds them all). Each scenario runs the
real console script in a subprocess with its own working directory, TMPDIR and HOME, and samples /proc for
ldapcheck's command line and its descendants' command lines and environments while it runs. Where a moment matters
(ldapcheck holding a password while it waits), the sample is taken once a fake server has observably received the
request it will never answer. Inside the prosody container, the processes ldapcheck's execs start are sampled
while the probe waits on such a server.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.server
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ldapcheck.lab.envfile import write_env_file
from testing.fakeldap import fake_ldap
from testing.info import LabInfo
from testing.procwatch import container_processes, watching

pytestmark = pytest.mark.integration

BOUND = 90


def sentinel(name: str) -> str:
    return f"{name}-{secrets.token_urlsafe(30)}"


BINDPW = sentinel("bindpw")
USERPW = sentinel("userpw")
JWT_SECRET = sentinel("jwtsecret")


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(claims: Mapping[str, Any], secret: str, header: Mapping[str, Any] | None = None) -> str:
    import hmac

    head = b64u(json.dumps(header or {"alg": "HS256", "typ": "JWT"}).encode())
    body = b64u(json.dumps(claims).encode())
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64u(sig)}"


NOW = int(time.time())
CLAIMS = {"iss": "app", "aud": "jitsi", "sub": "meet.jitsi", "room": "*", "exp": NOW + 3600, "nbf": NOW - 60}
TOKEN = hs256(CLAIMS, JWT_SECRET)


@pytest.fixture(scope="module")
def private_key() -> tuple[Any, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key, pem


def pem_sentinels(pem: str) -> dict[str, str]:
    """The random lines of a PEM body (the first ones are the ASN.1 header every key shares)."""
    lines = pem.strip().splitlines()[1:-1]
    return {f"private key line {i}": line for i, line in enumerate(lines) if i >= 2 and len(line) == 64}


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    files: dict[str, bytes] = field(default_factory=dict)
    process_leaks: list[str] = field(default_factory=list)
    rounds: int = 0
    debug: bool = False


@dataclass
class Sandbox:
    root: Path

    @property
    def work(self) -> Path:
        return self.root / "work"

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LDAPCHECK_", "XDG_"))}
        env.update(
            {
                "HOME": str(self.root / "home"),
                "TMPDIR": str(self.root / "tmp"),
                "XDG_STATE_HOME": str(self.root / "home" / "state"),
                "NO_COLOR": "1",
                **(extra or {}),
            }
        )
        return env

    def written(self, allowed: set[str]) -> dict[str, bytes]:
        out = {}
        for path in self.root.rglob("*"):
            rel = str(path.relative_to(self.root))
            if path.is_file() and rel not in allowed:
                out[rel] = path.read_bytes()
        return out


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    root = tmp_path / "sandbox"  # tmp_path itself also holds fixtures' files (prosody_factory's saslauthd.conf)
    for sub in ("work", "home", "tmp"):
        (root / sub).mkdir(parents=True)
    return Sandbox(root)


PATCHED = """
import sys
exec(sys.argv[1])
sys.argv = ["ldapcheck", *sys.argv[2:]]
from ldapcheck.entry import main
main()
"""


def run(
    sandbox: Sandbox,
    args: list[str],
    *,
    stdin: str = "",
    env: Mapping[str, str] | None = None,
    allowed_files: set[str] | None = None,
    patch: str | None = None,
    blocked: threading.Event | None = None,
    secrets_: Mapping[str, str] = {},
) -> Outcome:
    """Run ldapcheck; when `blocked` is given, take a /proc sample once it is set (ldapcheck waits there)."""
    argv = [sys.executable, "-c", PATCHED, patch, *args] if patch else [sys.executable, "-m", "ldapcheck", *args]
    proc = subprocess.Popen(
        argv,
        cwd=sandbox.work,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=sandbox.env(env),
    )
    with watching(proc) as watch:
        reader = threading.Thread(target=lambda: result.append(proc.communicate(stdin, timeout=BOUND)), daemon=True)
        result: list[tuple[str, str]] = []
        reader.start()
        if blocked is not None:
            assert blocked.wait(BOUND), "ldapcheck never reached the point to sample"
            watch.take()
        reader.join(BOUND + 5)
    assert result, "ldapcheck did not end"
    out, err = result[0]
    return Outcome(
        proc.returncode,
        out,
        err,
        sandbox.written(allowed_files or set()),
        watch.leaks(dict(secrets_)),
        watch.rounds,
        "--debug" in args,
    )


def assert_clean(outcome: Outcome, secrets_: Mapping[str, str], *, stdout_may_hold: Collection[str] = ()) -> None:
    problems = list(outcome.process_leaks)
    for name, value in secrets_.items():
        if name not in stdout_may_hold and value in outcome.stdout:
            problems.append(f"{name} in stdout")
        if value in outcome.stderr:
            problems.append(f"{name} in stderr")
        problems += [f"{name} in the file {f}" for f, data in outcome.files.items() if value.encode() in data]
    assert not problems, f"{problems}\n--- stdout\n{outcome.stdout}\n--- stderr\n{outcome.stderr}"
    assert outcome.debug or "Traceback" not in outcome.stderr, outcome.stderr
    assert outcome.rounds > 0, "the process was never sampled"


def lab_secrets(lab: LabInfo) -> dict[str, str]:
    return {
        "lab admin password": lab.admin_password,
        "lab bind password": lab.bind_password,
        "alice's password": lab.users["alice"],
    }


def all_secrets(lab: LabInfo, **extra: str) -> dict[str, str]:
    return {
        "LDAP_BINDPW sentinel": BINDPW,
        "user password sentinel": USERPW,
        "JWT_APP_SECRET sentinel": JWT_SECRET,
        "token": TOKEN,
        "token signature": TOKEN.rsplit(".", 1)[1],
        **lab_secrets(lab),
        **extra,
    }


def env_file(sandbox: Sandbox, values: Mapping[str, str], name: str = ".env") -> Path:
    path = sandbox.work / name
    write_env_file(path, values)
    return path


def lab_values(lab: LabInfo, **overrides: str) -> dict[str, str]:
    """The lab's whole `.env` (LAB_ADMIN_PASSWORD, LAB_PASSWORD included), with overrides."""
    from ldapcheck.lab.envfile import read_env_file

    return {**read_env_file(lab.env_file), **overrides}


MODES = {
    "text": [],
    "verbose": ["-v"],
    "json": ["--json"],
    "markdown": ["--markdown"],
    "sanitized": ["--markdown", "--sanitize"],
}


def with_mode(args: list[str], mode: str) -> list[str]:
    return ["--debug", *args] if mode == "debug" else [*args, *MODES[mode]]


ALL_MODES = [*MODES, "debug"]


# --- diagnose, user, count, validate on the host (the lab's directory) ----------------------------------------------


@pytest.mark.parametrize("mode", ALL_MODES)
def test_diagnose_host_only_wrong_bind_password(lab: LabInfo, sandbox: Sandbox, mode: str) -> None:
    env_file(sandbox, lab_values(lab, LDAP_BINDPW=BINDPW))
    args = with_mode(["diagnose", "--no-container", "--user", "alice", "--password-stdin"], mode)
    outcome = run(sandbox, args, stdin=USERPW + "\n", allowed_files={"work/.env"}, secrets_=all_secrets(lab))
    assert outcome.code == 1, outcome.stdout + outcome.stderr
    assert_clean(outcome, all_secrets(lab))


@pytest.mark.parametrize("mode", ALL_MODES)
def test_diagnose_host_only_wrong_user_password(lab: LabInfo, sandbox: Sandbox, mode: str) -> None:
    env_file(sandbox, lab_values(lab))
    args = with_mode(["diagnose", "--no-container", "--user", "alice", "--password-stdin"], mode)
    outcome = run(sandbox, args, stdin=USERPW + "\n", allowed_files={"work/.env"}, secrets_=all_secrets(lab))
    assert outcome.code == 1, outcome.stdout + outcome.stderr
    assert_clean(outcome, all_secrets(lab))


@pytest.mark.parametrize("mode", ["text", "json", "debug"])
def test_user_right_password(lab: LabInfo, sandbox: Sandbox, mode: str) -> None:
    env_file(sandbox, lab_values(lab))
    args = with_mode(["user", "alice", "--password-stdin"], mode)
    outcome = run(sandbox, args, stdin=lab.users["alice"] + "\n", allowed_files={"work/.env"})
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert_clean(outcome, all_secrets(lab))


@pytest.mark.parametrize("mode", ["text", "json", "markdown", "debug"])
def test_count(lab: LabInfo, sandbox: Sandbox, mode: str) -> None:
    env_file(sandbox, lab_values(lab))
    outcome = run(sandbox, with_mode(["count"], mode), allowed_files={"work/.env"})
    assert outcome.code in (0, 1), outcome.stdout + outcome.stderr
    assert_clean(outcome, all_secrets(lab))


@pytest.mark.parametrize("mode", ["json", "sanitized"])
def test_validate(lab: LabInfo, sandbox: Sandbox, mode: str) -> None:
    env_file(sandbox, lab_values(lab))
    outcome = run(sandbox, with_mode(["validate", "--sample", "5"], mode), allowed_files={"work/.env"})
    assert outcome.code in (0, 1), outcome.stdout + outcome.stderr
    assert_clean(outcome, all_secrets(lab))


def test_bind_password_from_the_environment_is_not_echoed(lab: LabInfo, sandbox: Sandbox) -> None:
    values = {k: v for k, v in lab_values(lab).items() if k != "LDAP_BINDPW"}
    env_file(sandbox, values)
    outcome = run(
        sandbox,
        ["count", "--json"],
        env={"LDAPCHECK_BIND_PASSWORD": BINDPW},
        allowed_files={"work/.env"},
    )
    assert outcome.code == 1
    assert_clean(outcome, all_secrets(lab))


# --- failures: a silent server holds ldapcheck while it has the passwords --------------------------------------------


@pytest.mark.parametrize(("silent_at", "mode"), [("bind", "text"), ("bind", "debug"), ("search", "json")])
def test_silent_server_sampled_while_ldapcheck_waits(lab: LabInfo, sandbox: Sandbox, silent_at: str, mode: str) -> None:
    with fake_ldap(silent_at, base=lab.suffix) as server:
        env_file(sandbox, lab_values(lab, LDAP_URL=server.url, LDAP_BINDPW=BINDPW))
        args = with_mode(["diagnose", "--no-container", "--user", "alice", "--password-stdin", "--timeout", "2"], mode)
        outcome = run(
            sandbox,
            args,
            stdin=USERPW + "\n",
            allowed_files={"work/.env"},
            blocked=server.reached,
            secrets_=all_secrets(lab),
        )
    assert outcome.code == 1, outcome.stdout + outcome.stderr
    assert_clean(outcome, all_secrets(lab))


@pytest.mark.parametrize("mode", ["text", "json"])
def test_unparseable_env_file_does_not_quote_the_secret(lab: LabInfo, sandbox: Sandbox, mode: str) -> None:
    (sandbox.work / ".env").write_text(f'AUTH_TYPE=ldap\nLDAP_URL=ldap://x\nLDAP_BINDPW="{BINDPW}\nX=1\n')
    for command in (["diagnose", "--no-container"], ["lint"]):
        args = [*command, "--json"] if mode == "json" else command
        outcome = run(sandbox, args, allowed_files={"work/.env"})
        assert outcome.code == 2, outcome.stdout + outcome.stderr
        assert_clean(outcome, all_secrets(lab))


# --- internal errors (a step patched to crash with the secret in its message) ----------------------------------------

CRASH_IN_BIND = """
import ldapcheck.auth.ldap.host.directory as d
def crash(ctx):
    raise ValueError("invalid literal for int() with base 10: %r" % ctx.settings.bind_password.reveal())
real = d.service_bind_step
def patched():
    step = real()
    object.__setattr__(step, "run", crash)
    return step
d.service_bind_step = patched
"""


@pytest.mark.parametrize("mode", ALL_MODES)
def test_internal_error_in_a_step(lab: LabInfo, sandbox: Sandbox, mode: str) -> None:
    env_file(sandbox, lab_values(lab, LDAP_BINDPW=BINDPW))
    args = with_mode(["diagnose", "--no-container", "--user", "alice", "--password-stdin"], mode)
    outcome = run(sandbox, args, stdin=USERPW + "\n", allowed_files={"work/.env"}, patch=CRASH_IN_BIND)
    assert outcome.code == 3, outcome.stdout + outcome.stderr
    assert "LDAPCHECK-INTERNAL" in outcome.stdout
    assert_clean(outcome, all_secrets(lab))


CRASH_IN_COMMAND = """
from ldapcheck.auth.ldap import chain
def crash(command, steps, settings, options, **kwargs):
    raise KeyError((settings.bind_password.reveal(), options.password.reveal()))
chain.run_chain = crash
"""


@pytest.mark.parametrize("mode", ["text", "debug"])
def test_internal_error_outside_the_steps(lab: LabInfo, sandbox: Sandbox, mode: str) -> None:
    env_file(sandbox, lab_values(lab, LDAP_BINDPW=BINDPW))
    args = with_mode(["user", "alice", "--password-stdin"], mode)
    outcome = run(sandbox, args, stdin=USERPW + "\n", allowed_files={"work/.env"}, patch=CRASH_IN_COMMAND)
    assert outcome.code == 3, outcome.stdout + outcome.stderr
    assert_clean(outcome, all_secrets(lab))


# --- the prosody container -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["text", "verbose", "json", "sanitized", "debug"])
def test_diagnose_with_the_container(lab: LabInfo, sandbox: Sandbox, mode: str) -> None:
    env_file(sandbox, lab_values(lab))
    args = with_mode(["diagnose", "--user", "alice", "--password-stdin", "--container", lab.prosody.name], mode)
    outcome = run(sandbox, args, stdin=lab.users["alice"] + "\n", allowed_files={"work/.env"})
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert_clean(outcome, all_secrets(lab))


@pytest.mark.parametrize("mode", ["text", "json"])
def test_testsasl_wrong_password(lab: LabInfo, sandbox: Sandbox, mode: str) -> None:
    args = with_mode(["testsasl", "alice", "--password-stdin", "--container", lab.prosody.name], mode)
    outcome = run(sandbox, args, stdin=USERPW + "\n", secrets_=all_secrets(lab))
    assert outcome.code == 1, outcome.stdout + outcome.stderr
    assert_clean(outcome, all_secrets(lab))


def test_container_processes_hold_no_secret(lab: LabInfo, sandbox: Sandbox, prosody_factory: Any) -> None:
    """Inside prosody: sample every process ldapcheck's execs started, while its probe waits on a silent directory.

    The container's own environment holds its LDAP_BINDPW (docker-jitsi-meet passes it so), and a `docker exec`
    inherits it: that entry is allowed in an exec'd process's environment, nothing else.
    """
    with fake_ldap("bind", base=lab.suffix) as server:
        container, _info = prosody_factory({"LDAP_URL": server.url, "LDAP_BINDPW": BINDPW})
        before = set(container_processes(container))
        inherited = {e.encode() for e in container.attrs["Config"]["Env"]}
        env_file(sandbox, lab_values(lab))
        args = ["diagnose", "--user", "alice", "--password-stdin", "--container", container.name, "--json"]
        seen: dict[int, tuple[bytes, bytes]] = {}
        sampled = threading.Event()

        def sample_inside() -> None:
            # The host's bind may hang before the container's exec has started (the host chain is faster than the
            # engine round trips since it binds with the wire client): poll until ldapcheck's processes show up.
            server.reached.wait(BOUND)
            deadline = time.monotonic() + BOUND
            while time.monotonic() < deadline:
                seen.update(container_processes(container))
                if set(seen) - before:
                    break
            sampled.set()

        sampler = threading.Thread(target=sample_inside, daemon=True)
        sampler.start()
        outcome = run(sandbox, args, stdin=USERPW + "\n", allowed_files={"work/.env"}, blocked=sampled)
        sampler.join(BOUND)
    assert outcome.code == 1, outcome.stdout + outcome.stderr
    assert_clean(outcome, all_secrets(lab))
    started = {pid: v for pid, v in seen.items() if pid not in before}
    assert started, "no process of ldapcheck's execs was seen in the container"
    problems = []
    for pid, (cmdline, environ) in started.items():
        entries = [e for e in environ.split(b"\0") if e and e not in inherited]
        for name, value in all_secrets(lab).items():
            if value.encode() in cmdline:
                problems.append(f"{name} in the command line of {pid}: {cmdline!r}")
            if any(value.encode() in e for e in entries):
                problems.append(f"{name} in the environment of {pid}")
    assert not problems, problems


# --- the .env tools --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["text", "json"])
def test_lint(lab: LabInfo, sandbox: Sandbox, mode: str) -> None:
    values = lab_values(lab, LDAP_BINDPW=f"{BINDPW}$x", JWT_APP_SECRET=JWT_SECRET, LDAP_URL="ldap://a ldap://b")
    env_file(sandbox, values)
    outcome = run(sandbox, ["lint", *(["--json"] if mode == "json" else [])], allowed_files={"work/.env"})
    assert outcome.code in (0, 1), outcome.stdout + outcome.stderr
    assert_clean(outcome, all_secrets(lab))


@pytest.mark.parametrize("generation", ["current", "legacy"])
def test_render_redacted(lab: LabInfo, sandbox: Sandbox, generation: str) -> None:
    env_file(sandbox, lab_values(lab, LDAP_BINDPW=BINDPW))
    args = ["render", "saslauthd", "--env-file", ".env", "--redact", "--generation", generation]
    outcome = run(sandbox, args, allowed_files={"work/.env"})
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert "ldap_bind_pw: ********" in outcome.stdout
    assert_clean(outcome, all_secrets(lab))


def test_render_from_the_environment_redacted(lab: LabInfo, sandbox: Sandbox) -> None:
    env = {"AUTH_TYPE": "ldap", "LDAP_URL": "ldap://x", "LDAP_BINDDN": "cn=a", "LDAP_BINDPW": BINDPW}
    outcome = run(sandbox, ["render", "saslauthd", "--redact"], env=env)
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert_clean(outcome, {"LDAP_BINDPW sentinel": BINDPW})


def test_env_generate_write_ldap(lab: LabInfo, sandbox: Sandbox) -> None:
    (sandbox.work / ".env").write_text("# mine\nOTHER=1\n")
    args = ["env", "generate", "--url", lab.ldap_url, "--base", lab.suffix, "--bind-dn", lab.bind_dn]
    args += ["--filter", "(uid=%u)", "--xmpp-domain", "meet.jitsi", "--no-start-tls", "--bind-password-stdin"]
    outcome = run(sandbox, [*args, "--write", ".env"], stdin=BINDPW + "\n", allowed_files={"work/.env"})
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert BINDPW in (sandbox.work / ".env").read_text()  # the .env itself holds it, of course
    backups = {f for f in outcome.files if f.startswith("work/.env")}
    assert_clean(
        Outcome(
            outcome.code,
            outcome.stdout,
            outcome.stderr,
            {k: v for k, v in outcome.files.items() if k not in backups},
            rounds=1,
        ),
        all_secrets(lab),
    )


def test_env_generate_write_jwt(lab: LabInfo, sandbox: Sandbox) -> None:
    args = ["env", "generate", "--auth", "jwt", "--app-id", "app", "--app-secret-stdin", "--write", ".env"]
    outcome = run(sandbox, args, stdin=JWT_SECRET + "\n", allowed_files={"work/.env"})
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert JWT_SECRET in (sandbox.work / ".env").read_text()
    assert_clean(outcome, all_secrets(lab))


# --- tokens ---------------------------------------------------------------------------------------------------------

JWT_ENV = {
    "ENABLE_AUTH": "1",
    "AUTH_TYPE": "jwt",
    "XMPP_DOMAIN": "meet.jitsi",
    "JWT_APP_ID": "app",
    "JWT_APP_SECRET": JWT_SECRET,
    "JWT_ACCEPTED_AUDIENCES": "jitsi",
    "PUBLIC_URL": "https://meet.example",
}


@pytest.mark.parametrize("mode", ALL_MODES)
def test_token_check(lab: LabInfo, sandbox: Sandbox, mode: str) -> None:
    env_file(sandbox, JWT_ENV)
    outcome = run(
        sandbox, with_mode(["token", "check", "--room", "r1"], mode), stdin=TOKEN, allowed_files={"work/.env"}
    )
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert_clean(outcome, all_secrets(lab))


def test_token_check_refused_signature(lab: LabInfo, sandbox: Sandbox) -> None:
    env_file(sandbox, {**JWT_ENV, "JWT_APP_SECRET": sentinel("othersecret")})
    outcome = run(sandbox, ["token", "check", "-v"], stdin=TOKEN, allowed_files={"work/.env"})
    assert outcome.code == 1, outcome.stdout + outcome.stderr
    assert_clean(outcome, all_secrets(lab))


def test_token_from_the_environment(lab: LabInfo, sandbox: Sandbox) -> None:
    env_file(sandbox, JWT_ENV)
    outcome = run(sandbox, ["token", "check", "--json"], env={"LDAPCHECK_TOKEN": TOKEN}, allowed_files={"work/.env"})
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    assert_clean(outcome, all_secrets(lab))


@contextlib.contextmanager
def key_server(pem: str) -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pem.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("mode", ["verbose", "json", "debug"])
def test_token_check_with_a_key_server_serving_a_private_key(
    lab: LabInfo, sandbox: Sandbox, private_key: tuple[Any, str], mode: str
) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    key, pem = private_key
    head = b64u(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "k1"}).encode())
    body = b64u(json.dumps(CLAIMS).encode())
    sig = key.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    token = f"{head}.{body}.{b64u(sig)}"
    with key_server(pem) as url:
        env_file(sandbox, {k: v for k, v in JWT_ENV.items() if k != "JWT_APP_SECRET"} | {"JWT_ASAP_KEYSERVER": url})
        outcome = run(sandbox, with_mode(["token", "check"], mode), stdin=token, allowed_files={"work/.env"})
    assert outcome.code in (0, 1), outcome.stdout + outcome.stderr
    assert_clean(outcome, {**all_secrets(lab), **pem_sentinels(pem), "RS256 token": token})


def test_token_mint_prints_only_its_token(lab: LabInfo, sandbox: Sandbox) -> None:
    env_file(sandbox, JWT_ENV)
    outcome = run(sandbox, ["token", "mint", "--user", "alice", "--room", "r1"], allowed_files={"work/.env"})
    assert outcome.code == 0, outcome.stdout + outcome.stderr
    minted = outcome.stdout.split()[0]
    assert minted.startswith("eyJ") and minted in outcome.stdout
    assert_clean(
        outcome,
        {**all_secrets(lab), "minted token": minted, "minted signature": minted.rsplit(".", 1)[1]},
        stdout_may_hold={"minted token", "minted signature"},
    )


# --- commands that hold no secret of their own: the environment's secrets are not echoed ------------------------------


@pytest.mark.parametrize(
    "args", [["explain", "RC-49"], ["explain"], ["explain", "--json"], ["lab", "status"], ["lab", "status", "--json"]]
)
def test_commands_without_secrets(lab: LabInfo, sandbox: Sandbox, args: list[str]) -> None:
    env_file(sandbox, lab_values(lab, LDAP_BINDPW=BINDPW, JWT_APP_SECRET=JWT_SECRET))
    outcome = run(
        sandbox, args, env={"LDAPCHECK_PASSWORD": USERPW, "LDAPCHECK_TOKEN": TOKEN}, allowed_files={"work/.env"}
    )
    assert outcome.code in (0, 1, 2), outcome.stdout + outcome.stderr
    assert_clean(outcome, all_secrets(lab))
