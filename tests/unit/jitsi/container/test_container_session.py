"""What the container session and its saslauthd view derive from parsed facts: generation, conf path, socket,
prosody's user."""

from __future__ import annotations

from typing import Any

import pytest

from ldapcheck.adapters import docker as dockeradapter
from ldapcheck.adapters.docker import ExecResult
from ldapcheck.auth.ldap.container.view import LoginOptions, SaslauthdView
from ldapcheck.jitsi.container.facts import ContainerFacts, FileStat, Process
from testing.sessions import SASLAUTHD_CURRENT, SASLAUTHD_LEGACY, session


def context(facts: ContainerFacts, env: dict[str, str] | None = None) -> SaslauthdView:
    return SaslauthdView(session(facts, env), LoginOptions(login="alice@meet.jitsi"))


def test_current_generation_from_layout() -> None:
    facts = ContainerFacts(
        files={"/run/prosody/config/prosody.cfg.lua": "", "/run/saslauthd.conf": "ldap_filter: uid=%u\n"},
        dirs={"/run/prosody/config/certs": []},
        processes=[Process(pid=20, uid=1000, argv=SASLAUTHD_CURRENT)],
        complete=True,
    )
    ctx = context(facts)
    gen, evidence = ctx.generation()
    assert gen == "current"
    assert "saslauthd -O /run/saslauthd.conf" in evidence
    assert ctx.conf_path() == "/run/saslauthd.conf"


def test_legacy_generation_from_layout() -> None:
    facts = ContainerFacts(
        files={"/config/prosody.cfg.lua": "", "/etc/saslauthd.conf": "ldap_filter: uid=%u\n"},
        dirs={"/config/certs": ["meet.jitsi.crt"]},
        processes=[Process(pid=20, uid=0, argv=SASLAUTHD_LEGACY)],
        complete=True,
    )
    gen, evidence = context(facts).generation()
    assert gen == "legacy"
    assert evidence == [
        "prosody config at /config/prosody.cfg.lua",
        "saslauthd -O /etc/saslauthd.conf",
        "certificates in /config/certs",
    ]


def test_generation_without_a_mode_reads_only_the_prosody_layout() -> None:
    facts = ContainerFacts(
        files={"/config/prosody.cfg.lua": ""},
        dirs={"/config/certs": []},
        processes=[Process(pid=20, uid=0, argv=SASLAUTHD_CURRENT)],
        complete=True,
    )
    assert session(facts).generation() == (
        "legacy",
        ["prosody config at /config/prosody.cfg.lua", "certificates in /config/certs"],
    )


def test_without_saslauthd_the_conf_path_follows_the_generation() -> None:
    legacy = ContainerFacts(files={"/config/prosody.cfg.lua": ""}, complete=True)
    assert context(legacy).conf_path() == "/etc/saslauthd.conf"
    assert context(ContainerFacts(complete=True)).conf_path() == "/run/saslauthd.conf"


def test_socket_path_from_xmpp_conf_or_run_dir() -> None:
    facts = ContainerFacts(
        files={"/etc/sasl/xmpp.conf": "pwcheck_method: saslauthd\nsaslauthd_path: /srv/mux\n"},
        processes=[Process(pid=5, uid=0, argv=("saslauthd", "-a", "ldap", "-m", "/run/other"))],
        complete=True,
    )
    assert context(facts).socket_path() == "/srv/mux"
    facts.files["/etc/sasl/xmpp.conf"] = "pwcheck_method: saslauthd\n"
    ctx = context(facts)
    assert ctx.socket_path() == "/run/other/mux"
    # SASL_CONF_PATH in prosody's environment is searched first
    facts.files["/opt/sasl/xmpp.conf"] = "pwcheck_method: auxprop\n"
    shifted = context(facts, {"SASL_CONF_PATH": "/opt/sasl"})
    found = shifted.sasl_app_conf()
    assert found is not None and found[0] == "/opt/sasl/xmpp.conf"


def test_prosody_user_by_process_uid() -> None:
    facts = ContainerFacts(
        processes=[Process(pid=1, uid=1000, argv=("lua5.4", "/usr/bin/prosody", "-F"))],
        users={"prosody": (100, 102, ("prosody",)), "s6": (1000, 1000, ("s6", "prosody", "sasl"))},
        stats={"/var/run/saslauthd": FileStat("777", "s6", "s6", "directory")},
        complete=True,
    )
    assert context(facts).prosody_user() == "s6"
    facts.processes = []
    assert context(facts).prosody_user() == "prosody"
    facts.processes = [Process(pid=1, uid=4242, argv=("prosody",))]
    assert context(facts).prosody_user() == "4242"


