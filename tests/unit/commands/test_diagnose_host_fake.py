"""`ldapcheck diagnose` of a Debian-package host, end to end over a fake root (no process of the host is read):
the host's own commands in every fix and reproduce line (docker's only on a docker run), the secrets of the
host's files masked in every output format, and the `Deployment:` header line.

The fake session reads its files under a temporary root and reports given facts (processes, saslauthd.conf) in
place of the facts script; commands it would run answer "not found". The LDAP server, BOSH and c2s point at
closed ports on 127.0.0.1, so every scenario fails fast at a step of its own.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from ldapcheck.adapters.docker import ExecResult
from ldapcheck.cli import app as cli
from ldapcheck.commands import diagnose_host
from ldapcheck.commands.source import LdapSource
from ldapcheck.core.model import Report, Status, StepResult, Verdict
from ldapcheck.core.secrets import Secret
from ldapcheck.jitsi.container.facts import ContainerFacts, Process
from ldapcheck.jitsi.container.session import ContainerSession, SessionOptions
from ldapcheck.jitsi.deploy.host import encode
from ldapcheck.jitsi.deploy.local import HostSession
from ldapcheck.report import Format, render
from ldapcheck.report.deployment import deployment_line
from testing.sessions import GivenFactsHost

DOMAIN = "meet.example.com"
# Lower case, so that no renderer's escaping changes them; long and random, so a match is a leak.
FOCUS_PW = f"focuspw{secrets.token_hex(12)}"
BIND_PW = f"bindpw{secrets.token_hex(12)}"
APP_SECRET = f"appsecret{secrets.token_hex(12)}"
TURN_SECRET = f"turnsecret{secrets.token_hex(12)}"
COMPONENT_SECRET = f"componentsecret{secrets.token_hex(12)}"
USER_PW = f"userpw{secrets.token_hex(12)}"
SENTINELS = (FOCUS_PW, BIND_PW, APP_SECRET, TURN_SECRET, COMPONENT_SECRET)
DOCKER = re.compile(r"\bdocker\b", re.IGNORECASE)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write(root: Path, path: str, text: str) -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def saslauthd_conf(port: int) -> str:
    return (
        f"ldap_servers: ldap://127.0.0.1:{port}/\nldap_search_base: ou=people,dc=example,dc=com\n"
        f"ldap_bind_dn: cn=svc,dc=example,dc=com\nldap_bind_pw: {BIND_PW}\nldap_filter: (uid=%u)\n"
    )


def site_file(authentication: str, *, token: bool = False, guests: bool = True) -> str:
    token_lines = f'    app_id = "myapp"\n    app_secret = "{APP_SECRET}"\n' if token else ""
    guest = f'VirtualHost "guest.{DOMAIN}"\n    authentication = "anonymous"\n' if guests else ""
    return (
        f'external_services = {{ {{ type = "turns", host = "turn.{DOMAIN}", secret = "{TURN_SECRET}" }} }}\n'
        f'turncredentials_secret = "{TURN_SECRET}"\n'
        f'VirtualHost "{DOMAIN}"\n    authentication = "{authentication}"\n{token_lines}'
        '    cyrus_application_name = "xmpp"\n'
        f'{guest}VirtualHost "auth.{DOMAIN}"\n    authentication = "internal_hashed"\n'
        f'Component "focus.{DOMAIN}" "client_proxy"\n    target_address = "focus@auth.{DOMAIN}"\n'
        f'Component "jvb.{DOMAIN}"\n    component_secret = "{COMPONENT_SECRET}"\n'
    )


def make_root(root: Path, mode: str) -> None:
    """A package install of `mode` (internal with guests, ldap, jwt) with a secret in every file that has one."""
    c2s, web = closed_port(), closed_port()
    authentication = {"internal": "internal_hashed", "ldap": "cyrus", "jwt": "token"}[mode]
    write(root, "/etc/prosody/prosody.cfg.lua", f'c2s_ports = {{ {c2s} }}\nInclude "conf.d/*.cfg.lua"\n')
    write(root, f"/etc/prosody/conf.avail/{DOMAIN}.cfg.lua", site_file(authentication, token=mode == "jwt"))
    (root / "etc/prosody/conf.d").mkdir(parents=True)
    os.symlink(root / f"etc/prosody/conf.avail/{DOMAIN}.cfg.lua", root / f"etc/prosody/conf.d/{DOMAIN}.cfg.lua")
    guests = f"        anonymousdomain: 'guest.{DOMAIN}',\n" if mode != "jwt" else ""
    write(
        root,
        f"/etc/jitsi/meet/{DOMAIN}-config.js",
        f"var config = {{\n    hosts: {{\n        domain: '{DOMAIN}',\n{guests}    }},\n"
        f"    bosh: 'http://127.0.0.1:{web}/http-bind',\n}};\n",
    )
    jicofo_type = "JWT" if mode == "jwt" else "XMPP"
    write(
        root,
        "/etc/jitsi/jicofo/jicofo.conf",
        f"jicofo {{\n  authentication: {{\n    enabled: true\n    type: {jicofo_type}\n    login-url: {DOMAIN}\n  }}\n"
        f'  xmpp: {{\n    client: {{\n      username: "focus"\n      password: "{FOCUS_PW}"\n    }}\n  }}\n}}\n',
    )
    write(root, "/etc/passwd", "root:x:0:0::/root:/bin/bash\nprosody:x:105:110::/var/lib/prosody:/bin/false\n")
    write(root, "/etc/group", "root:x:0:\nprosody:x:110:\nsasl:x:45:prosody\n")
    write(root, f"/var/lib/prosody/{encode(DOMAIN)}/accounts/alice.dat", "return { stored_key = 'x' };\n")
    write(root, "/etc/default/saslauthd", 'START=yes\nMECHANISMS="ldap"\nOPTIONS="-c -m /var/run/saslauthd"\n')
    write(root, "/etc/saslauthd.conf", saslauthd_conf(closed_port()))


class FakeHost(GivenFactsHost):
    """A HostSession whose facts are given and whose commands do not run (the files are real, under a root)."""

    def exec(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes | None = None,
        user: str = "",
        environment: Mapping[str, str] | None = None,
        timeout: float = 15.0,
    ) -> ExecResult:
        return ExecResult(exit_code=127, stdout="", stderr=f"{argv[0]}: not found")

    def logs(self, *, since: float, tail: int = 400) -> str:
        return ""


OPEN_HOST = diagnose_host.open_host  # the real one (the --debug test replaces the module's)


def fake_session(root: Path, *, saslauthd: bool = True) -> FakeHost:
    session = OPEN_HOST(root, timeout=2.0, reason="--deployment host")
    procs = [Process(pid=40, uid=105, argv=("lua5.4", "/usr/bin/prosody", "-F"))]
    if saslauthd:
        procs.append(
            Process(pid=50, uid=0, argv=("/usr/sbin/saslauthd", "-a", "ldap", "-c", "-m", "/var/run/saslauthd"))
        )
    conf = (root / "etc/saslauthd.conf").read_text()
    facts = ContainerFacts(
        files={"/etc/saslauthd.conf": conf, "/etc/sasl/xmpp.conf": "pwcheck_method: saslauthd\nmech_list: PLAIN\n"},
        processes=procs,
        users={"prosody": (105, 110, ("sasl",))},
        binaries={"setpriv": "/usr/bin/setpriv"},
        complete=True,
    )
    fake = FakeHost(session.options, layout=session.layout, env_readers=session.env_readers, given=facts)
    fake.values.update(session.values)
    return fake


# Each scenario: (name, mode, how the root is broken, whether saslauthd runs).
Breakage = Callable[[Path], None]


def _unlink(root: Path) -> None:
    (root / f"etc/prosody/conf.d/{DOMAIN}.cfg.lua").unlink()


def _start_no(root: Path) -> None:
    write(root, "/etc/default/saslauthd", 'START=no\nMECHANISMS="ldap"\n')


def _pam(root: Path) -> None:
    write(root, "/etc/default/saslauthd", 'START=yes\nMECHANISMS="pam"\n')


def _no_group(root: Path) -> None:
    write(root, "/etc/group", "root:x:0:\nprosody:x:110:\nsasl:x:45:\n")


def _jicofo_elsewhere(root: Path) -> None:
    text = (root / "etc/jitsi/jicofo/jicofo.conf").read_text().replace(f"login-url: {DOMAIN}", "login-url: x.org")
    write(root, "/etc/jitsi/jicofo/jicofo.conf", text)


def _guest_gone(root: Path) -> None:
    path = root / f"etc/prosody/conf.avail/{DOMAIN}.cfg.lua"
    path.write_text(path.read_text().replace(f'VirtualHost "guest.{DOMAIN}"', 'VirtualHost "visitors.x.org"'))


def _no_secret(root: Path) -> None:
    path = root / f"etc/prosody/conf.avail/{DOMAIN}.cfg.lua"
    path.write_text(path.read_text().replace(f'    app_secret = "{APP_SECRET}"\n', ""))


SCENARIOS: list[tuple[str, str, Breakage | None, bool]] = [
    ("internal healthy files", "internal", None, True),
    ("internal unlinked", "internal", _unlink, True),
    ("internal jicofo login-url", "internal", _jicofo_elsewhere, True),
    ("internal no guest host", "internal", _guest_gone, True),
    ("ldap healthy files", "ldap", None, True),
    ("ldap saslauthd killed", "ldap", None, False),
    ("ldap START=no", "ldap", _start_no, False),
    ("ldap MECHANISMS=pam", "ldap", _pam, True),
    ("ldap no sasl group", "ldap", _no_group, True),
    ("jwt healthy files", "jwt", None, True),
    ("jwt no app_secret", "jwt", _no_secret, True),
]


def run_scenario(tmp_path: Path, mode: str, breakage: Breakage | None, saslauthd: bool) -> Report:
    make_root(tmp_path, mode)
    if breakage is not None:
        breakage(tmp_path)
    return diagnose_host.run(
        LdapSource(timeout=2.0),
        user="alice",
        password=Secret(USER_PW),
        bind_user=True,
        session=fake_session(tmp_path, saslauthd=saslauthd),
    )


def advice(report: Report) -> list[str]:
    """Every command and fix the report tells the admin: steps' reproduce lines and hints, the verdict's fix."""
    texts = [text for s in report.steps for text in (s.reproduce, s.hint) if text]
    if report.verdict is not None and report.verdict.hint:
        texts.append(report.verdict.hint)
    return texts


@pytest.mark.parametrize(("name", "mode", "breakage", "saslauthd"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_a_host_run_tells_the_hosts_commands_and_masks_its_files_secrets(
    tmp_path: Path, name: str, mode: str, breakage: Breakage | None, saslauthd: bool
) -> None:
    report = run_scenario(tmp_path, mode, breakage, saslauthd)
    failed = [s for s in report.steps if s.status is Status.FAIL]
    if breakage is not None or not saslauthd:
        assert failed, f"{name}: the breakage is not seen"
    docker_advice = [text for text in advice(report) if DOCKER.search(text)]
    assert not docker_advice, f"{name}: docker commands on a host: {docker_advice}"
    held = set(report.secrets)
    expected = {FOCUS_PW, TURN_SECRET, COMPONENT_SECRET} | (
        {APP_SECRET} if mode == "jwt" and breakage is None else set()
    )
    expected |= {BIND_PW} if mode == "ldap" else set()
    assert expected <= held, f"{name}: not registered for masking: {expected - held}"
    outputs = {
        "text": render(report, Format.TEXT),
        "-v": render(report, Format.TEXT, verbose=True),
        "json": render(report, Format.JSON),
        "markdown": render(report, Format.MARKDOWN),
        "markdown --sanitize": render(report, Format.MARKDOWN, sanitize=True),
    }
    for fmt, out in outputs.items():
        leaked = [s for s in (*SENTINELS, USER_PW) if s in out]
        assert not leaked, f"{name} ({fmt}): {leaked}"
    assert "Deployment: Debian packages on this host (--deployment host)" in outputs["text"]
    assert "Deployment: Debian packages on this host (--deployment host)" in outputs["markdown"]
    assert json.loads(outputs["json"])["meta"]["deployment"] == {
        "kind": "host",
        "what": "Debian packages on this host",
        "why": "--deployment host",
    }


@pytest.mark.parametrize(("name", "mode", "breakage", "saslauthd"), SCENARIOS[:2] + SCENARIOS[5:7])
def test_debug_output_of_a_host_run_masks_the_files_secrets(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    mode: str,
    breakage: Breakage | None,
    saslauthd: bool,
) -> None:
    """The whole CLI with --debug (its log records on stderr) and -v, the fake host in place of this machine."""
    make_root(tmp_path, mode)
    if breakage is not None:
        breakage(tmp_path)

    def open_fake(root: Path = Path("/"), *, timeout: float = 5.0, reason: str = "") -> HostSession:
        return fake_session(tmp_path, saslauthd=saslauthd)

    monkeypatch.setattr(diagnose_host, "open_host", open_fake)
    monkeypatch.chdir(tmp_path)
    # --debug sets LDAPCHECK_DEBUG for its children: restored after the test (later tests' subprocesses inherit it)
    monkeypatch.setenv("LDAPCHECK_DEBUG", "")
    for fmt in ((), ("--json",), ("--markdown",)):
        argv = ["ldapcheck", "--debug", "diagnose", "--deployment", "host", "-v", *fmt]
        monkeypatch.setattr(sys, "argv", [*argv, "--user", "alice", "--password-stdin"])
        monkeypatch.setattr(sys, "stdin", io.StringIO(USER_PW + "\n"))
        with pytest.raises(SystemExit) as exited:
            cli.main()
        out, err = capsys.readouterr()
        assert exited.value.code in (0, 1), err[-2000:]
        assert "Traceback" not in err
        assert "Deployment: Debian packages on this host" in out or '"kind": "host"' in out
        leaked = [s for s in (*SENTINELS, USER_PW) if s in out + err]
        assert not leaked, f"{name} {fmt}: {leaked}"


def _docker_report(hint: str, reproduce: str) -> Report:
    step = StepResult(
        id="container.saslauthd_socket",
        title="saslauthd socket",
        status=Status.FAIL,
        summary="x",
        hint=hint,
        reproduce=reproduce,
    )
    return Report(
        command="diagnose",
        steps=[step],
        verdict=Verdict(cause="x", failure_id=None, facts=[], hint=""),
        meta={"deployment": {"kind": "docker", "what": "docker-jitsi-meet containers", "why": "prosody container p"}},
    )


def test_a_docker_session_still_tells_docker_commands() -> None:
    """The same session methods give docker's commands on a docker run (the other half of the host test)."""
    session = ContainerSession(SessionOptions())
    session.container = type("C", (), {"name": "jitsi-prosody-1"})()
    assert session.shell("cat /x", user="prosody") == "docker exec -u prosody jitsi-prosody-1 cat /x"
    assert DOCKER.search(session.apply_hint()) and DOCKER.search(session.restart_hint("saslauthd"))
    assert DOCKER.search(session.logs_command("saslauthd")) and ".env" in session.config_place("AUTH_TYPE")
    text = render(_docker_report(session.restart_hint(), session.shell("ls")), Format.TEXT)
    assert "Deployment: docker-jitsi-meet containers (prosody container p)" in text


