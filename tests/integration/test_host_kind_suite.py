"""The "Debian packages on this host" deployment kind in issue 16's suites, and its token host, run INSIDE the host
lab container as an admin would (`testing.hostlab`: `ldapcheck diagnose` there, the password on stdin).

- Secret leaks: every output mode of internal/LDAP/token scenarios; no sentinel in stdout, stderr, files written
  during the run, nor in `/proc/*/cmdline` and `/proc/*/environ` of any process in the container (prosody's and
  saslauthd's children included) while ldapcheck runs. The sampler runs as root in a container started with
  CAP_SYS_PTRACE (needed to read other users' environments) and proves that it read them.
- Faults on the host: prosody stopped, saslauthd killed, nginx stopped: a failed step with its id, exit 1, no
  traceback, no hang.
- The token host: what `diagnose` can honestly say of the lab's `--auth jwt` host (jitsi-meet's token plugin is
  not in Debian: prosody cannot load `mod_auth_token`), and its verdicts when app_secret is missing or the
  VirtualHost still uses internal_hashed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import pytest

from testing.hostlab import HostLab

pytestmark = pytest.mark.integration

BOUND = 60.0  # seconds a diagnose may take, faults included (none should come near)
SAMPLER = "/root/ldapcheck-sampler.py"
SENTINEL_FILE = "/root/ldapcheck-sentinels"  # 0600, read by the sampler: never in its argv or environment
SAMPLE_OUT = "/root/ldapcheck-sample.json"
STOP = "/root/ldapcheck-sampler.stop"
# The sampler: rounds over /proc until told to stop; it reports what it could read and any sentinel it saw.
SAMPLER_CODE = r"""
import json, os, sys
sentinels = [s for s in open(sys.argv[1]).read().split("\n") if s]
me = str(os.getpid())
rounds = environs = 0
leaks, readers = [], set()
while not os.path.exists(sys.argv[3]):
    rounds += 1
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or pid == me:
            continue
        for part in ("cmdline", "environ"):
            try:
                data = open(f"/proc/{pid}/{part}", "rb").read().decode("utf-8", "replace")
            except OSError:
                continue
            if part == "environ" and data:
                environs += 1
                try:
                    readers.add(os.stat(f"/proc/{pid}").st_uid)
                except OSError:
                    pass
            for s in sentinels:
                if s in data:
                    name = open(f"/proc/{pid}/comm").read().strip() if os.path.exists(f"/proc/{pid}/comm") else "?"
                    leaks.append(f"{part} of {pid} ({name})")
