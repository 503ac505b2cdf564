"""The lab's prosody behaves like docker-jitsi-meet's rootless image where diagnosis depends on it (research §7):
uid 1000 with a read-only root and tmpfs /run, saslauthd.conf rendered from the environment at start (a mounted
/etc/saslauthd.conf copied as is), and saslauthd restarted when it dies unless stopped the s6 way (`lab-svc`)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ldapcheck.lab.images import pinned
from ldapcheck.lab.probe import probe_saslauthd
from ldapcheck.lab.spec import PROSODY_IMAGE
from testing.info import LabInfo

VECTORS = Path("/work/shared/vectors/saslauthd-render.jsonl")
ROOT = Path(__file__).resolve().parents[2]
WAIT = 15.0


def until(condition: Any, what: str, timeout: float = WAIT) -> float:
    """Poll `condition` until true; the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def run(container: Any, script: str, user: str = "") -> str:
    result = container.exec_run(["bash", "-c", script], user=user)
    assert result.exit_code == 0, result.output
    return str(result.output.decode())


def pids(container: Any, command: str) -> list[str]:
    """Live processes whose argv[0] is `command` (zombies have an empty cmdline)."""
    script = (
        f'for p in /proc/[0-9]*; do tr "\\0" " " <$p/cmdline 2>/dev/null | grep -q "^{command} " '
        "&& echo ${p#/proc/}; done; true"
    )
    return run(container, script, user="0").split()


def uids(container: Any, pid: str) -> tuple[list[str], list[str]]:
    """(real, effective, saved, fs uids; supplementary group names) of a process, read from /proc."""
    status = run(container, f"cat /proc/{pid}/status", user="0")
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    gids = fields["Groups"].split()
    names = run(container, "getent group " + " ".join(gids) + " | cut -d: -f1").split() if gids else []
    return fields["Uid"].split(), names


def login_ok(container: Any, lab: LabInfo) -> bool:
    return probe_saslauthd(container, "alice", lab.users["alice"], realm=lab.xmpp_domain).ok


def test_prosody_and_saslauthd_run_as_uid_1000_on_a_read_only_root(lab: LabInfo, prosody_factory: Any) -> None:
    container, _info = prosody_factory()
    until(lambda: len(pids(container, "saslauthd")) == 5, "saslauthd's 5 processes")
    for command in ("lua5.4", "saslauthd"):  # prosody runs as `lua5.4 /usr/bin/prosody`
        found = pids(container, command)
        assert found, command
        for pid in found:
            ids, groups = uids(container, pid)
            assert ids == ["1000"] * 4, (command, ids)
            assert {"prosody", "sasl"} <= set(groups), (command, groups)
    # read-only root: even root cannot write outside the tmpfs mounts
    denied = container.exec_run(["touch", "/etc/ldapcheck-probe"], user="0")
    assert denied.exit_code != 0 and b"Read-only file system" in denied.output
    mounts = {line.split()[1]: line.split() for line in run(container, "cat /proc/mounts").splitlines()}
    assert mounts["/"][3].split(",")[0] == "ro"
    assert mounts["/run"][2] == "tmpfs" and mounts["/tmp"][2] == "tmpfs"
    # what §7 found upstream: /run/saslauthd s6:s6 0777, the socket 0777, /run/saslauthd.conf 0644
    modes = run(container, "stat -c '%n %U %a' /run /run/saslauthd /run/saslauthd/mux /run/saslauthd.conf")
    assert modes.splitlines() == [
        "/run s6 755",
        "/run/saslauthd s6 777",
        "/run/saslauthd/mux s6 777",
        "/run/saslauthd.conf s6 644",
    ]
    assert login_ok(container, lab)


def test_saslauthd_conf_is_rendered_from_the_environment_at_start(lab: LabInfo, prosody_factory: Any) -> None:
    first, info = prosody_factory()
    assert run(first, "cat /run/saslauthd.conf") == info.saslauthd_conf_text  # ldapcheck's renderer, byte for byte
    assert "ldap_filter: (uid=%u)\n" in info.saslauthd_conf_text
    # the same .env with one value changed, on a recreated container: the new value is in the file
    changed, changed_info = prosody_factory({"LDAP_FILTER": "(|(uid=%u)(mail=%u))"})
    text = run(changed, "cat /run/saslauthd.conf")
    assert "ldap_filter: (|(uid=%u)(mail=%u))\n" in text and text == changed_info.saslauthd_conf_text
    assert run(changed, "ls /etc/saslauthd.conf 2>&1 || true").strip().endswith("No such file or directory")
    assert login_ok(changed, lab)


