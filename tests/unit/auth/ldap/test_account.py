"""Account state from AD and OpenLDAP ppolicy attributes: each problem has its catalogue id."""

from __future__ import annotations

import pytest

from ldapcheck.auth.ldap.host.user import _account_problems

# 2001-01-01 as a Windows FILETIME (100 ns since 1601-01-01)
PAST = str(126_227_808_000_000_000)
NEVER = str(0x7FFFFFFFFFFFFFFF)


@pytest.mark.parametrize(
    ("attrs", "failure_id", "words"),
    [
        ({"userAccountControl": ["514"]}, "AD-533", "disabled"),
        ({"lockoutTime": [PAST]}, "AD-775", "locked out since 2001-01-01"),
        ({"accountExpires": [PAST]}, "AD-701", "expired on 2001-01-01"),
        ({"pwdLastSet": ["0"]}, "AD-773", "must change"),
        ({"pwdAccountLockedTime": ["000001010000Z"]}, "OL-PPOLICY", "permanently"),
        ({"pwdAccountLockedTime": ["20260101120000Z"]}, "OL-PPOLICY", "since 20260101120000Z"),
        ({"pwdReset": ["TRUE"]}, "OL-PPOLICY", "must be changed"),
    ],
)
def test_problems(attrs: dict[str, list[str]], failure_id: str, words: str) -> None:
    problems = _account_problems(attrs)
    assert problems and problems[0][0] == failure_id
    assert words in problems[0][1]


def test_healthy_accounts() -> None:
    assert _account_problems({}) == []
    assert _account_problems({"userAccountControl": ["512"], "lockoutTime": ["0"], "accountExpires": [NEVER]}) == []
    assert _account_problems({"accountExpires": ["0"], "pwdLastSet": ["133000000000000000"]}) == []
    assert _account_problems({"pwdChangedTime": ["20260101000000Z"], "pwdReset": ["FALSE"]}) == []
