"""Host chain steps without a server: the failure ids and facts they emit (fake connections, no sockets)."""

from __future__ import annotations

import pytest

from ldapcheck.auth.ldap.host import network
from ldapcheck.auth.ldap.host.context import ChainOptions, HostContext
from ldapcheck.auth.ldap.settings import from_env
from ldapcheck.core import catalogue as ids
from ldapcheck.core.facts import LINK, NET
from ldapcheck.core.step import CheckFailed, Outcome, Step

HANG, GOOD, SHUT = "ldap://hang.example:389", "ldap://good.example:389", "ldap://shut.example:389"


def _ctx(url: str, options: ChainOptions | None = None, **env: str) -> HostContext:
    values = {"LDAP_URL": url, "LDAP_BASE": "dc=example,dc=org", **env}
    return HostContext(settings=from_env(values), options=options or ChainOptions())


def _select(ctx: HostContext) -> Step[HostContext]:
    return network.select_step({srv.url: f"net.plain[{srv.hostport}]" for srv in ctx.settings.servers})


def _passed(ctx: HostContext, *step_ids: str) -> None:
    for step_id in step_ids:
        ctx.values[step_id] = None


# --- net.select: saslauthd's failover (issue item 3) ------------------------------------------------------


def test_a_first_server_that_accepts_and_hangs_is_no_failover() -> None:
    ctx = _ctx(f"{HANG} {GOOD}")
    _passed(ctx, "net.tcp[hang.example:389]", "net.tcp[good.example:389]", "net.plain[good.example:389]")
    ctx.net_failed[HANG] = "timeout"
    with pytest.raises(CheckFailed) as caught:
        _select(ctx).run(ctx)
    assert caught.value.failure_id == ids.NET_NO_FAILOVER
    assert caught.value.facts == {LINK: "tcp", NET: "timeout"}
    assert "does not fail over" in caught.value.hint and HANG in caught.value.hint
    assert ctx.server is None


def test_a_first_server_that_refuses_is_skipped_like_saslauthd_does() -> None:
    ctx = _ctx(f"{SHUT} {GOOD}")
    _passed(ctx, "net.tcp[good.example:389]", "net.plain[good.example:389]")
    ctx.net_failed[SHUT] = "refused"
    outcome = _select(ctx).run(ctx)
    assert outcome.warn and outcome.failure_id == ids.LDAP_SERVER_DOWN
    assert outcome.facts == {LINK: "tcp"}
    assert ctx.server is not None and ctx.server.url == GOOD


def test_a_first_server_that_drops_the_syn_is_skipped_after_the_wait() -> None:
    ctx = _ctx(f"{HANG} {GOOD}")
    _passed(ctx, "net.tcp[good.example:389]", "net.plain[good.example:389]")
    ctx.net_failed[HANG] = "timeout"  # the TCP step itself timed out: libldap's connect gives up and moves on
    assert _select(ctx).run(ctx).warn


def test_no_working_server() -> None:
    ctx = _ctx(f"{SHUT} {HANG}")
    ctx.net_failed[SHUT] = "refused"
    with pytest.raises(CheckFailed) as caught:
        _select(ctx).run(ctx)
    assert caught.value.failure_id == ids.LDAP_SERVER_DOWN
    assert caught.value.facts == {LINK: "tcp", NET: "refused"}


def test_the_recorded_step_notes_how_a_server_failed() -> None:
    ctx = _ctx(f"{HANG} {GOOD}")

    def hang(_ctx: HostContext) -> Outcome:
        raise CheckFailed(ids.NET_TIMEOUT, "no answer", facts={NET: "timeout"})

    step = network.recorded(Step(id="net.plain[hang.example:389]", title="x", run=hang), ctx.settings.servers[0])
    with pytest.raises(CheckFailed):
        step.run(ctx)
    assert ctx.net_failed == {HANG: "timeout"}
