"""Secrets are masked where they are values, never inside DNs or ldapcheck's own advice (that would tell them)."""

from __future__ import annotations

import json

from ldapcheck.core.model import Report, Status, StepResult, Verdict
from ldapcheck.core.secrets import MASK, mask_secrets
from ldapcheck.report import Format, render


def _report(secret: str) -> Report:
    step = StepResult(
        id="ldap.service_bind",
        title="Service bind",
        status=Status.FAIL,
        summary=f"bind as cn=saslauthd,ou={secret},dc=example,dc=org rejected; server said: bad password {secret}",
        detail={"bind dn": f"cn=saslauthd,ou={secret},dc=example,dc=org", "sent": secret},
        failure_id="RC-49",
        hint="The password is wrong: check LDAP_BINDPW.",
    )
    verdict = Verdict(cause="the service bind fails", failure_id="RC-49", facts=[step.summary], hint=step.hint)
    return Report(command="diagnose", steps=[step], verdict=verdict, secrets=frozenset({secret}))


def test_a_dn_that_contains_the_secret_is_not_masked() -> None:
    assert mask_secrets("cn=saslauthd,ou=services,dc=example", {"services"}) == "cn=saslauthd,ou=services,dc=example"


def test_values_are_masked_in_every_format() -> None:
    for fmt in Format:
        out = render(_report("services"), fmt)
        assert "ou=services,dc=example" in out  # the DN is not a leak, a mask inside it would be
        assert "bad password services" not in out
        assert f"bad password {MASK}" in out


def test_own_advice_is_not_masked_when_the_password_is_an_ordinary_word() -> None:
    out = render(_report("wrong"), Format.TEXT)
    assert "The password is wrong" in out
    assert "The password is " + MASK not in out


def test_the_output_says_what_is_masked() -> None:
    text = render(_report("s3cr3t-value"), Format.TEXT)
    assert "shown as ********" in text
    data = json.loads(render(_report("s3cr3t-value"), Format.JSON))
    assert data["meta"]["masked"] >= 2
    assert data["steps"][0]["detail"]["sent"] == MASK


def test_control_characters_in_a_login_are_escaped_in_every_format() -> None:
    login = "ali\x01ce\u202eevil\nline"
    step = StepResult(
        id="ldap.user_search",
        title="User search",
        status=Status.FAIL,
        summary=f"no entry for {login}",
        detail={"login": login},
        failure_id="SA-ENTRY-COUNT",
    )
    verdict = Verdict(cause=f"no entry for {login!s}", failure_id="SA-ENTRY-COUNT", facts=[step.summary])
    report = Report(command="user", steps=[step], verdict=verdict)
    for fmt in Format:
        out = render(report, fmt)
        assert "\x01" not in out and "\u202e" not in out
        assert "evil\nline" not in out
        if fmt is not Format.JSON:
            assert "ali\\x01ce\\u202eevil\\nline" in out
        else:
            assert json.loads(out)["steps"][0]["detail"]["login"] == "ali\\x01ce\\u202eevil\\nline"


TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJteWFwcCIsImF1ZCI6ImppdHNpIiwicm9vbSI6IioifQ"
    ".c2lnbmF0dXJlLWJ5dGVzLWhlcmUtMDEyMzQ1Njc4OWFiY2RlZg"
)


def test_tokens_are_masked_in_every_format() -> None:
    step = StepResult(
        id="jwt.sig",
        title="Signature",
        status=Status.FAIL,
        summary=f"GET /room?jwt={TOKEN} refused",
        detail={"token": TOKEN, "url": f"https://meet.example.org/room?jwt={TOKEN}&lang=en", "list": [TOKEN]},
        facts={"token": TOKEN},
        reproduce=f"curl 'https://meet.example.org/http-bind?token={TOKEN}'",
        failure_id="JWT-SIG",
    )
    verdict = Verdict(cause="the signature does not verify", failure_id="JWT-SIG", facts=[f"token {TOKEN}"])
    report = Report(command="token check", steps=[step], verdict=verdict, meta={"token": TOKEN})
    for fmt in Format:
        for verbose in (False, True):
            out = render(report, fmt, verbose=verbose)
            assert TOKEN not in out and TOKEN[-20:] not in out and TOKEN.split(".")[1] not in out, fmt
            assert "<token ********>" in out
    data = json.loads(render(report, Format.JSON))
    assert data["meta"]["masked"] >= 4
    assert data["steps"][0]["detail"]["url"] == "https://meet.example.org/room?jwt=<token ********>&lang=en"


def test_every_modes_secret_is_registered() -> None:
    from ldapcheck.commands.inside import ContainerOptions, open_session
    from ldapcheck.commands.secrets import env_secrets, secret_keys

    assert {"LDAP_BINDPW", "JWT_APP_SECRET"} <= secret_keys()
    assert {"JWT_APP_SECRET", "LDAP_BINDPW"} <= open_session(ContainerOptions()).options.secret_keys
    assert env_secrets({"JWT_APP_SECRET": "s3cret-jwt", "JWT_APP_ID": "app"}) == {"s3cret-jwt"}
