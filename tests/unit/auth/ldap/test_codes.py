"""Active Directory bind sub-codes and LDAP result codes are named with catalogue ids and fixes."""

from __future__ import annotations

import pytest

from ldapcheck.auth.ldap.codes import ad_subcode, classify_bind

AD_MESSAGE = "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data {}, v4563\x00"


@pytest.mark.parametrize(
    ("data", "failure_id", "words"),
    [
        ("52e", "AD-52E", "invalid credentials"),
        ("525", "AD-525", "user not found"),
        ("530", "AD-530", "at this time"),
        ("531", "AD-531", "workstation"),
        ("532", "AD-532", "password expired"),
        ("533", "AD-533", "disabled"),
        ("701", "AD-701", "account expired"),
        ("773", "AD-773", "reset the password"),
        ("775", "AD-775", "locked out"),
    ],
)
def test_ad_data_codes(data: str, failure_id: str, words: str) -> None:
    verdict = classify_bind(49, AD_MESSAGE.format(data), who="CN=x,DC=corp", service=False)
    assert not verdict.ok
    assert verdict.failure_id == failure_id
    assert words in verdict.summary
    assert f"data {data}" in verdict.summary
    assert verdict.hint


def test_uppercase_and_unknown_sub_codes() -> None:
    sub = ad_subcode(AD_MESSAGE.format("52E"))
    assert sub is not None and sub.failure_id == "AD-52E"
    unknown = ad_subcode(AD_MESSAGE.format("5a1"))
    assert unknown is not None and unknown.failure_id == "AD-5A1"
    assert ad_subcode("invalid credentials") is None


@pytest.mark.parametrize(
    ("code", "failure_id"),
    [(49, "RC-49"), (48, "RC-48"), (53, "RC-53"), (34, "RC-34"), (8, "RC-8"), (13, "RC-13"), (52, "RC-52")],
)
def test_result_codes(code: int, failure_id: str) -> None:
    verdict = classify_bind(code, "", who="cn=svc,dc=example,dc=org", service=True)
    assert verdict.failure_id == failure_id
    assert f"({code})" in verdict.summary


def test_success_and_service_hint() -> None:
    assert classify_bind(0, "", who="anonymous", service=True).ok
    hint = classify_bind(49, "", who="cn=svc", service=True).hint
    assert "LDAP_BINDPW" in hint and "$$" in hint
