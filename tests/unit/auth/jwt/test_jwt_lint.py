"""`ldapcheck lint` rules of the JWT mode: each documented .env mistake, never quoting the secret."""

from __future__ import annotations

import pytest

from ldapcheck.commands.lint import rules_and_keys
from ldapcheck.jitsi.env.parse import parse_env
from ldapcheck.jitsi.lint.model import Finding, Severity, lint_env

SECRET = "Zq7-long-random-secret-0123456789abcdef"
GOOD = {"ENABLE_AUTH": "1", "AUTH_TYPE": "jwt", "JWT_APP_ID": "myapp", "JWT_APP_SECRET": SECRET}


def run(values: dict[str, str | None]) -> list[Finding]:
    text = "".join(f"{k}='{v}'\n" for k, v in values.items() if v is not None)
    rules, keys = rules_and_keys()
    return lint_env(parse_env(text, environ={}), rules, keys=keys)


def jwt_findings(values: dict[str, str | None]) -> list[tuple[str, Severity, str | None]]:
    return [(f.id, f.severity, f.key) for f in run(values) if f.id.startswith("JWT-")]


def test_a_good_block_has_no_jwt_finding() -> None:
    assert jwt_findings(GOOD) == []


def test_jwt_rules_stay_quiet_for_ldap() -> None:
    assert jwt_findings({"ENABLE_AUTH": "1", "AUTH_TYPE": "ldap", "JWT_APP_SECRET": "false"}) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"JWT_APP_ID": None}, ("JWT-CONFIG", Severity.ERROR, "JWT_APP_ID")),
        ({"JWT_APP_ID": ""}, ("JWT-CONFIG", Severity.ERROR, "JWT_APP_ID")),
        ({"JWT_APP_SECRET": None}, ("JWT-CONFIG", Severity.ERROR, "JWT_APP_SECRET")),
        ({"JWT_APP_SECRET": "false"}, ("JWT-SECRET-TOBOOL", Severity.ERROR, "JWT_APP_SECRET")),
        ({"JWT_APP_SECRET": "0"}, ("JWT-SECRET-TOBOOL", Severity.ERROR, "JWT_APP_SECRET")),
        ({"JWT_APP_SECRET": "F"}, ("JWT-SECRET-TOBOOL", Severity.ERROR, "JWT_APP_SECRET")),
        (
            {"JWT_APP_SECRET": "0", "JWT_ASAP_KEYSERVER": "https://keys.example.org"},
            ("JWT-SECRET-TOBOOL", Severity.WARNING, "JWT_APP_SECRET"),
        ),
        ({"JWT_ASAP_KEYSERVER": "https://keys.example.org"}, ("JWT-KID-ALG", Severity.WARNING, "JWT_ASAP_KEYSERVER")),
        ({"JWT_ACCEPTED_ISSUERS": "web,portal"}, ("JWT-ISS", Severity.WARNING, "JWT_ACCEPTED_ISSUERS")),
        ({"JWT_ACCEPTED_AUDIENCES": "jitsi, meet"}, ("JWT-AUD", Severity.WARNING, "JWT_ACCEPTED_AUDIENCES")),
        ({"JWT_SIGN_TYPE": "ES256"}, ("JWT-SIGNTYPE", Severity.ERROR, "JWT_SIGN_TYPE")),
        ({"JWT_APP_SECRET": 'ab"cd'}, ("JWT-CONFIG", Severity.ERROR, "JWT_APP_SECRET")),
        ({"ENABLE_GUESTS": "1"}, ("JWT-GUESTS-MIX", Severity.INFO, "ENABLE_GUESTS")),
        ({"JWT_ALLOW_EMPTY": "1"}, ("JWT-EMPTY-CREATES", Severity.WARNING, "JWT_ALLOW_EMPTY")),
        ({"JWT_ALLOW_EMPTY": "1", "ENABLE_GUESTS": "1"}, ("JWT-EMPTY-CREATES", Severity.WARNING, "JWT_ALLOW_EMPTY")),
    ],
)
def test_each_mistake_is_found(changes: dict[str, str | None], expected: tuple[str, Severity, str]) -> None:
    assert jwt_findings({**GOOD, **changes}) == [expected]


def test_no_secret_no_key_is_one_finding_and_accepted_issuers_with_app_id_is_fine() -> None:
    assert jwt_findings({**GOOD, "JWT_ACCEPTED_ISSUERS": "web,myapp"}) == []
    assert jwt_findings({**GOOD, "JWT_ACCEPTED_ISSUERS": "*"}) == []
    assert jwt_findings({**GOOD, "JWT_APP_SECRET": "no"}) == []  # toBool("no") is true: rendered as is


def test_messages_never_quote_the_secret() -> None:
    for secret in ('wei"rd-Secret-Value', "se\\cret-Value-long"):
        for f in run({**GOOD, "JWT_APP_SECRET": secret}):
            assert secret not in f"{f.message} {f.hint}", f.id
