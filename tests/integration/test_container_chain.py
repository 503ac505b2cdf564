"""The container steps and the verdict against real prosody/saslauthd containers of the lab.

Each scenario asserts the failing step id and the verdict's failure id (host chain + container chain, as
`ldapcheck diagnose` runs them).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from ldapcheck.auth.ldap import chain
from ldapcheck.auth.ldap.render import render
from ldapcheck.auth.ldap.settings import from_env
from ldapcheck.commands import testsasl
from ldapcheck.commands.diagnose import diagnose as run_diagnose
from ldapcheck.commands.inside import ContainerOptions, start_container
from ldapcheck.core.model import Report, Status
from ldapcheck.core.secrets import Secret
from ldapcheck.lab.containers import Mount, prosody_plan, run_container
from ldapcheck.lab.ready import wait_for_port
from ldapcheck.lab.spec import free_port
from ldapcheck.report import Format
from ldapcheck.report import render as render_report
from testing import servers
from testing.info import LabInfo

pytestmark = pytest.mark.integration

WAIT = 15.0


def diagnose(
    lab: LabInfo,
    container: str,
    login: str | None,
    password: str | None,
    *,
    env: Mapping[str, str] | None = None,
    expected_env: Mapping[str, str] | None = None,
    testsaslauthd: bool = False,
    docker_host: str | None = None,
) -> Report:
    """Host chain from the operator's .env values, then the container chain: what `ldapcheck diagnose` does."""
    values = dict(env or lab.env)
    settings = from_env(values)
    secret = Secret(password) if password is not None else None
    options = chain.ChainOptions(user=login, password=secret, count=False)
    inside = start_container(
        ContainerOptions(container=container, docker_host=docker_host, testsaslauthd=testsaslauthd)
    )
    return run_diagnose(
        settings,
        options,
        inside=inside,
        expected_env=expected_env,
        env_file="lab .env" if expected_env is not None else None,
    )


def status(report: Report, step_id: str) -> Status:
    result = report.step(step_id)
    assert result is not None, f"{step_id} did not run: {[s.id for s in report.steps]}"
    return result.status


def failed(report: Report, step_id: str, failure_id: str) -> None:
    result = report.step(step_id)
    assert result is not None, f"{step_id} did not run"
    assert (result.status, result.failure_id) == (Status.FAIL, failure_id), render_report(report, Format.TEXT)


def verdict_id(report: Report) -> str | None:
    return report.verdict.failure_id if report.verdict else None


def container_failures(report: Report) -> list[str]:
    return [s.id for s in report.steps if s.id.startswith("container.") and s.status is Status.FAIL]


