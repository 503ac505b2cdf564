"""`ldapcheck diagnose` on a Jitsi installed from Debian packages, run inside the host lab as an admin would.

One `ldapcheck lab up --deployment host` per auth mode (internal with guests, ldap); each scenario breaks the host
the way the guides' readers do (a file edited, a link removed, a group left), runs `ldapcheck diagnose --json`
inside the container, asserts the verdict's failure id, and puts the host back as it was.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class HostLab:
    container: str
    domain: str
    password: str

    def sh(self, script: str, *, check: bool = True) -> subprocess.CompletedProcess[str]:
        """A root shell command inside the host, as the admin types it."""
        done = subprocess.run(
            ["docker", "exec", self.container, "bash", "-c", script], capture_output=True, text=True, timeout=60
        )
        if check:
            assert done.returncode == 0, f"{script}: {done.stderr}"
        return done

    def diagnose(self, user: str = "alice", password: str | None = None) -> dict[str, Any]:
        done = subprocess.run(
            [
                "docker",
                "exec",
                "-i",
                self.container,
                "ldapcheck",
                "diagnose",
                "--json",
                "--user",
                user,
                "--password-stdin",
            ],
            input=(password or self.password) + "\n",
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert done.stdout, done.stderr
        report: dict[str, Any] = json.loads(done.stdout)
        assert self.password not in done.stdout + done.stderr
        return report


def verdict_id(report: dict[str, Any]) -> str | None:
    verdict = report.get("verdict") or {}
    return verdict.get("failure_id")


def step(report: dict[str, Any], step_id: str) -> dict[str, Any]:
    return next(s for s in report["steps"] if s["id"] == step_id)


@contextmanager
def host_lab(tmp: Path, *args: str) -> Iterator[HostLab]:
    project = f"ldapcheck-h-{secrets.token_hex(3)}"
    env = {
        **os.environ,
        "LDAPCHECK_LAB_DIR": str(tmp / "lab"),
        "LDAPCHECK_LAB_PROJECT": project,
        "PYTHONPATH": str(ROOT),
    }

    def cli(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ldapcheck", "lab", *argv], env=env, capture_output=True, text=True, timeout=600
        )

    try:
        up = cli("up", "--deployment", "host", *args)
        assert up.returncode == 0, up.stderr
        status = json.loads(cli("status", "--json").stdout)
        host = next(c for c in status["containers"] if c["role"] == "host")
        values = dict(line.split("=", 1) for line in Path(status["env_file"]).read_text().splitlines() if "=" in line)
        yield HostLab(container=host["name"], domain=values.get("XMPP_DOMAIN", ""), password=values["LAB_PASSWORD"])
    finally:
        cli("down")


@pytest.fixture(scope="module")
def internal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostLab]:
    with host_lab(tmp_path_factory.mktemp("internal"), "--auth", "internal", "--guests") as lab:
        yield lab


@pytest.fixture(scope="module")
def ldap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostLab]:
    with host_lab(tmp_path_factory.mktemp("ldap"), "--auth", "ldap") as lab:
        yield lab


@contextmanager
def edited(lab: HostLab, paths: list[str], change: str, *, after: str = "") -> Iterator[None]:
    """Back up `paths`, run `change` (and `after`, e.g. a restart); restore them and rerun `after` afterwards."""
    lab.sh(" && ".join(f"cp -a {p} {p}.ldapcheck-test" for p in paths))
    try:
        lab.sh(change + (f" && {after}" if after else ""))
        yield
    finally:
        lab.sh(" && ".join(f"mv -f {p}.ldapcheck-test {p}" for p in paths) + (f" && {after}" if after else ""))


def main_file(lab: HostLab) -> str:
    return f"/etc/prosody/conf.avail/{lab.domain}.cfg.lua"


# --- internal (+ guests) ---------------------------------------------------------------------------------------------


def test_healthy_internal_login(internal: HostLab) -> None:
    report = internal.diagnose()
    assert verdict_id(report) is None, report["verdict"]
    assert report["meta"]["deployment"]["kind"] == "host"
    assert "no prosody container" in report["meta"]["deployment"]["why"]
    assert step(report, "xmpp.login.bosh")["status"] == "pass"
    assert step(report, "internal.account")["status"] == "pass"
    assert "docker" not in json.dumps(step(report, "internal.account")["detail"])  # the host's own commands


def test_user_registered_on_the_wrong_host(internal: HostLab) -> None:
    internal.sh(f"printf 'pw-bob-1\\npw-bob-1\\n' | prosodyctl register bob auth.{internal.domain} pw-bob-1")
    try:
        report = internal.diagnose("bob", "pw-bob-1")
        assert verdict_id(report) == "INT-DOMAIN"
        assert f"prosodyctl register bob {internal.domain}" in step(report, "internal.account")["hint"]
    finally:
        internal.sh(f"prosodyctl unregister bob auth.{internal.domain}", check=False)


def test_host_file_in_conf_avail_not_linked(internal: HostLab) -> None:
    link = f"/etc/prosody/conf.d/{internal.domain}.cfg.lua"
    internal.sh(f"rm {link} && /etc/init.d/prosody restart")
    try:
        report = internal.diagnose()
        assert verdict_id(report) == "HOST-CONF-UNLINKED"
        assert f"ln -s {main_file(internal)}" in step(report, "host.conf_links")["hint"]
    finally:
        internal.sh(f"ln -s {main_file(internal)} {link} && /etc/init.d/prosody restart")
    assert verdict_id(internal.diagnose()) is None


def test_anonymousdomain_without_a_guest_virtualhost(internal: HostLab) -> None:
    config = f"/etc/jitsi/meet/{internal.domain}-config.js"
    with edited(internal, [config], f"sed -i \"s/anonymousdomain: 'guest\\./anonymousdomain: 'visitors./\" {config}"):
        report = internal.diagnose()
    assert verdict_id(report) == "GUEST-NOHOST"


def test_jicofo_login_url_on_another_domain(internal: HostLab) -> None:
    conf = "/etc/jitsi/jicofo/jicofo.conf"
    with edited(internal, [conf], f"sed -i 's/login-url: .*/login-url: example.com/' {conf}"):
        report = internal.diagnose()
    assert verdict_id(report) == "JICOFO-LOGINURL"
    assert "systemctl restart jicofo" in step(report, "jicofo.auth")["hint"]


def test_token_host_missing_lua_library(internal: HostLab) -> None:
    """The internal host turned into a token host by editing its files, as an admin following the JWT guide does.
    Debian's lua-basexx and lua-inspect are built for Lua 5.1-5.3, prosody runs 5.4: the check names them; once
    they are copied for 5.4 the check passes."""
    make_token = (
        f'sed -i \'0,/authentication = "internal_hashed"/s//authentication = "token"\\n    app_id = "lab"/\' '
        f"{main_file(internal)}"
    )
    with edited(internal, [main_file(internal)], make_token):
        report = internal.diagnose()
        libs = step(report, "host.lua_libs")
        assert verdict_id(report) == "HOST-LUA-LIB"
        assert "basexx" in libs["detail"]["missing"]
        internal.sh("cp /usr/share/lua/5.2/basexx.lua /usr/share/lua/5.3/inspect.lua /usr/share/lua/5.4/")
        try:
            fixed = internal.diagnose()
        finally:
            internal.sh("rm -f /usr/share/lua/5.4/basexx.lua /usr/share/lua/5.4/inspect.lua")
    assert step(fixed, "host.lua_libs")["status"] == "pass"


# --- ldap --------------------------------------------------------------------------------------------------------


def test_healthy_ldap_login(ldap: HostLab) -> None:
    report = ldap.diagnose()
    assert verdict_id(report) is None, report["verdict"]
    assert step(report, "container.saslauthd_protocol")["status"] == "pass"
    assert step(report, "host.sasl_group")["status"] == "pass"


def test_prosody_not_in_the_sasl_group(ldap: HostLab) -> None:
    ldap.sh("gpasswd -d prosody sasl >/dev/null && /etc/init.d/prosody restart")
    try:
        report = ldap.diagnose()
        assert verdict_id(report) == "HOST-SASL-GROUP"
    finally:
        ldap.sh("adduser prosody sasl >/dev/null && /etc/init.d/prosody restart")


def test_saslauthd_not_started(ldap: HostLab) -> None:
    defaults = "/etc/default/saslauthd"
    with edited(
        ldap,
        [defaults],
        f"sed -i 's/^START=.*/START=no/' {defaults} && /etc/init.d/saslauthd stop",
        after="(/etc/init.d/saslauthd start || true)",
    ):
        _wait_gone(ldap, "saslauthd")
        report = ldap.diagnose()
    assert verdict_id(report) == "HOST-SASLAUTHD-OFF"


def test_mechanisms_pam(ldap: HostLab) -> None:
    defaults = "/etc/default/saslauthd"
    with edited(
        ldap,
        [defaults],
        f"sed -i 's/^MECHANISMS=.*/MECHANISMS=\"pam\"/' {defaults}",
        after="/etc/init.d/saslauthd restart",
    ):
        report = ldap.diagnose()
    assert verdict_id(report) == "HOST-MECH"


def _wait_gone(lab: HostLab, name: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while lab.sh(f"pgrep -x {name}", check=False).returncode == 0:
        assert time.monotonic() < deadline, f"{name} still runs"
        time.sleep(0.1)
