"""Host chain steps without a server: the failure ids and facts they emit (fake connections, no sockets)."""

from __future__ import annotations

import io

import pytest

from ldapcheck.adapters.errors import Operation
from ldapcheck.adapters.ldap import ber
from ldapcheck.adapters.ldap.directory import Result
from ldapcheck.auth.ldap.host import directory, network, user
from ldapcheck.auth.ldap.host.context import ChainOptions, HostContext
from ldapcheck.auth.ldap.settings import from_env
from ldapcheck.core import catalogue as ids
from ldapcheck.core.facts import (
    ACCOUNT,
    BIND,
    EMPTY_PASSWORD,
    ENTRIES,
    FILTER,
    GATE,
    LINK,
    LOGIN_SEEN,
    LOGIN_TYPED,
    NET,
)
from ldapcheck.core.secrets import Secret
from ldapcheck.core.step import CheckFailed, Outcome, Step, StepSkipped

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


# --- the user steps: facts the verdict reads (issue items A, 4, 7) --------------------------------------


class FakeDirectory:
    """What the user steps ask of a connection, answered from fixed values."""

    def __init__(
        self,
        dns: list[str] | None = None,
        attrs: dict[str, list[str]] | None = None,
        bind: Result | None = None,
    ) -> None:
        self.dns = dns or []
        self.attrs = attrs or {}
        self.bound = bind or Result(code=0)
        self.binds: list[tuple[str, str]] = []

    def __enter__(self) -> FakeDirectory:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def close(self) -> None:
        return None

    def bind(self, dn: str, password: str, controls: object = None) -> Result:
        self.binds.append((dn, password))
        return self.bound

    def read_entry(self, dn: str, attributes: object = ()) -> tuple[Result, dict[str, list[str]]]:
        return Result(code=0), self.attrs

    def search_dns(self, base: str, filter_text: str, *, limit: int = 50) -> tuple[Result, list[str]]:
        return Result(code=0), self.dns


def _user_ctx(directory: FakeDirectory, login: str, password: str = "pw", **env: str) -> HostContext:  # noqa: S107
    ctx = _ctx(GOOD, ChainOptions(user=login, password=Secret(password)), **env)
    ctx.directory = directory
    ctx.user_dn = directory.dns[0] if directory.dns else None
    return ctx


@pytest.mark.parametrize("dns", [[], ["uid=a,dc=example,dc=org"], ["uid=a,dc=example,dc=org", "uid=a,ou=x"]])
def test_user_search_facts(dns: list[str]) -> None:
    ctx = _user_ctx(FakeDirectory(dns), "alice@meet.jitsi", LDAP_FILTER="mail=%u@example.org")
    step = user.user_search_step()
    expected = {
        ENTRIES: len(dns),
        LOGIN_TYPED: "alice@meet.jitsi",
        LOGIN_SEEN: "alice",
        FILTER: "(mail=%u@example.org)",
    }
    if len(dns) == 1:
        assert step.run(ctx).facts == expected
        return
    with pytest.raises(CheckFailed) as caught:
        step.run(ctx)
    assert caught.value.failure_id == ids.SA_ENTRY_COUNT
    assert caught.value.facts == expected


def test_locked_ppolicy_account_fails_the_account_step() -> None:
    directory = FakeDirectory(["uid=l,dc=example,dc=org"], {"pwdAccountLockedTime": ["000001010000Z"]})
    with pytest.raises(CheckFailed) as caught:
        user.account_state_step().run(_user_ctx(directory, "l"))
    assert (caught.value.failure_id, caught.value.facts) == (ids.OL_PPOLICY, {ACCOUNT: "locked"})


@pytest.mark.parametrize(
    ("uac", "lockout", "fid", "state"),
    [("514", "0", ids.AD_533, "disabled"), ("512", "133000000000000000", ids.AD_775, "locked")],
)
def test_disabled_or_locked_ad_account_fails_the_account_step(uac: str, lockout: str, fid: str, state: str) -> None:
    attrs = {"userAccountControl": [uac], "lockoutTime": [lockout]}
    ctx = _user_ctx(FakeDirectory(["cn=d,dc=example,dc=org"], attrs), "d")
    ctx.is_ad = True
    with pytest.raises(CheckFailed) as caught:
        user.account_state_step().run(ctx)
    assert (caught.value.failure_id, caught.value.facts) == (fid, {ACCOUNT: state})


@pytest.mark.parametrize(
    ("message", "fid", "state"),
    [
        (
            "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 533, v4563",
            ids.AD_533,
            "disabled",
        ),
        (
            "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 775, v4563",
            ids.AD_775,
            "locked",
        ),
    ],
)
def test_user_bind_carries_the_account_state_the_server_names(
    monkeypatch: pytest.MonkeyPatch, message: str, fid: str, state: str
) -> None:
    directory = FakeDirectory(["cn=d,dc=example,dc=org"], bind=Result(code=49, message=message))
    monkeypatch.setattr(user, "connection", lambda _ctx, wire=False: directory)
    with pytest.raises(CheckFailed) as caught:
        user.user_bind_step().run(_user_ctx(directory, "d"))
    assert caught.value.failure_id == fid
    assert caught.value.facts == {BIND: "user", ACCOUNT: state}