def until(condition: Any, what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def saslauthd_pids(container: Any) -> list[str]:
    # A killed saslauthd master may stay a zombie (its parent is prosody, which does not reap it);
    # zombies have an empty cmdline.
    script = (
        'for p in /proc/[0-9]*; do tr "\\0" " " <$p/cmdline 2>/dev/null | grep -q "^saslauthd " '
        "&& echo ${p#/proc/}; done"
    )
    out = container.exec_run(["bash", "-c", script], user="0").output.decode()
    return out.split()


# --- healthy ---------------------------------------------------------------------------------------


def test_healthy_chain_all_container_steps_pass_and_both_logins_agree(lab: LabInfo) -> None:
    password = lab.users["alice"]
    report = diagnose(lab, lab.prosody.name, "alice", password, expected_env=lab.env, testsaslauthd=True)
    assert container_failures(report) == []
    assert report.verdict is not None and report.verdict.failure_id is None
    assert report.verdict.cause.startswith("alice can log in through Jitsi")
    for step_id in (
        "container.find",
        "container.generation",
        "container.env_drift",
        "container.saslauthd_conf",
        "container.saslauthd_conf_perms",
        "container.saslauthd_process",
        "container.saslauthd_socket",
        "container.sasl_app_conf",
        "container.prosody_config",
        f"container.net[127.0.0.1:{lab.ldap_port}]",
        "container.ldap_chain",
        "container.saslauthd_protocol",
        "container.testsaslauthd",
    ):
        assert status(report, step_id) in (Status.PASS, Status.WARN), step_id
    process = report.step("container.saslauthd_process")
    assert process is not None and "-c" in str(process.detail["options"])
    # the password never leaves: not in any output format, not in any reproduce command
    for fmt in (Format.TEXT, Format.JSON, Format.MARKDOWN):
        assert password not in render_report(report, fmt, verbose=True)
    assert password in report.secrets and lab.bind_password in report.secrets
    assert all(password not in s.reproduce for s in report.steps)


def test_prefetched_execs_are_timed_on_the_steps_that_read_them(lab: LabInfo) -> None:
    """As `diagnose` runs it: the execs run in the background during the host chain; their time is not lost."""
    password = lab.users["alice"]
    settings = from_env(dict(lab.env))
    inside = start_container(ContainerOptions(container=lab.prosody.name))
    host_options = chain.ChainOptions(user="alice", password=Secret(password), count=False)
    report = run_diagnose(settings, host_options, inside=inside)
    assert container_failures(report) == []

    def ms(step_id: str) -> float:
        step = report.step(step_id)
        assert step is not None, step_id
        return step.duration_ms

    # Each exec takes tens of ms; read after the prefetch finished, these steps would otherwise say ~0 ms.
    assert ms("container.generation") >= 5  # the facts exec, charged to its first reader
    assert ms("container.saslauthd_socket") >= 5  # the probe exec's overhead + the socket connect


def test_password_appears_in_no_exec_arguments(
    lab: LabInfo, prosody_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Record every exec we ask the engine for (it still runs for real): no secret in argv or environment.

    Both clients are recorded: diagnose's own (`adapters.engine`, a local engine) and the docker SDK's (ssh://, TLS).
    """
    from docker.api.exec_api import ExecApiMixin

    from ldapcheck.adapters import engine

    sent: list[str] = []

    def recorder(original: Any) -> Any:
        def recording(self: Any, container: Any, cmd: Any, *args: Any, **kwargs: Any) -> Any:
            sent.append(json.dumps({"cmd": cmd, "environment": kwargs.get("environment"), "user": kwargs.get("user")}))
            return original(self, container, cmd, *args, **kwargs)

        return recording

    container, _info = prosody_factory()
    monkeypatch.setattr(ExecApiMixin, "exec_create", recorder(ExecApiMixin.exec_create))
    monkeypatch.setattr(engine.Api, "exec_create", recorder(engine.Api.exec_create))
    password = lab.users["alice"]
    report = diagnose(lab, container.name, "alice", password, expected_env=lab.env)
    assert status(report, "container.saslauthd_protocol") is Status.PASS
    assert status(report, "container.ldap_chain") is Status.PASS  # the bind password went in too
    assert len(sent) == 1  # one exec: the facts, then the probe as prosody's user in it
    assert all(password not in s and lab.bind_password not in s for s in sent)
    # the opt-in testsaslauthd is the one exception, and it says so
    opted = diagnose(lab, container.name, "alice", password, testsaslauthd=True)
    step = opted.step("container.testsaslauthd")
    assert step is not None and step.status is Status.PASS and "argv" in str(step.detail["note"])
    assert sum(password in s for s in sent) == 1


# Inside the container: says `ready`, polls /proc until the probe runs, then prints a line per process:
# `PID UID PPID BASE64(cmdline) BASE64(environ)` (the environment empty where the sampler may not read it).
PROC_SAMPLER = r"""
echo ready
found=
while [[ -z $found ]]; do
  for p in /proc/[0-9]*; do
    args=()
    mapfile -d '' -t args 2>/dev/null <"$p/cmdline" || continue
    [[ ${args[0]:-} == lua5.4 && ${args[2]:-} == *"ldapcheck in-container probe"* ]] && found=1
  done
done
for p in /proc/[0-9]*; do
  [[ $p == /proc/$$ || ! -r $p/status ]] && continue
  uid= ppid=
  while read -r key value _; do
    if [[ $key == Uid: ]]; then uid=$value; elif [[ $key == PPid: ]]; then ppid=$value; fi
  done 2>/dev/null <"$p/status"
  printf '%s %s %s %s %s\n' "${p#/proc/}" "$uid" "$ppid" "$(base64 -w0 2>/dev/null <"$p/cmdline")" \
    "$(base64 -w0 2>/dev/null <"$p/environ")"
done
"""


def test_password_in_no_process_of_the_merged_exec(lab: LabInfo, prosody_factory: Any) -> None:
    """/proc inside the container while the probe runs in the facts exec: as prosody's user, a child of that
    exec's root bash, and neither password in any process's argv or environment.

    The container's LDAP server never answers, so the probe waits in its service bind (5 s) while /proc is read.
    Two samplers: root cannot read the environment of another user's process without CAP_SYS_PTRACE.
    """
    with servers.silent_server() as port:
        env = {**lab.env, "LDAP_URL": f"ldap://127.0.0.1:{port}", "LDAP_START_TLS": "0"}
        container, _info = prosody_factory(
            {"LDAP_URL": env["LDAP_URL"], "LDAP_START_TLS": "0"},
            saslauthd_conf=render(env) + "ldap_timeout: 1\n",  # saslauthd's NO after 2 x 1 s
            # Only for the root sampler: reading /proc/<pid>/environ of a process of another uid (prosody's user
            # runs the container) needs CAP_SYS_PTRACE, which Docker drops by default.
            cap_add=("SYS_PTRACE",),
        )
        samplers = [
            subprocess.Popen(
                ["docker", "exec", "-u", user, container.name, "timeout", "60", "bash", "-c", PROC_SAMPLER],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,  # the environments the sampler may not read
                text=True,
            )
            for user in ("0", "1000")
        ]
        for sampler in samplers:
            assert sampler.stdout is not None and sampler.stdout.readline() == "ready\n"
        password = lab.users["alice"]
        report = diagnose(lab, container.name, "alice", password)
        dumps = [sampler.communicate(timeout=60)[0] for sampler in samplers]
    assert [sampler.returncode for sampler in samplers] == [0, 0]
    assert status(report, "container.ldap_chain") is Status.FAIL  # the probe did run (and waited)
    procs: dict[str, dict[str, str]] = {}
    for line in "".join(dumps).splitlines():
        pid, uid, ppid, *texts = line.split(" ")
        cmdline, environ = (base64.b64decode(t).replace(b"\0", b"\n").decode("utf-8", "replace") for t in texts)
        seen = procs.setdefault(pid, {"uid": uid, "ppid": ppid, "cmdline": cmdline, "environ": ""})
        seen["environ"] += environ
    probes = [pid for pid, p in procs.items() if p["cmdline"].startswith('lua5.4\n-e\nlocal _ = "ldapcheck')]
    assert len(probes) == 1, sorted(p["cmdline"][:80] for p in procs.values())
    probe = procs[probes[0]]
    assert probe["uid"] == "1000" and "LDAPTIMEOUT=5" in probe["environ"]  # prosody's user (s6) in the lab image
    parent = procs[probe["ppid"]]  # the one root exec: then.sh's bash
    assert parent["uid"] == "0" and "ldapcheck: the facts exec" in parent["cmdline"] and parent["environ"]
    for pid, p in procs.items():
        assert password not in p["cmdline"] + p["environ"], pid
        # the container's own environment holds LDAP_BINDPW (docker-jitsi-meet's choice): every process has it
        ours = [e for e in p["environ"].splitlines() if not e.startswith("LDAP_BINDPW=")]
        assert lab.bind_password not in p["cmdline"] + "\n".join(ours), pid


def test_wrong_password_is_tried_once_and_verdict_is_rc49(lab: LabInfo) -> None:
    report = diagnose(lab, lab.prosody.name, "alice", "not-" + lab.users["alice"], testsaslauthd=True)
    failed(report, "ldap.user_bind", "RC-49")
    assert status(report, "container.ldap_chain") is Status.PASS  # service bind and search; no second user bind
    for step_id in ("container.saslauthd_protocol", "container.testsaslauthd"):
        step = report.step(step_id)
        assert step is not None and step.status is Status.SKIP
        assert step.summary.startswith("skipped: the password was already rejected by ldap.user_bind")
    assert verdict_id(report) == "RC-49"


def test_saslauthd_no_and_testsaslauthd_agree_when_only_saslauthd_is_asked(lab: LabInfo) -> None:
    # `ldapcheck testsasl` has no host bind: saslauthd is the one attempt, testsaslauthd is not run after its NO
    report = testsasl.run(ContainerOptions(container=lab.prosody.name), "alice", Secret("not-" + lab.users["alice"]))
    failed(report, "container.saslauthd_protocol", "SA-OPAQUE-NO")


def test_login_typed_with_domain_reaches_saslauthd_as_localpart(lab: LabInfo) -> None:
    report = testsasl.run(ContainerOptions(container=lab.prosody.name), "alice@meet.jitsi", Secret(lab.users["alice"]))
    step = report.step("container.saslauthd_protocol")
    assert step is not None and step.status is Status.PASS
    assert step.detail["login"] == "alice" and step.detail["typed"] == "alice@meet.jitsi"


# --- saslauthd itself ------------------------------------------------------------------------------


def wait_for_all_saslauthd_processes(container: Any) -> None:
    """saslauthd's socket appears before its master has forked its workers (`-n 5`: five processes, master
    included); tests that touch saslauthd itself wait for all of them."""
    until(lambda: len(saslauthd_pids(container)) == 5, "saslauthd's 5 processes")


def kill_saslauthd(container: Any) -> None:
    """SIGKILL every saslauthd process and wait until none is left.

    Not TERM: `saslauthd -d` logs from its signal handlers, and when the SIGCHLD of a dying worker lands while
    the master's TERM handler is logging, the master deadlocks on the logging lock with TERM and CHLD blocked
    (seen in CI: wchan futex_do_wait, SigBlk 0x14000), sometimes before it has removed its socket. KILL is
    the only stop whose outcome does not depend on that race.
    The lab's supervisor (upstream: s6) would start it again within a second: `lab-svc -O` first, as
    `s6-svc -O` marks a service not to be restarted, so it stays down as after `s6-svc -d`.
    """
    assert container.exec_run(["lab-svc", "-O", "saslauthd"]).exit_code == 0
    wait_for_all_saslauthd_processes(container)  # or a worker forked in between would outlive the master

    def gone() -> bool:
        pids = saslauthd_pids(container)
        if pids:
            container.exec_run(["bash", "-c", "kill -KILL " + " ".join(pids)], user="0")  # no procps in the image
        return not pids

    until(gone, "saslauthd to exit")


def test_saslauthd_not_running(lab: LabInfo, prosody_factory: Any) -> None:
    container, _info = prosody_factory()
    kill_saslauthd(container)
    # What a clean stop leaves (and what a saslauthd that never started leaves): no process, no socket.
    assert container.exec_run(["rm", "/var/run/saslauthd/mux"], user="0").exit_code == 0
    report = diagnose(lab, container.name, "alice", lab.users["alice"], testsaslauthd=True)
    failed(report, "container.saslauthd_process", "SA-SOCKET")
    assert status(report, "container.saslauthd_protocol") is Status.SKIP
    failed(report, "container.testsaslauthd", "SA-SOCKET")
    step = report.step("container.testsaslauthd")
    assert step is not None and step.summary == "testsaslauthd: connect() : No such file or directory"
    assert verdict_id(report) == "SA-SOCKET"


def test_saslauthd_running_without_its_socket(lab: LabInfo, prosody_factory: Any) -> None:
    # What a TERMed saslauthd that hangs on exit leaves (socket removed, master alive), made deterministic.
    container, _info = prosody_factory()
    wait_for_all_saslauthd_processes(container)
    assert container.exec_run(["rm", "/var/run/saslauthd/mux"], user="0").exit_code == 0
    report = diagnose(lab, container.name, "alice", lab.users["alice"], testsaslauthd=True)
    assert status(report, "container.saslauthd_process") is Status.PASS
    failed(report, "container.saslauthd_socket", "SA-SOCKET")
    step = report.step("container.saslauthd_socket")
    assert step is not None and step.summary == "/var/run/saslauthd/mux does not exist"
    assert step.hint is not None and "hung on exit" in step.hint
    failed(report, "container.testsaslauthd", "SA-SOCKET")
    assert verdict_id(report) == "SA-SOCKET"


def test_saslauthd_killed_leaves_stale_socket(lab: LabInfo, prosody_factory: Any) -> None:
    container, _info = prosody_factory()
    kill_saslauthd(container)  # as the OOM killer would: the socket file stays, nobody listens on it
    report = diagnose(lab, container.name, "alice", lab.users["alice"], testsaslauthd=True)
    failed(report, "container.saslauthd_process", "SA-SOCKET")
    step = report.step("container.saslauthd_process")
    assert step is not None and "it exited or was killed" in step.summary
    failed(report, "container.testsaslauthd", "SA-SOCKET")
    step = report.step("container.testsaslauthd")
    assert step is not None and step.summary == "testsaslauthd: connect() : Connection refused"
    assert verdict_id(report) == "SA-SOCKET"


def test_socket_not_accessible_to_prosody_user(lab: LabInfo, prosody_factory: Any) -> None:
    container, _info = prosody_factory()
    # prosody and saslauthd are both uid 1000 (s6) here, as upstream's rootless image: the dir must leave that uid
    # (podman's copy-up of Debian's root-owned dir, #2311)
    chown = "chown root:root /var/run/saslauthd && chmod 0700 /var/run/saslauthd"
    assert container.exec_run(["bash", "-c", chown], user="0").exit_code == 0
    report = diagnose(lab, container.name, "alice", lab.users["alice"], testsaslauthd=True)
    failed(report, "container.saslauthd_socket", "SA-SOCKET")
    step = report.step("container.saslauthd_socket")
    assert step is not None and "permission denied" in step.summary.lower()
    failed(report, "container.testsaslauthd", "SA-SOCKET")  # run as prosody's user too
    step = report.step("container.testsaslauthd")
    assert step is not None and step.summary == "testsaslauthd: connect() : Permission denied"
    assert verdict_id(report) == "SA-SOCKET"


# --- configuration drift -----------------------------------------------------------------------------


def test_mounted_conf_rendered_from_other_values(lab: LabInfo, prosody_factory: Any) -> None:
    stale = render({**lab.env, "LDAP_FILTER": "(cn=%u)", "LDAP_BINDPW": "an-old-bind-password"})
    container, _info = prosody_factory(saslauthd_conf=stale)
    report = diagnose(lab, container.name, "alice", lab.users["alice"], expected_env=lab.env)
    failed(report, "container.saslauthd_conf", "JM-CUSTOM-CONF")
    step = report.step("container.saslauthd_conf")
    assert step is not None
    assert step.detail["differing keys"] == ["ldap_bind_pw", "ldap_filter"]
    assert "an-old-bind-password" not in str(step.detail["diff"])
    assert "an-old-bind-password" not in render_report(report, Format.JSON, verbose=True)
    assert verdict_id(report) == "JM-CUSTOM-CONF"


def test_mounted_conf_leaving_keys_at_saslauthds_defaults_agrees(lab: LabInfo, prosody_factory: Any) -> None:
    # The admin's own file writes only what differs from saslauthd's defaults; logins work, nothing to blame.
    defaults = ("ldap_filter:", "ldap_version:", "ldap_auth_method:")
    text = "".join(line for line in render(lab.env).splitlines(keepends=True) if not line.startswith(defaults))
    container, _info = prosody_factory(saslauthd_conf=text)
    report = diagnose(lab, container.name, "alice", lab.users["alice"], expected_env=lab.env)
    step = report.step("container.saslauthd_conf")
    assert step is not None and step.status is Status.PASS, render_report(report, Format.TEXT)
    assert step.summary == (
        "mounted /etc/saslauthd.conf agrees with the container's env (keys left at saslauthd's defaults: "
        "ldap_auth_method, ldap_filter, ldap_version)"
    )
    assert status(report, "container.saslauthd_protocol") is Status.PASS
    assert report.verdict is not None and report.verdict.failure_id is None


def test_saslauthd_conf_readable_by_everyone_is_a_warning_only(lab: LabInfo, prosody_factory: Any) -> None:
    # A mounted 0600 file is copied as is; rendered from the env, /run/saslauthd.conf is 0644 as upstream leaves it.
    mounted, _info = prosody_factory(saslauthd_conf=render(lab.env))
    private = diagnose(lab, mounted.name, None, None)
    step = private.step("container.saslauthd_conf_perms")
    assert step is not None and step.status is Status.PASS and "mode 0600" in step.summary
    container, _info = prosody_factory()
    assert container.exec_run(["stat", "-c", "%a", "/run/saslauthd.conf"]).output.decode().strip() == "644"
    report = diagnose(lab, container.name, "alice", lab.users["alice"], expected_env=lab.env)
    step = report.step("container.saslauthd_conf_perms")
    assert step is not None
    assert (step.status, step.failure_id, step.facts) == (Status.WARN, "SA-CONF-PERMS", {"login_unaffected": True})
    assert "holds ldap_bind_pw and is mode 0644" in step.summary
    assert status(report, "container.saslauthd_protocol") is Status.PASS
    assert report.verdict is not None and report.verdict.failure_id is None
    text = render_report(report, Format.TEXT)
    assert [line for line in text.splitlines() if "SA-CONF-PERMS" in line] == []  # one line, no details
    assert len([line for line in text.splitlines() if line.startswith("! saslauthd.conf permissions")]) == 1
    assert lab.bind_password not in render_report(report, Format.JSON, verbose=True)


def test_conf_in_use_stale_against_container_env(lab: LabInfo, prosody_factory: Any) -> None:
    container, _info = prosody_factory()
    edit = "sed -i 's/^ldap_filter:.*/ldap_filter: (cn=%u)/' /run/saslauthd.conf"
    assert container.exec_run(["bash", "-c", edit], user="0").exit_code == 0
    report = diagnose(lab, container.name, "alice", lab.users["alice"], expected_env=lab.env)
    failed(report, "container.saslauthd_conf", "JM-STALE-CONFIG")
    assert verdict_id(report) == "JM-STALE-CONFIG"


def test_container_env_differs_from_env_file(lab: LabInfo, prosody_factory: Any) -> None:
    container, _info = prosody_factory({"LDAP_FILTER": "(cn=%u)", "LDAP_BINDPW": lab.bind_password + "-old"})
    report = diagnose(lab, container.name, "alice", lab.users["alice"], expected_env=lab.env)
    failed(report, "container.env_drift", "JM-RECREATE")
    step = report.step("container.env_drift")
    assert step is not None
    assert "LDAP_BINDPW differs" in step.summary and "LDAP_FILTER" in step.summary
    assert lab.bind_password + "-old" not in render_report(report, Format.TEXT, verbose=True)
    assert report.verdict is not None and "force-recreate prosody" in report.verdict.hint
    assert verdict_id(report) == "JM-RECREATE"


def test_edited_env_that_fails_while_the_running_container_works(lab: LabInfo) -> None:
    # The operator mistyped LDAP_BINDPW in .env; the lab's prosody still runs with the working value.
    edited = {**lab.env, "LDAP_BINDPW": lab.bind_password + "-typo"}
    report = diagnose(lab, lab.prosody.name, "alice", lab.users["alice"], env=edited, expected_env=edited)
    failed(report, "ldap.service_bind", "RC-49")
    failed(report, "container.env_drift", "JM-RECREATE")
    assert status(report, "container.saslauthd_protocol") is Status.PASS
    assert report.verdict is not None and "would break" in report.verdict.cause
    assert verdict_id(report) == "RC-49"
    assert lab.bind_password not in render_report(report, Format.JSON)


def test_container_ldap_url_differs_and_is_probed_too(lab: LabInfo, prosody_factory: Any) -> None:
    closed = free_port(exclude=frozenset({lab.ldap_port, lab.ldaps_port, lab.c2s_port}))
    container, _info = prosody_factory({"LDAP_URL": f"ldap://127.0.0.1:{closed}"})
    report = diagnose(lab, container.name, "alice", lab.users["alice"], expected_env=lab.env)
    failed(report, "container.env_drift", "JM-RECREATE")
    assert status(report, f"container.net[127.0.0.1:{lab.ldap_port}]") is Status.PASS  # the .env's server
    failed(report, f"container.net[127.0.0.1:{closed}]", "NET-REFUSED")  # the one saslauthd really uses
    failed(report, "container.ldap_chain", "LDAP-SERVER-DOWN")
    assert verdict_id(report) == "JM-RECREATE"


def test_auth_type_upper_case(lab: LabInfo, prosody_factory: Any) -> None:
    container, _info = prosody_factory({"AUTH_TYPE": "LDAP"})
    report = diagnose(lab, container.name, "alice", lab.users["alice"])
    failed(report, "container.saslauthd_process", "JM-AUTH-TYPE")
    failed(report, "container.saslauthd_conf", "JM-AUTH-TYPE")
    assert verdict_id(report) == "JM-AUTH-TYPE"
    assert report.verdict is not None and "AUTH_TYPE" in report.verdict.cause


def test_enable_auth_off(lab: LabInfo, prosody_factory: Any) -> None:
    container, _info = prosody_factory({"ENABLE_AUTH": "0"})
    report = diagnose(lab, container.name, "alice", lab.users["alice"])
    failed(report, "container.prosody_config", "JM-AUTH-TYPE")
    assert status(report, "container.saslauthd_protocol") is Status.PASS  # saslauthd works; prosody never asks
    assert report.verdict is not None and "ENABLE_AUTH" in report.verdict.cause
    assert verdict_id(report) == "JM-AUTH-TYPE"


def test_wrong_filter(lab: LabInfo, prosody_factory: Any) -> None:
    env = {**lab.env, "LDAP_FILTER": "(&(uid=%u)(objectClass=posixGroup))"}
    container, _info = prosody_factory({"LDAP_FILTER": env["LDAP_FILTER"]})
    report = diagnose(lab, container.name, "alice", lab.users["alice"], env=env, expected_env=env)
    assert status(report, "container.env_drift") is Status.PASS
    failed(report, "container.ldap_chain", "SA-ENTRY-COUNT")
    failed(report, "container.saslauthd_protocol", "SA-OPAQUE-NO")
    assert verdict_id(report) == "SA-ENTRY-COUNT"


def test_filter_with_percent_d(lab: LabInfo, prosody_factory: Any) -> None:
    env = {**lab.env, "LDAP_FILTER": "(&(uid=%u)(mail=*@%d))"}
    container, _info = prosody_factory({"LDAP_FILTER": env["LDAP_FILTER"]})
    report = diagnose(lab, container.name, "alice", lab.users["alice"], env=env, expected_env=env)
    failed(report, "container.ldap_chain", "SA-ENTRY-COUNT")
    step = report.step("container.ldap_chain")
    assert step is not None and step.detail["filter"] == "(&(uid=alice)(mail=*@))"  # %d is empty for prosody
    assert verdict_id(report) == "SA-TOKENS"


def test_login_typed_as_name_at_domain_is_cut_by_prosody(lab: LabInfo) -> None:
    typed = lab.at_uid  # the directory holds uid=carol@example.org; prosody sends "carol"
    report = diagnose(lab, lab.prosody.name, typed, lab.users.get(typed, "irrelevant"))
    failed(report, "container.ldap_chain", "SA-ENTRY-COUNT")
    assert report.verdict is not None and report.verdict.failure_id == "SA-TOKENS"
    assert typed in report.verdict.cause and "'carol'" in report.verdict.cause


# --- network: resolves on the host, not inside ---------------------------------------------------------


@pytest.fixture
def prosody_without_localhost(lab: LabInfo, tmp_path: Path) -> Iterator[Any]:
    """A prosody whose LDAP_URL says `localhost`, with /etc/hosts and /etc/resolv.conf bind-mounted.

    With host networking the container shares the host's network namespace but gets its own copy of
    /etc/hosts, so a name the host resolves from /etc/hosts can be absent inside. We mount a hosts file
    without `localhost` (and a resolver pointing at 127.0.0.1, where nothing answers DNS) so that only
    the container fails to resolve it; no query ever leaves 127.0.0.1.
    """
    port = free_port(exclude=frozenset({lab.ldap_port, lab.ldaps_port, lab.c2s_port}))
    overrides: dict[str, str | None] = {"C2S_PORT": str(port), "LDAP_URL": f"ldap://localhost:{lab.ldap_port}"}
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 ldapcheck-only-name\n")
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
    plan = prosody_plan(lab.spec, lab.paths, env_overrides=overrides, number=90)  # renders saslauthd.conf itself
    plan = dataclasses.replace(
        plan,
        name=f"{plan.name}-{secrets.token_hex(2)}",
        mounts=(*plan.mounts, Mount(str(hosts), "/etc/hosts", "ro"), Mount(str(resolv), "/etc/resolv.conf", "ro")),
    )
    container = run_container(lab.prosody.client, plan)
    try:
        wait_for_port(container, port, what="prosody")
        until(lambda: container.exec_run(["test", "-S", "/var/run/saslauthd/mux"]).exit_code == 0, "saslauthd")
        yield container
    finally:
        container.remove(force=True)


def test_ldap_host_resolves_on_host_but_not_in_container(lab: LabInfo, prosody_without_localhost: Any) -> None:
    env = {**lab.env, "LDAP_URL": f"ldap://localhost:{lab.ldap_port}"}
    report = diagnose(lab, prosody_without_localhost.name, "alice", lab.users["alice"], env=env)
    assert status(report, f"net.tcp[localhost:{lab.ldap_port}]") is Status.PASS
    failed(report, f"container.net[localhost:{lab.ldap_port}]", "NET-CONTAINER")
    failed(report, "container.ldap_chain", "NET-CONTAINER")
    assert verdict_id(report) == "NET-CONTAINER"


def test_ca_file_path_valid_on_host_but_not_in_container(lab: LabInfo, prosody_factory: Any) -> None:
    tls = {
        "LDAP_URL": lab.ldaps_url,
        "LDAP_USE_TLS": "1",
        "LDAP_TLS_CHECK_PEER": "1",
        "LDAP_TLS_CACERT_FILE": str(lab.ca_cert),  # a host path: the classic mistake
    }
    env = {**lab.env, **tls}
    container, _info = prosody_factory(tls)
    report = diagnose(lab, container.name, "alice", lab.users["alice"], env=env, expected_env=env)
    assert status(report, "ldap.service_bind") is Status.PASS  # the host verifies with that CA file
    failed(report, "container.ldap_chain", "TLS-CA-PATH")
    step = report.step("container.ldap_chain")
    assert step is not None and str(lab.ca_cert) in str(step.detail["missing in the container"])
    assert verdict_id(report) == "TLS-CA-PATH"


# --- the cached old password -------------------------------------------------------------------------------


def test_old_password_still_accepted_from_saslauthd_cache(lab: LabInfo, ldap_admin: Any) -> None:
    import ldap3

    uid, old = lab.generated_user(42)
    dn = f"uid={uid},{lab.users_base}"
    first = testsasl.run(ContainerOptions(container=lab.prosody.name), uid, Secret(old))
    assert status(first, "container.saslauthd_protocol") is Status.PASS  # now in saslauthd's cache
    new = "changed-" + secrets.token_hex(4)
    assert ldap_admin.modify(dn, {"userPassword": [(ldap3.MODIFY_REPLACE, [new])]}), ldap_admin.result
    try:
        # diagnose: the directory refuses the old password; saslauthd is not asked again (one attempt per run)
        report = diagnose(lab, lab.prosody.name, uid, old)
        failed(report, "ldap.user_bind", report.step("ldap.user_bind").failure_id or "RC-49")  # type: ignore[union-attr]
        assert status(report, "container.saslauthd_protocol") is Status.SKIP
        assert verdict_id(report) == "RC-49"
        # `ldapcheck testsasl` asks saslauthd alone: its cache still says OK for the old password
        cached = testsasl.run(ContainerOptions(container=lab.prosody.name), uid, Secret(old))
        protocol = cached.step("container.saslauthd_protocol")
        assert protocol is not None and protocol.status is Status.PASS
        assert protocol.detail.get("answered from cache") is True  # saslauthd -d said so
    finally:
        assert ldap_admin.modify(dn, {"userPassword": [(ldap3.MODIFY_REPLACE, [old])]}), ldap_admin.result


# --- finding the container ------------------------------------------------------------------------------


def test_no_such_container(lab: LabInfo) -> None:
    report = diagnose(lab, "ldapcheck-no-such-container", "alice", lab.users["alice"])
    failed(report, "container.find", "DOCKER-NO-CONTAINER")
    assert status(report, "container.generation") is Status.SKIP
    assert verdict_id(report) == "DOCKER-NO-CONTAINER"


def test_container_that_is_not_prosody(lab: LabInfo) -> None:
    # --container naming the LDAP server's container: not an AUTH_TYPE problem, the wrong container.
    report = diagnose(lab, lab.openldap.name, "alice", lab.users["alice"], expected_env=lab.env)
    failed(report, "container.find", "DOCKER-NOT-PROSODY")
    step = report.step("container.find")
    assert step is not None and step.summary.startswith(f"{lab.openldap.name} is not a prosody container: ")
    assert f"e.g. {lab.project}-prosody-1" in step.summary
    assert all(
        status(report, s.id) is Status.SKIP
        for s in report.steps
        if s.id.startswith("container.") and s.id != "container.find"
    )
    assert verdict_id(report) == "DOCKER-NOT-PROSODY"


def test_discovery_by_project_lists_several_candidates(lab: LabInfo, prosody_factory: Any) -> None:
    extra, _info = prosody_factory()
    report = testsasl.run(ContainerOptions(project=lab.project), None, None)
    failed(report, "container.find", "DOCKER-AMBIGUOUS")
    step = report.step("container.find")
    assert step is not None and extra.name in step.summary and lab.prosody.name in step.summary
    alone = testsasl.run(ContainerOptions(project="ldapcheck-no-project"), None, None)
    failed(alone, "container.find", "DOCKER-NO-CONTAINER")


@pytest.mark.parametrize("where", ["unix:///nonexistent.sock", "tcp", "ssh"])
def test_docker_engine_unreachable(lab: LabInfo, where: str) -> None:
    host = {"tcp": f"tcp://127.0.0.1:{free_port()}", "ssh": f"ssh://nobody@127.0.0.1:{free_port()}"}.get(where, where)
    started = time.monotonic()
    report = diagnose(lab, lab.prosody.name, "alice", lab.users["alice"], docker_host=host)
    assert time.monotonic() - started < 15
    failed(report, "container.find", "DOCKER-UNAVAILABLE")
    assert verdict_id(report) == "DOCKER-UNAVAILABLE"


# --- the commands -----------------------------------------------------------------------------------------


def test_testsasl_cli_reads_password_from_stdin_and_prints_json(lab: LabInfo) -> None:
    password = lab.users["alice"]
    cmd = [sys.executable, "-m", "ldapcheck", "testsasl", "alice", "--password-stdin", "--json"]
    cmd += ["--container", lab.prosody.name]
    proc = subprocess.run(cmd, input=password + "\n", capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert password not in proc.stdout + proc.stderr
    data = json.loads(proc.stdout)
    ids = {s["id"]: s["status"] for s in data["steps"]}
    assert ids["container.saslauthd_protocol"] == "pass"
    assert ids["container.testsaslauthd"] == "skip"


def test_testsasl_alone_says_it_checked_only_saslauthds_answer(lab: LabInfo) -> None:
    report = testsasl.run(ContainerOptions(container=lab.prosody.name), "alice", Secret("wrong-password"))
    failed(report, "container.saslauthd_protocol", "SA-OPAQUE-NO")
    assert report.verdict is not None and report.verdict.failure_id == "SA-OPAQUE-NO"
    assert report.verdict.hint.startswith("testsasl checked only saslauthd's answer")
    assert "`ldapcheck diagnose --user alice`" in report.verdict.hint
    assert "combines the other steps" not in render_report(report, Format.TEXT)


def test_diagnose_cli_verdict_first_in_text(lab: LabInfo) -> None:
    cmd = [sys.executable, "-m", "ldapcheck", "diagnose", "--env-file", str(lab.env_file), "--user", "alice"]
    cmd += ["--password-stdin", "--container", lab.prosody.name]
    env = {k: v for k, v in os.environ.items() if k != "LDAPCHECK_PASSWORD"}
    proc = subprocess.run(
        cmd, input="wrong-password\n", capture_output=True, text=True, timeout=60, check=False, env=env
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.startswith("Verdict [RC-49]: "), proc.stdout
    assert "[RC-49]" in proc.stdout.splitlines()[0]
    assert "container.saslauthd_protocol" in proc.stdout or "Login via saslauthd socket" in proc.stdout


def test_diagnose_without_login_checks_the_container_config_only(lab: LabInfo) -> None:
    report = diagnose(lab, lab.prosody.name, None, None, expected_env=lab.env)
    assert container_failures(report) == []
    chain_step = report.step("container.ldap_chain")
    assert chain_step is not None and chain_step.status is Status.PASS
    assert "no login given" in chain_step.summary
    assert status(report, "container.saslauthd_protocol") is Status.SKIP
    assert status(report, "container.saslauthd_socket") is Status.PASS  # connect-only probe as prosody's user


def test_diagnose_cli_no_container(lab: LabInfo) -> None:
    cmd = [sys.executable, "-m", "ldapcheck", "diagnose", "--env-file", str(lab.env_file), "--no-container", "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ids = [s["id"] for s in json.loads(proc.stdout)["steps"]]
    assert ids and not any(i.startswith("container.") for i in ids)


def test_exec_adapter_stdin_unread_and_timeout(lab: LabInfo) -> None:
    from ldapcheck.adapters import docker as dockeradapter
    from ldapcheck.adapters.docker_errors import DockerError
    from ldapcheck.jitsi.container.failures import failure

    done = dockeradapter.exec_in(lab.prosody, ["bash", "-c", "echo out; echo err >&2; exit 3"], stdin=b"x" * 2_000_000)
    assert (done.exit_code, done.stdout, done.stderr) == (3, "out\n", "err\n")
    echoed = dockeradapter.exec_in(lab.prosody, ["cat"], stdin=b"secret\x00bytes\n")
    assert echoed.stdout == "secret\x00bytes\n"
    started = time.monotonic()
    with pytest.raises(DockerError) as caught:
        dockeradapter.exec_in(lab.prosody, ["sleep", "3"], timeout=0.5)
    assert caught.value.kind == "exec-timeout"
    assert failure(caught.value).failure_id == "DOCKER-EXEC"
    assert time.monotonic() - started < 2.5


def test_stopped_container(lab: LabInfo, prosody_factory: Any) -> None:
    container, _info = prosody_factory()
    container.stop(timeout=2)
    report = diagnose(lab, container.name, "alice", lab.users["alice"])
    failed(report, "container.find", "DOCKER-STOPPED")
    step = report.step("container.find")
    assert step is not None and container.name in step.summary and "exited" in step.summary
    assert verdict_id(report) == "DOCKER-STOPPED"