def test_request_is_what_prosody_sends() -> None:
    facts = ContainerFacts(
        files={"/run/saslauthd.conf": "ldap_search_base: ou=%r\nldap_filter: (mail=%u@%d)\n"},
        processes=[Process(pid=20, uid=0, argv=SASLAUTHD_CURRENT)],
        complete=True,
    )
    req = context(facts, {"XMPP_DOMAIN": "meet.example.org"}).request()
    assert req is not None
    assert (req.typed, req.user, req.realm, req.service) == ("alice@meet.jitsi", "alice", "meet.example.org", "xmpp")
    assert req.filter == "(mail=alice@)"
    assert req.base == "ou=meet.example.org"


def test_prosody_config_reads_the_included_conf_d_files() -> None:
    from ldapcheck.auth.ldap.container.config import prosody_config

    facts = ContainerFacts(
        files={
            "/run/prosody/config/prosody.cfg.lua": 'authentication = "internal_hashed"\nInclude "conf.d/*.cfg.lua"\n',
            "/run/prosody/config/conf.d/jitsi-meet.cfg.lua": (
                'VirtualHost "meet.jitsi"\n    authentication = "cyrus"\n    cyrus_application_name = "xmpp"\n'
            ),
        },
        complete=True,
    )
    outcome = prosody_config(context(facts, {"XMPP_DOMAIN": "meet.jitsi", "ENABLE_AUTH": "1", "AUTH_TYPE": "ldap"}))
    assert outcome.detail["authentication"] == "cyrus"
    assert outcome.detail["files"] == [
        "/run/prosody/config/prosody.cfg.lua",
        "/run/prosody/config/conf.d/jitsi-meet.cfg.lua",
    ]


def test_net_step_reads_the_host_result_from_the_run() -> None:
    from ldapcheck.core.model import Status, StepResult
    from ldapcheck.core.step import CheckFailed
    from ldapcheck.jitsi.container.steps import net_step

    facts = ContainerFacts(dns={"ldap.example": (2, "")}, tcp={("ldap.example", 389): -1}, complete=True)
    step = net_step("ldap.example", 389)
    inside = session(facts)
    for host_status, fid in ((Status.FAIL, "NET-DNS"), (Status.PASS, "NET-CONTAINER")):
        inside.results = {"net.tcp[ldap.example:389]": StepResult(id="x", title="x", status=host_status, summary="")}
        try:
            step.run(inside)
        except CheckFailed as exc:
            assert exc.failure_id == fid
        else:
            raise AssertionError("the step should fail")


class FakeChannel:
    """The facts exec kept open for the follow-up (adapters.docker.ExecChannel)."""

    def __init__(self) -> None:
        self.open = True
        self.sent = b""
        self.closed = False

    def send(self, data: bytes) -> None:
        self.sent += data

    def read_part(self, *, timeout: float) -> ExecResult:
        return ExecResult(0, "probe out", "")

    def close(self) -> None:
        self.closed = True


def own_execs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def exec_in(container: Any, argv: Any, **kwargs: Any) -> ExecResult:
        calls.append({"argv": list(argv), **kwargs})
        return ExecResult(0, "own exec", "")

    monkeypatch.setattr(dockeradapter, "exec_in", exec_in)
    return calls


def test_the_follow_up_runs_in_the_open_facts_exec_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = own_execs(monkeypatch)
    found = session(ContainerFacts(binaries={"setpriv": "/usr/bin/setpriv"}, complete=True))
    channel = FakeChannel()
    found._channel = channel  # type: ignore[assignment]
    result = found.followup(["lua5.4", "-e", "x"], stdin=b"secret", user="prosody", environment={"A": "1"})
    assert result.stdout == "probe out" and calls == [] and channel.closed
    assert channel.sent == b"@@then prosody 3 1\n6\nlua5.42\n-e1\nx3\nA=1secret"
    # a second follow-up has no open exec left: it gets its own
    assert found.followup(["id"], stdin=b"", user="prosody").stdout == "own exec"


@pytest.mark.parametrize(
    ("binaries", "user"),
    [({}, "prosody"), ({"setpriv": "-"}, "prosody"), ({"setpriv": "/usr/bin/setpriv"}, "")],
    ids=["no-setpriv-record", "no-setpriv", "image-default-user"],
)
def test_the_follow_up_falls_back_to_an_exec_of_its_own(
    monkeypatch: pytest.MonkeyPatch, binaries: dict[str, str], user: str
) -> None:
    calls = own_execs(monkeypatch)
    found = session(ContainerFacts(binaries=binaries, complete=True))
    channel = FakeChannel()
    found._channel = channel  # type: ignore[assignment]
    result = found.followup(["lua5.4"], stdin=b"secret", user=user, environment={"A": "1"})
    assert result.stdout == "own exec" and channel.closed and channel.sent == b""
    assert calls == [{"argv": ["lua5.4"], "stdin": b"secret", "user": user, "environment": {"A": "1"}, "timeout": 15.0}]