def test_user_bind_ppolicy_locked_carries_the_account_state(monkeypatch: pytest.MonkeyPatch) -> None:
    control = {"value": bytes.fromhex("3003810101")}  # PasswordPolicyResponseValue: error accountLocked (1)
    directory = FakeDirectory(["uid=l,dc=example,dc=org"], bind=Result(code=49, controls={ber.PPOLICY_OID: control}))
    monkeypatch.setattr(user, "connection", lambda _ctx, wire=False: directory)
    with pytest.raises(CheckFailed) as caught:
        user.user_bind_step().run(_user_ctx(directory, "l"))
    assert caught.value.failure_id == ids.OL_PPOLICY
    assert caught.value.facts == {BIND: "user", ACCOUNT: "locked"}


@pytest.mark.parametrize(("code", "fid"), [(53, ids.RC_53), (0, ids.OL_UNAUTH_BIND)])
def test_user_bind_with_an_empty_password(monkeypatch: pytest.MonkeyPatch, code: int, fid: str) -> None:
    directory = FakeDirectory(["uid=a,dc=example,dc=org"], bind=Result(code=code))
    monkeypatch.setattr(user, "connection", lambda _ctx, wire=False: directory)
    with pytest.raises(CheckFailed) as caught:
        user.user_bind_step().run(_user_ctx(directory, "a", password=""))
    assert caught.value.failure_id == fid
    assert caught.value.facts == {BIND: "user", EMPTY_PASSWORD: True}
    assert directory.binds == [("uid=a,dc=example,dc=org", "")]


# --- a base outside the server's naming contexts (issue item 18) ---------------------------------------


@pytest.mark.parametrize(
    ("base", "outside"),
    [("dc=example,dc=com", True), ("dc=myexample,dc=org", True), ("ou=users,dc=example,dc=org", False)],
)
def test_a_base_outside_the_naming_contexts_fails_at_the_base_step(base: str, outside: bool) -> None:
    dse = {"namingContexts": ["dc=example,dc=org"], "supportedLDAPVersion": ["3"]}
    ctx = _ctx(GOOD, LDAP_BASE=base)
    ctx.directory = FakeDirectory(attrs=dse)
    rootdse = directory.rootdse_step(frozenset()).run(ctx)
    assert not rootdse.warn and rootdse.failure_id is None
    assert directory.service_bind_step().run(ctx).summary.startswith("bound as")
    if not outside:
        assert directory.base_step().run(ctx).summary == f"{base} exists"
        return
    with pytest.raises(CheckFailed) as caught:
        directory.base_step().run(ctx)
    assert caught.value.failure_id == ids.RC_32
    assert "not under any naming context (dc=example,dc=org)" in caught.value.message
    assert "LDAP_BASE" in caught.value.hint


# --- values as saslauthd sees them; client-side refusals (issue item 9) ----------------------------------


def test_settings_drop_leading_whitespace_like_saslauthd() -> None:
    settings = from_env(
        {
            "LDAP_URL": "\tldap://good.example",
            "LDAP_BASE": " dc=example,dc=org",
            "LDAP_BINDDN": " \tcn=svc,dc=example,dc=org",
            "LDAP_BINDPW": "  secret ",
            "LDAP_FILTER": " (uid=%u)",
            "XMPP_DOMAIN": "meet.jitsi",
        }
    )
    assert (settings.base, settings.bind_dn, settings.filter) == (
        "dc=example,dc=org",
        "cn=svc,dc=example,dc=org",
        "(uid=%u)",
    )
    assert settings.bind_password is not None and settings.bind_password.reveal() == "secret "  # trailing ones stay


@pytest.mark.parametrize(
    ("stdin", "expected"), [("pw\r\n", "pw"), ("pw\n", "pw"), ("pw\r\r\n", "pw\r"), ("pw\r", "pw\r"), ("pw", "pw")]
)
def test_password_stdin_drops_only_the_line_ending(monkeypatch: pytest.MonkeyPatch, stdin: str, expected: str) -> None:
    from ldapcheck.cli.common import read_password

    monkeypatch.setattr("sys.stdin", io.StringIO(stdin, newline="\n"))
    assert read_password(from_stdin=True, prompt="").reveal() == expected


def test_ldap3_client_refusals_are_their_own_adapter_errors() -> None:
    from ldap3.core import exceptions as e

    from ldapcheck.adapters.errors import DnSyntaxError, Operation, PasswordPrepError
    from ldapcheck.adapters.ldap.directory import ldap3_error

    dn = ldap3_error(e.LDAPInvalidDnError("character ' ' not allowed"), "h", 389, 5.0, Operation.LDAP)
    prep = ldap3_error(e.LDAPSASLPrepError("ASCII control character present"), "h", 389, 5.0, Operation.LDAP)
    assert isinstance(dn, DnSyntaxError) and isinstance(prep, PasswordPrepError)