def test_docker_fixes_on_docker_runs(tmp_path: Path) -> None:
    """A step of the shared chain, run over a docker session, still says docker (the saslauthd process step)."""
    from ldapcheck.auth.ldap.container import steps as ldap_steps
    from ldapcheck.core.step import CheckFailed

    class View:
        def __init__(self, session: ContainerSession) -> None:
            self.session = session
            self.name = session.name

        def saslauthd_options(self) -> None:
            return None

        def env(self) -> dict[str, str]:
            return {"ENABLE_AUTH": "1", "AUTH_TYPE": "ldap"}

    docker = ContainerSession(SessionOptions())
    docker.container = type("C", (), {"name": "jitsi-prosody-1"})()
    with pytest.raises(CheckFailed) as err:
        ldap_steps.saslauthd_process(View(docker))  # type: ignore[arg-type]
    assert "docker logs" in err.value.hint and "docker exec jitsi-prosody-1" in err.value.reproduce
    make_root(tmp_path, "ldap")
    host = fake_session(tmp_path)
    with pytest.raises(CheckFailed) as err:
        ldap_steps.saslauthd_process(View(host))  # type: ignore[arg-type]
    assert not DOCKER.search(err.value.hint + err.value.reproduce)
    assert "sudo systemctl restart saslauthd" in err.value.hint


def test_deployment_line_only_for_runs_that_inspected_one() -> None:
    assert deployment_line(Report(command="count", steps=[], meta={})) == ""
