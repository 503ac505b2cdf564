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