json.dump({"rounds": rounds, "environs": environs, "uids": sorted(readers), "leaks": leaks}, open(sys.argv[2], "w"))
"""
MODES: list[tuple[str, ...]] = [(), ("-v",), ("--json",), ("--markdown",), ("--markdown", "--sanitize"), ("--debug",)]


def sentinel(name: str) -> str:
    return f"{name}{secrets.token_hex(16)}"


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(claims: dict[str, Any], secret: str) -> str:
    head = b64u(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64u(json.dumps(claims).encode())
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64u(sig)}"


def lab_token(lab: HostLab) -> str:
    now = int(time.time())
    claims = {"iss": lab.env["JWT_APP_ID"], "aud": "jitsi", "sub": lab.domain, "room": "*", "exp": now + 600}
    return hs256({**claims, "nbf": now - 60}, lab.env["JWT_APP_SECRET"])


def diagnose(lab: HostLab, *args: str, stdin: str | None = None) -> tuple[int, str, str, float]:
    """`ldapcheck diagnose ARGS` inside the host (stdin: the password or the token); exit code, out, err, seconds."""
    start = time.monotonic()
    data = None if stdin is None else stdin.encode() + b"\n"
    # --debug is a global option: before the command
    debug = ("--debug",) if "--debug" in args else ()
    rest = [a for a in args if a != "--debug"]
    done = lab.exec(["ldapcheck", *debug, "diagnose", *rest], stdin=data, timeout=BOUND + 30)
    return done.exit_code, done.stdout, done.stderr, time.monotonic() - start


def report_of(out: str) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(out)
    return report


def verdict_id(report: dict[str, Any]) -> str | None:
    return (report.get("verdict") or {}).get("failure_id")


def step(report: dict[str, Any], step_id: str) -> dict[str, Any]:
    return next(s for s in report["steps"] if s["id"] == step_id)


# --- secret leaks on the host kind ----------------------------------------------------------------------------


class Sampler:
    """The /proc sampler inside the host, fed the sentinels through a 0600 file."""

    def __init__(self, lab: HostLab, sentinels: list[str]) -> None:
        self.lab = lab
        lab.write(SENTINEL_FILE, "\n".join(sentinels) + "\n", mode=0o600)
        lab.write(SAMPLER, SAMPLER_CODE)
        lab.exec(f"rm -f {STOP} {SAMPLE_OUT}; touch /root/ldapcheck-marker")
        lab.container.exec_run(["python3", SAMPLER, SENTINEL_FILE, SAMPLE_OUT, STOP], detach=True)

    def finish(self) -> dict[str, Any]:
        self.lab.exec(f"touch {STOP}")
        deadline = time.monotonic() + 30
        while True:
            done = self.lab.exec(f"cat {SAMPLE_OUT}")
            if done.exit_code == 0 and done.stdout.strip():
                sample: dict[str, Any] = json.loads(done.stdout)
                return sample
            assert time.monotonic() < deadline, "the sampler did not report"
            time.sleep(0.1)

    def written_leaks(self) -> list[str]:
        """Files changed since the sampler started that hold a sentinel (the sampler's own files aside)."""
        find = (
            "find / -xdev -newer /root/ldapcheck-marker -type f "
            f"! -path '/proc/*' ! -path '/sys/*' ! -path '{SENTINEL_FILE}' ! -path '{SAMPLER}' ! -path '{SAMPLE_OUT}' "
            f"-print0 2>/dev/null | xargs -0 -r grep -lF -f {SENTINEL_FILE} 2>/dev/null || true"
        )
        return [line for line in self.lab.exec(find).stdout.splitlines() if line]


# (name, auth, login password: "right" | "wrong", breakage, extra diagnose args)
LEAK_SCENARIOS: list[tuple[str, str, str, str]] = [
    ("internal healthy", "internal", "right", ""),
    ("internal wrong password", "internal", "wrong", ""),
    ("ldap healthy", "ldap", "right", ""),
    ("ldap wrong password", "ldap", "wrong", ""),
    ("ldap START=no", "ldap", "right", "sed -i 's/^START=.*/START=no/' /etc/default/saslauthd"),
]


@pytest.mark.parametrize(("name", "auth", "which", "breakage"), LEAK_SCENARIOS, ids=[s[0] for s in LEAK_SCENARIOS])
def test_no_secret_leaks_on_the_host_kind(
    host_labs: Callable[..., HostLab], name: str, auth: str, which: str, breakage: str
) -> None:
    lab = host_labs(auth).fresh(cap_add=("SYS_PTRACE",))
    if breakage:
        lab.exec(breakage + " && /etc/init.d/saslauthd stop; true")
    wrong = sentinel("wrongpw")
    password = lab.password if which == "right" else wrong
    sentinels = sorted({*lab.secrets(), wrong})
    sampler = Sampler(lab, sentinels)
    outputs: list[str] = []
    codes: list[int] = []
    try:
        for mode in MODES:
            code, out, err, seconds = diagnose(lab, *mode, "--user", lab.user, "--password-stdin", stdin=password)
            assert seconds < BOUND and "Traceback" not in err, f"{name} {mode}: {err[-1500:]}"
            outputs.append(f"--- {mode}\n{out}\n{err}")
            codes.append(code)
    finally:
        sample = sampler.finish()
    leaked = [f"{s[:8]}… in output of {o.splitlines()[0]}" for o in outputs for s in sentinels if s in o]
    assert not leaked, f"{name}: {leaked}"
    assert not sample["leaks"], f"{name}: /proc: {sample['leaks']}"
    assert not sampler.written_leaks(), f"{name}: written files"
    # The sampler saw what it is there to see: many rounds, and the environment of processes of other users
    # (prosody's uid, and saslauthd's children for LDAP) - else "no leak" would prove nothing.
    assert sample["rounds"] >= 5 and sample["environs"] > 0, sample
    prosody_uid = int(lab.exec("id -u prosody").stdout.strip())
    assert prosody_uid in sample["uids"], sample
    expected = 0 if which == "right" and not breakage else 1
    assert set(codes) == {expected}, f"{name}: exit codes {codes}"


def test_no_secret_leaks_on_a_token_host(host_labs: Callable[..., HostLab]) -> None:
    """The token host: the app_secret in prosody's config and a token given on stdin, every output mode."""
    lab = host_labs("jwt").fresh(cap_add=("SYS_PTRACE",))
    token = lab_token(lab)
    signature = token.rsplit(".", 1)[1]
    sentinels = sorted({*lab.secrets(), token, signature})
    sampler = Sampler(lab, sentinels)
    outputs = []
    try:
        for mode in MODES:
            code, out, err, seconds = diagnose(lab, *mode, "--token-stdin", stdin=token)
            assert seconds < BOUND and "Traceback" not in err and code == 1, f"{mode}: {code} {err[-1500:]}"
            outputs.append(out + err)
    finally:
        sample = sampler.finish()
    assert not [s for o in outputs for s in sentinels if s in o]
    assert not sample["leaks"] and sample["environs"] > 0, sample
    assert not sampler.written_leaks()


# --- faults on the host kind -----------------------------------------------------------------------------------

FAULTS: list[tuple[str, str, str, str, str]] = [
    # (name, auth, what breaks, the failed step, its failure id)
    ("prosody stopped", "internal", "/etc/init.d/prosody stop", "host.services", "HOST-SERVICE"),
    (
        "saslauthd killed",
        "ldap",
        "kill -9 $(pgrep -x saslauthd)",  # the master and its workers (-n 5): killing the master alone leaves them
        "host.services",
        "HOST-SERVICE",
    ),
    ("nginx stopped", "internal", "/etc/init.d/nginx stop", "xmpp.login.bosh", "WEB-BOSH"),
]


@pytest.mark.parametrize(("name", "auth", "breakage", "step_id", "failure_id"), FAULTS, ids=[f[0] for f in FAULTS])
def test_faults_on_the_host_kind(
    fresh_host: Callable[..., HostLab], name: str, auth: str, breakage: str, step_id: str, failure_id: str
) -> None:
    lab = fresh_host(auth)
    assert lab.exec(breakage).exit_code == 0
    code, out, err, seconds = diagnose(lab, "--json", "--user", lab.user, "--password-stdin", stdin=lab.password)
    assert seconds < BOUND and "Traceback" not in err, err[-1500:]
    assert code == 1, (code, err[-800:])
    report = report_of(out)
    failed = step(report, step_id)
    assert (failed["status"], failed["failure_id"]) == ("fail", failure_id), failed
    assert verdict_id(report) is not None
    assert "docker" not in json.dumps([failed.get("hint"), failed.get("reproduce")]).lower()


# --- the token host ---------------------------------------------------------------------------------------------


def test_a_healthy_token_host_says_what_it_can(host_labs: Callable[..., HostLab]) -> None:
    """Everything Debian can provide checks out; the token plugin is not in Debian, so prosody cannot load
    mod_auth_token and the honest verdict is JWT-MODULE (what an admin whose plugin is missing must hear)."""
    lab = host_labs("jwt")
    code, out, _err, _ = diagnose(lab, "--json")
    report = report_of(out)
    assert code == 1 and verdict_id(report) == "JWT-MODULE", report.get("verdict")
    assert report["meta"]["deployment"]["kind"] == "host"
    for passed in ("container.find", "host.services", "host.conf_links", "host.lua_libs", "jwt.prosody_config"):
        assert step(report, passed)["status"] == "pass", step(report, passed)
    libs = step(report, "host.lua_libs")
    assert "mod_auth_token" in json.dumps(libs["detail"]["not checked"])  # luajwtjitsi needs the plugin
    assert step(report, "jwt.clock")["status"] == "pass" and "not checked" in step(report, "jwt.clock")["summary"]
    assert step(report, "jicofo.auth")["status"] == "pass"
    config = step(report, "jwt.prosody_config")
    assert config["detail"]["app_secret"] == "(rendered, not shown)" and lab.env["JWT_APP_SECRET"] not in out
    assert "docker" not in json.dumps([s.get("hint", "") + s.get("reproduce", "") for s in report["steps"]]).lower()


def test_a_token_host_with_a_token(host_labs: Callable[..., HostLab]) -> None:
    """--token-stdin: the token is judged against the host's settings (app_id, app_secret from its files)."""
    lab = host_labs("jwt")
    code, out, _err, _ = diagnose(lab, "--json", "--token-stdin", stdin=lab_token(lab))
    report = report_of(out)
    assert code == 1
    token = step(report, "jwt.token")
    assert token["status"] == "pass", token
    assert verdict_id(report) == "JWT-MODULE"  # the login with it needs the plugin Debian does not have


def test_a_token_host_without_app_secret(fresh_host: Callable[..., HostLab]) -> None:
    lab = fresh_host("jwt")
    site = f"/etc/prosody/conf.avail/{lab.domain}.cfg.lua"
    assert lab.exec(f"sed -i '/^\\s*app_secret\\s*=/d' {site}").exit_code == 0
    report = report_of(diagnose(lab, "--json")[1])
    config = step(report, "jwt.prosody_config")
    assert config["failure_id"] == "JWT-CONFIG", config
    assert verdict_id(report) == "JWT-CONFIG", report["verdict"]
    assert f'app_secret in the VirtualHost "{lab.domain}"' in config["hint"]


def test_a_token_host_still_on_internal_hashed(fresh_host: Callable[..., HostLab]) -> None:
    """The guide's first step forgotten: the VirtualHost still asks passwords while jicofo expects tokens."""
    lab = fresh_host("jwt")
    site = f"/etc/prosody/conf.avail/{lab.domain}.cfg.lua"
    assert (
        lab.exec(f'sed -i \'0,/authentication = "token"/s//authentication = "internal_hashed"/\' {site}').exit_code == 0
    )
    lab.restart("prosody")
    report = report_of(diagnose(lab, "--json")[1])
    # The files now make an internal host (the mode is the VirtualHost's): judged as one, jicofo's type JWT is
    # what disagrees with it.
    assert verdict_id(report) == "JICOFO-AUTH-OFF", report["verdict"]
    assert "jwt.prosody_config" not in [s["id"] for s in report["steps"]]
    assert "systemctl restart jicofo" in step(report, "jicofo.auth")["hint"]
