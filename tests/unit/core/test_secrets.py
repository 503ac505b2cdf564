"""Passwords never reach output, reprs, exception messages or reproduce lines."""

from __future__ import annotations

from ldapcheck.auth.ldap.chain import ChainOptions, HostContext, diagnose_steps
from ldapcheck.auth.ldap.codes import classify_bind
from ldapcheck.auth.ldap.host.network import config_step
from ldapcheck.auth.ldap.settings import from_env
from ldapcheck.core.model import Report, Status, StepResult
from ldapcheck.core.runner import run_steps
from ldapcheck.core.secrets import MASK, Secret, mask_secrets
from ldapcheck.core.step import CheckFailed
from ldapcheck.report import Format, render

BIND_PW = "bind-Pa55-word"
USER_PW = "user-Pa55-word"
ENV = {
    "LDAP_URL": "ldaps://127.0.0.1:1 ldap://127.0.0.1:2",
    "LDAP_BASE": "dc=example,dc=org",
    "LDAP_BINDDN": "cn=svc,dc=example,dc=org",
    "LDAP_BINDPW": BIND_PW,
    "LDAP_START_TLS": "0",
    "LDAP_TLS_CACERT_FILE": "/etc/hostname",
}


def test_secret_wrapper() -> None:
    secret = Secret(USER_PW)
    assert str(secret) == MASK and USER_PW not in repr(secret) and USER_PW not in f"{secret}"
    assert secret.reveal() == USER_PW
    assert mask_secrets(f"a {USER_PW} b", {USER_PW}) == f"a {MASK} b"


def test_settings_and_context_do_not_show_passwords() -> None:
    settings = from_env(ENV)
    ctx = HostContext(settings=settings, options=ChainOptions(user="alice", password=Secret(USER_PW)))
    for text in (repr(settings), repr(ctx), str(settings.bind_password)):
        assert BIND_PW not in text and USER_PW not in text


def test_reproduce_lines_prompt_for_passwords() -> None:
    settings = from_env(ENV)
    ctx = HostContext(settings=settings, options=ChainOptions(user="alice", password=Secret(USER_PW)))
    ctx.server = settings.servers[0]
    ctx.user_dn = "uid=alice,dc=example,dc=org"
    lines = [s.reproduce(ctx) for s in diagnose_steps(settings, ctx.options) if s.reproduce is not None]
    assert len(lines) >= 8
    for line in lines:
        assert BIND_PW not in line and USER_PW not in line
        if "-D " in line:
            assert " -W" in line
    assert any("LDAPTLS_CACERT=/etc/hostname" in line for line in lines)


def test_config_step_masks_the_bind_password() -> None:
    settings = from_env(ENV)
    ctx = HostContext(settings=settings)
    results, _ = run_steps([config_step()], ctx)
    report = Report(command="diagnose", steps=results, secrets=settings.secrets())
    for fmt in Format:
        out = render(report, fmt, verbose=True)
        assert BIND_PW not in out
    assert results[0].detail["bind_password"] == "set"


def test_renderers_mask_leaked_secrets_in_every_field() -> None:
    leak = StepResult(
        id="x",
        title="X",
        status=Status.FAIL,
        summary=f"s {BIND_PW}",
        detail={"k": f"d {USER_PW}", "n": [BIND_PW]},
        hint=f"h {BIND_PW}",
        reproduce=f"r {USER_PW}",
    )
    report = Report(command="diagnose", steps=[leak], secrets=frozenset({BIND_PW, USER_PW}))
    for fmt in Format:
        out = render(report, fmt, verbose=True)
        assert BIND_PW not in out and USER_PW not in out


def test_error_messages_do_not_carry_passwords() -> None:
    verdict = classify_bind(49, "invalid credentials", who="cn=svc,dc=example,dc=org", service=True)
    error = CheckFailed(verdict.failure_id or "", verdict.summary, hint=verdict.hint)
    assert BIND_PW not in str(error) and BIND_PW not in error.hint


def test_sanitize_masks_whole_dn_values_and_emails() -> None:
    from ldapcheck.core.secrets import sanitize_pii

    out = sanitize_pii("bound as cn=No Login,ou=users,dc=example,dc=org; filter (uid=a\\2ab); mail carol@example.org")
    assert "No Login" not in out and "Login" not in out
    assert "a\\2ab" not in out
    assert "carol" not in out
    assert "ou=users,dc=example,dc=org" in out


def test_every_key_named_like_a_secret_is_one() -> None:
    from ldapcheck.commands.secrets import env_secrets

    env = {
        "LDAP_BINDPW": "b1-secret-value",
        "JWT_APP_SECRET": "j1-secret-value",
        "JICOFO_AUTH_PASSWORD": "c1-secret-value",
        "LAB_ADMIN_PASSWORD": "a1-secret-value",
        "XMPP_DOMAIN": "meet.jitsi",
        "LDAP_BASE": "dc=example,dc=org",
    }
    assert env_secrets(env) == {"b1-secret-value", "j1-secret-value", "c1-secret-value", "a1-secret-value"}