def test_client_refusals_get_client_ids_that_name_the_setting() -> None:
    from ldapcheck.adapters.errors import DnSyntaxError, PasswordPrepError
    from ldapcheck.auth.ldap.failures import failure

    dn = failure(DnSyntaxError("character ' ' not allowed in attribute type"), dn="LDAP_BASE")
    assert dn.failure_id == ids.CL_DN_SYNTAX and "LDAP_BASE" in dn.message and "LDAP_BASE" in dn.hint
    prep = failure(PasswordPrepError("SASLprep error: ASCII control character present"), credential="LDAP_BINDPW")
    assert prep.failure_id == ids.CL_SASLPREP and "LDAP_BINDPW" in prep.message and "LDAP_BINDPW" in prep.hint


def test_a_password_with_a_control_character_is_cl_saslprep_at_the_user_bind() -> None:
    class Refusing(FakeDirectory):
        def bind(self, dn: str, password: str, controls: object = None) -> Result:
            from ldap3.core import exceptions as e

            from ldapcheck.adapters.ldap.directory import ldap3_error

            raise ldap3_error(e.LDAPSASLPrepError("ASCII control character present"), "h", 389, 5.0, Operation.LDAP)

    directory_ = Refusing(["uid=a,dc=example,dc=org"])
    ctx = _user_ctx(directory_, "a", password="pw\x07")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(user, "connection", lambda _ctx, wire=False: directory_)
        with pytest.raises(CheckFailed) as caught:
            user.user_bind_step().run(ctx)
    assert caught.value.failure_id == ids.CL_SASLPREP
    assert "the user's password" in caught.value.hint


# --- config.parse: the .env's gates in front of saslauthd (issue item 5) ---------------------------------


def _config(**env: str) -> Outcome:
    return network.config_step().run(_ctx(GOOD, **env))


@pytest.mark.parametrize(
    ("env", "fid", "gate"),
    [
        (
            {"ENABLE_AUTH": "0", "AUTH_TYPE": "ldap"},
            ids.JM_AUTH_TYPE,
            "ENABLE_AUTH",
        ),  # one id for the gates in every step
        ({"ENABLE_AUTH": "1", "AUTH_TYPE": "LDAP"}, ids.JM_AUTH_TYPE, "AUTH_TYPE"),
        ({"ENABLE_AUTH": "1", "AUTH_TYPE": "internal"}, ids.JM_AUTH_TYPE, "AUTH_TYPE"),
        (
            {"ENABLE_AUTH": "1", "AUTH_TYPE": "ldap", "PROSODY_AUTH_TYPE": "internal"},
            ids.JM_AUTH_TYPE,
            "PROSODY_AUTH_TYPE",
        ),
        (
            {"ENABLE_AUTH": "0", "AUTH_TYPE": "LDAP"},
            ids.JM_AUTH_TYPE,
            "ENABLE_AUTH",
        ),  # one id for the gates in every step
    ],
)
def test_a_gate_that_keeps_jitsi_from_asking_saslauthd_fails_the_settings(
    env: dict[str, str], fid: str, gate: str
) -> None:
    with pytest.raises(CheckFailed) as caught:
        _config(**env)
    assert caught.value.failure_id == fid
    assert caught.value.facts == {LINK: "settings", GATE: gate}
    assert gate in caught.value.hint or "AUTH_TYPE" in caught.value.hint


def test_use_tls_on_an_ldap_url_warns() -> None:
    outcome = _config(ENABLE_AUTH="1", AUTH_TYPE="ldap", LDAP_USE_TLS="yes")
    assert outcome.warn and outcome.failure_id == ids.TLS_USE_TLS_SCHEME
    assert "ldaps://" in outcome.hint


@pytest.mark.parametrize(
    "env",
    [
        {"ENABLE_AUTH": "1", "AUTH_TYPE": "ldap"},
        {"ENABLE_AUTH": "true", "AUTH_TYPE": "ldap", "LDAP_USE_TLS": "1", "LDAP_START_TLS": "1"},
        {},  # only --url / LDAP_* given: no gate to judge
    ],
)
def test_open_gates_pass(env: dict[str, str]) -> None:
    outcome = _config(**env)
    assert not outcome.warn and outcome.failure_id is None


def test_the_service_bind_no_longer_waits_for_the_settings_step() -> None:
    assert directory.service_bind_step().requires == frozenset({"ldap.rootdse"})
    ctx = _ctx(GOOD, LDAP_BINDDN="cn=svc,dc=example,dc=org")
    with pytest.raises(StepSkipped):
        directory.service_bind_step().run(ctx)