def test_a_mounted_saslauthd_conf_is_used_as_is(lab: LabInfo, prosody_factory: Any) -> None:
    # upstream's escape hatch: the file is copied, the environment's LDAP_* values are not rendered
    own = f"ldap_servers: {lab.ldap_url}\nldap_search_base: {lab.suffix}\n"
    own += f"ldap_bind_dn: {lab.bind_dn}\nldap_bind_pw: {lab.bind_password}\n"
    container, _info = prosody_factory({"LDAP_FILTER": "(cn=nobody-%u)"}, saslauthd_conf=own)
    assert run(container, "cat /run/saslauthd.conf") == own
    assert login_ok(container, lab)  # saslauthd's default filter (uid=%u), not the env's


def test_a_killed_saslauthd_is_back_within_about_a_second(lab: LabInfo, prosody_factory: Any) -> None:
    container, _info = prosody_factory()
    until(lambda: len(pids(container, "saslauthd")) == 5, "saslauthd's 5 processes")
    before = set(pids(container, "saslauthd"))
    run(container, "kill -KILL " + " ".join(before), user="0")  # as the OOM killer would
    back = until(lambda: not (set(pids(container, "saslauthd")) & before) and login_ok(container, lab), "a login")
    assert back < 5.0, back
    assert "saslauthd (pid" in container.logs().decode() and "exited with status 137" in container.logs().decode()


def test_saslauthd_stopped_the_s6_way_stays_down_until_started(lab: LabInfo, prosody_factory: Any) -> None:
    container, _info = prosody_factory()
    until(lambda: len(pids(container, "saslauthd")) == 5, "saslauthd's 5 processes")
    assert container.exec_run(["lab-svc", "-O", "saslauthd"]).exit_code == 0  # as `s6-svc -O`: no restart
    starts = container.logs().count(b"ldapcheck-prosody: saslauthd started")

    def gone() -> bool:  # a worker forked while the others died would outlive one round of KILL
        found = pids(container, "saslauthd")
        if found:
            container.exec_run(["bash", "-c", "kill -KILL " + " ".join(found)], user="0")
        return not found

    until(gone, "saslauthd to exit")
    # the supervisor restarts within a second; marked down, it starts nothing for twice that
    came_back = False
    try:
        until(lambda: container.logs().count(b"ldapcheck-prosody: saslauthd started") > starts, "a start", 2.0)
        came_back = True
    except AssertionError:
        pass
    assert not came_back
    assert not login_ok(container, lab)
    assert container.exec_run(["lab-svc", "-u", "saslauthd"]).exit_code == 0
    until(lambda: login_ok(container, lab), "a login after lab-svc -u")


def test_the_images_renderer_matches_the_go_template_vectors(lab: LabInfo) -> None:
    """render-saslauthd (the lab's `tpl`) over each vector's environment, in the image, as uid 1000."""
    vectors = [json.loads(line) for line in VECTORS.read_text().splitlines() if line.strip()]
    current = [v for v in vectors if v["template"] == "current"]
    assert len(current) >= 20
    script = (
        "import json, subprocess, sys\n"
        "for v in json.load(sys.stdin):\n"
        "    env = {k: val for k, val in v['env'].items()}\n"
        "    out = subprocess.run(['/usr/local/bin/render-saslauthd'], env=env, capture_output=True, check=True)\n"
        "    print(json.dumps([v['id'], out.stdout.decode()]))\n"
    )
    client = lab.prosody.client
    container = client.containers.create(
        pinned(PROSODY_IMAGE),
        entrypoint=["python3", "-c", script],
        stdin_open=True,
        user="1000",
        read_only=True,
        network_mode="none",
    )
    try:
        socket = container.attach_socket(params={"stdin": 1, "stream": 1})
        container.start()
        socket._sock.sendall(json.dumps(current).encode())
        socket._sock.shutdown(1)
        assert container.wait(timeout=60)["StatusCode"] == 0, container.logs()
        got = dict(json.loads(line) for line in container.logs(stderr=False).decode().splitlines())
    finally:
        container.remove(force=True)
    assert got == {v["id"]: v["expected"] for v in current}
