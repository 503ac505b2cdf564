"""`ldapcheck bench logins` against the lab: real logins through saslauthd's socket and direct LDAP binds (the
session's LDAP lab), and XMPP logins to an internal-auth prosody (c2s, and BOSH through the web container's
nginx); a right password gives only successes, a wrong one only rejections, Ctrl-C the figures so far, and the
password is in no process's argv or environment."""

from __future__ import annotations

import json
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ldapcheck.lab.accounts import register
from ldapcheck.lab.containers import LabPaths, prosody_plan, run_container, web_plan
from ldapcheck.lab.engine import docker_client
from ldapcheck.lab.images import ensure_images
from ldapcheck.lab.manager import prepare_files
from ldapcheck.lab.ready import wait_for_port
from ldapcheck.lab.spec import LAB_USER, LabSpec, new_spec
from testing.info import LabInfo
from testing.procwatch import container_processes, watching

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
WRONG = "not-the-password-" + secrets.token_hex(4)


def bench(args: list[str], password: str, *, container: Any) -> tuple[int, dict[str, Any], str, list[str]]:
    """Run `bench logins --json` (password on stdin) while sampling ldapcheck's and the container's processes."""
    argv = [sys.executable, "-m", "ldapcheck", "bench", "logins", "--user", LAB_USER, "--password-stdin", "--json"]
    proc = subprocess.Popen(
        [*argv, "--container", str(container.name), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    inside: dict[int, tuple[bytes, bytes]] = {}
    with watching(proc) as watch:
        assert proc.stdin is not None and proc.stderr is not None
        proc.stdin.write(password + "\n")
        proc.stdin.close()
        proc.stdin = None  # communicate() must not flush it again
        first = proc.stderr.readline()  # the first progress line: the workers' execs are running now
        assert first.startswith("bench:"), first
        inside.update(container_processes(container))
        out, err = proc.communicate(timeout=90)
    leaks = watch.leaks({"password": password})
    inherited = {e.encode() for e in container.attrs["Config"]["Env"]}
    for pid, (cmdline, environ) in inside.items():
        if password.encode() in cmdline:
            leaks.append(f"password in the command line of container process {pid}")
        if any(password.encode() in e for e in environ.split(b"\0") if e not in inherited):
            leaks.append(f"password in the environment of container process {pid}")
    assert watch.rounds > 0
    return proc.returncode, json.loads(out), first + err, leaks


@pytest.mark.parametrize("via", ["saslauthd", "ldap"])
def test_ldap_lab_logins_with_the_right_password_all_succeed(lab: LabInfo, via: str) -> None:
    password = lab.users[LAB_USER]
    rc, report, err, leaks = bench(
        ["--via", via, "--concurrency", "4", "--duration", "2", "--env-file", str(lab.env_file)],
        password,
        container=lab.prosody,
    )
    assert rc == 0, err
    assert report["via"] == via
    assert report["logins"] > 0 and report["ok"] == report["logins"]
    assert report["failures"] == {}
    assert report["throughput_per_s"] > 0
    assert 0 < report["latency_ms"]["p50"] <= report["latency_ms"]["p95"] <= report["latency_ms"]["p99"]
    assert report["limited_by"], report
    assert leaks == []
    assert password not in json.dumps(report) and password not in err
    if via == "saslauthd":
        assert report["saslauthd_workers"] == 5  # the lab runs saslauthd with upstream's default -n
        assert report["server"]["request"] == f"{LAB_USER}@{lab.xmpp_domain} service xmpp"
    else:
        assert report["server"]["user_dn"].startswith(f"uid={LAB_USER},")


@pytest.mark.parametrize("via", ["saslauthd", "ldap"])
def test_ldap_lab_logins_with_a_wrong_password_are_all_rejected(lab: LabInfo, via: str) -> None:
    rc, report, err, leaks = bench(
        ["--via", via, "--concurrency", "2", "--duration", "2", "--env-file", str(lab.env_file)],
        WRONG,
        container=lab.prosody,
    )
    assert rc == 1, err
    assert report["logins"] > 0
    assert report["ok"] == 0
    assert report["failures"] == {"rejected": report["logins"]}
    assert report["limited_by"][0].startswith("every login was rejected")
    assert leaks == []


def test_ctrl_c_prints_the_figures_so_far_and_exits_130(lab: LabInfo) -> None:
    proc = subprocess.Popen(
        [
            *[sys.executable, "-m", "ldapcheck", "bench", "logins", "--user", LAB_USER, "--password-stdin"],
            *["--json", "--container", str(lab.prosody.name), "--duration", "60", "--max-logins", "1000000"],
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        # A background child of a non-interactive shell would ignore SIGINT: give it the default disposition.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stdin is not None and proc.stderr is not None
    proc.stdin.write(lab.users[LAB_USER] + "\n")
    proc.stdin.close()
    proc.stdin = None
    assert proc.stderr.readline().startswith("bench:")  # running: at least one second of logins
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    report = json.loads(out)
    assert report["interrupted"] is True and report["stopped_by"] == "interrupted"
    assert report["ok"] > 0 and report["elapsed_s"] < 30
    assert "Traceback" not in err


@pytest.fixture(scope="module")
def internal_prosody(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LabSpec, Any]]:
    """An internal-auth prosody (accounts in its own storage) with alice registered, and the lab's web container
    (nginx at PUBLIC_URL, proxying /http-bind to prosody) for the BOSH logins."""
    client = docker_client()
    ensure_images(client)
    spec = new_spec(f"ldapcheck-bench-{secrets.token_hex(3)}", 0, auth="internal", web=True)
    paths = LabPaths(tmp_path_factory.mktemp("bench-internal"))
    prepare_files(spec, paths)
    container = run_container(client, prosody_plan(spec, paths))
    web = run_container(client, web_plan(spec))
    try:
        wait_for_port(container, spec.c2s_port, what="prosody")
        wait_for_port(container, spec.http_port, what="prosody BOSH")
        register(container, LAB_USER, spec.xmpp_domain, spec.lab_password)
        wait_for_port(web, spec.web_port, what="nginx")
        yield spec, container
    finally:
        web.remove(force=True)
        container.remove(force=True)


@pytest.mark.parametrize("right", [True, False])
def test_xmpp_logins_to_internal_prosody(internal_prosody: tuple[LabSpec, Any], right: bool) -> None:
    spec, container = internal_prosody
    password = spec.lab_password if right else WRONG
    rc, report, err, leaks = bench(
        ["--via", "xmpp", "--concurrency", "4", "--duration", "2"], password, container=container
    )
    assert report["server"]["endpoint"] == f"127.0.0.1:{spec.c2s_port}"
    assert report["logins"] > 0
    assert report["saslauthd_workers"] is None
    assert report["cpu_cores"]["prosody"] is not None  # read from the container's /proc
    assert leaks == []
    if right:
        assert rc == 0, err
        assert report["ok"] == report["logins"] and report["failures"] == {}
        assert report["throughput_per_s"] > 0
    else:
        assert rc == 1, err
        assert report["failures"] == {"rejected": report["logins"]}


@pytest.mark.parametrize("right", [True, False])
def test_xmpp_bosh_logins_through_web(internal_prosody: tuple[LabSpec, Any], right: bool) -> None:
    """--transport bosh: each login is a BOSH session through the web container's nginx at PUBLIC_URL."""
    spec, container = internal_prosody
    password = spec.lab_password if right else WRONG
    args = ["--via", "xmpp", "--transport", "bosh", "--concurrency", "3", "--duration", "2"]
    rc, report, err, leaks = bench(args, password, container=container)
    assert report["server"]["transport"] == "bosh"
    assert report["server"]["endpoint"] == f"{spec.public_url}/http-bind"
    assert spec.public_url.startswith("http://127.0.0.1:") and str(spec.web_port) in spec.public_url  # nginx's port
    assert report["logins"] > 0
    assert leaks == []
    if right:
        assert rc == 0, err
        assert report["ok"] == report["logins"] and report["failures"] == {}
    else:
        assert rc == 1, err
        assert report["failures"] == {"rejected": report["logins"]}
