"""Time to give up follows --timeout: every wait of the in-container probe, testsaslauthd, the facts exec,
validate's page wait and the XMPP login deadline is derived from it (no fixed 30/40 s on a diagnose path)."""

from __future__ import annotations

from typing import Any

import pytest

from ldapcheck.adapters.docker import ExecResult
from ldapcheck.auth.ldap.container import probe as probemod
from ldapcheck.auth.ldap.container.view import LoginOptions, SaslauthdView
from ldapcheck.auth.ldap.directory.scan import SCAN_PAGE_FACTOR, scan_page_timeout
from ldapcheck.core.secrets import Secret
from ldapcheck.jitsi.container import facts as factsmod
from ldapcheck.jitsi.container.facts import ContainerFacts, Process
from ldapcheck.jitsi.login import login_deadline
from testing.sessions import SASLAUTHD_CURRENT, session

CONF = "ldap_servers: ldap://a.example/ ldap://b.example/\nldap_search_base: dc=example,dc=org\n"


def decode_fields(data: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    rest = data
    while rest and not rest.startswith(b"\n"):
        header, _, rest = rest.partition(b"\n")
        name, size = header.decode().split(" ")
        fields[name], rest = rest[: int(size)].decode(), rest[int(size) :]
    return fields


@pytest.mark.parametrize("timeout", [1.0, 2.5, 5.0])
def test_probe_waits_follow_the_timeout(timeout: float) -> None:
    facts = ContainerFacts(
        files={"/run/saslauthd.conf": CONF},
        processes=[Process(pid=20, uid=0, argv=SASLAUTHD_CURRENT)],
        complete=True,
    )
    found = session(facts)
    found.options.timeout = timeout
    seen: dict[str, Any] = {}

    def followup(argv: list[str], **kwargs: Any) -> ExecResult:
        seen.update(kwargs)
        return ExecResult(exit_code=0, stdout="probe\tok\tLua 5.4\ndone\tok\n", stderr="")

    found.followup = followup  # type: ignore[method-assign]
    view = SaslauthdView(found, LoginOptions(login="alice", password=Secret("pw")))
    view.probe()
    wait = probemod.ldap_wait(timeout)
    assert wait == max(1, int(-(-timeout // 1)))  # whole seconds, rounded up: libldap reads integers
    assert seen["environment"]["LDAPNETWORK_TIMEOUT"] == seen["environment"]["LDAPTIMEOUT"] == str(wait)
    fields = decode_fields(seen["stdin"])
    assert fields["timeout"] == str(wait)
    assert fields["sasl_timeout"] == str(probemod.SASL_REPLY_FACTOR * wait)
    # two servers: the service bind connects to both (2 T) then waits for the bind (T); the socket T + 3 T
    assert seen["timeout"] == (2 + 1) * wait + (1 + 3) * wait + probemod.EXEC_START_SLACK


def test_the_defaults_keep_the_former_bounds() -> None:
    """At the default --timeout 5 the derived waits are the fixed ones they replace (15 s socket, 30 s page, …)."""
    assert probemod.SASL_REPLY_FACTOR * probemod.ldap_wait(5.0) == 15
    assert probemod.exec_budget(5.0, 1) == 40.0
    assert scan_page_timeout(5.0) == 30.0
    assert login_deadline(5.0) == 10.0
    assert factsmod.deadline(5.0) == 20.0
    assert factsmod.net_environment(5.0) == {factsmod.NET_TIMEOUT_VAR: "5"}


@pytest.mark.parametrize("timeout", [0.5, 1.0, 3.0])
def test_short_timeouts_shorten_every_wait(timeout: float) -> None:
    assert scan_page_timeout(timeout) == SCAN_PAGE_FACTOR * timeout
    assert login_deadline(timeout) == 2 * timeout
    assert factsmod.deadline(timeout) == 2 * timeout + factsmod.FACTS_SLACK
    assert factsmod.net_environment(timeout) == {factsmod.NET_TIMEOUT_VAR: f"{timeout:g}"}
    assert probemod.exec_budget(timeout, 1) < probemod.exec_budget(timeout + 1, 1)


def test_the_facts_script_has_no_fixed_network_wait() -> None:
    script = factsmod.script()
    assert "timeout 5 " not in script
    assert script.count(f'timeout "${{{factsmod.NET_TIMEOUT_VAR}:-5}}"') == 2
