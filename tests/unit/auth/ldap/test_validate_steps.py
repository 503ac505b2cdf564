"""`validate`'s summary, headline, full lists and --users-file reader, from a scan without a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from ldapcheck.auth.ldap.directory.analysis import DirectoryScan
from ldapcheck.auth.ldap.directory.filter import derive
from ldapcheck.auth.ldap.directory.problems import mask_login
from ldapcheck.auth.ldap.directory.scan import SCAN, ScanOutcome
from ldapcheck.auth.ldap.directory.steps import SampleResult
from ldapcheck.auth.ldap.validate import full_lists, headline, summary
from ldapcheck.cli.validate import read_users_file
from ldapcheck.core.errors import ConfigError
from ldapcheck.core.model import Status, StepResult


def _outcome(result_code: int = 0) -> ScanOutcome:
    login = derive("(uid=%u)", "meet.jitsi")
    entries = [
        ("uid=a,ou=x", {"uid": [b"a"]}),
        ("uid=a,ou=y", {"uid": [b"a"]}),
        ("uid=c,ou=x", {"uid": [b"carol@example.org"]}),
        ("cn=n,ou=x", {}),
    ]
    found = DirectoryScan(login).feed_all(entries)
    return ScanOutcome(login, "dc=x", found, result_code, "", 0.01)


def _results(*extra: StepResult) -> list[StepResult]:
    scan = StepResult(id=SCAN, title="scan", status=Status.WARN, failure_id="OL-SIZELIMIT")
    return [scan, *extra]


def test_summary_lists_each_problem_with_count_examples_and_fix() -> None:
    lines = summary(_outcome(), _results(), mask_login)
    by_key = {line["problem"]: line for line in lines if isinstance(line, dict)}
    assert set(by_key) == {"duplicate-login", "no-login-attribute", "login-with-at"}
    assert by_key["duplicate-login"]["count"] == 1
    assert by_key["duplicate-login"]["examples"] == ["a"]
    assert by_key["login-with-at"]["examples"] == ["c****@*******.***"]
    assert by_key["no-login-attribute"]["examples"] == ["cn=n,ou=x"]
    assert all(line["fix"] for line in by_key.values())


def test_summary_puts_truncation_first_and_adds_failed_security_steps() -> None:
    anon = StepResult(
        id="sec.anonymous", title="Anonymous read", status=Status.WARN, failure_id="SEC-ANON-READ", summary="x"
    )
    lines = summary(_outcome(result_code=4), _results(anon), str)
    assert isinstance(lines[0], dict)
    assert lines[0]["problem"] == "truncated"
    assert lines[0]["failure_id"] == "OL-SIZELIMIT"
    assert any(isinstance(x, dict) and x["failure_id"] == "SEC-ANON-READ" for x in lines)


def test_headline_counts_failed_and_warning_steps() -> None:
    failed = StepResult(id="dir.duplicates", title="d", status=Status.FAIL, failure_id="SA-ENTRY-COUNT")
    warned = StepResult(id="dir.accounts", title="a", status=Status.WARN, failure_id="OL-PPOLICY")
    results = _results(failed, warned)
    verdict = headline(summary(_outcome(), results, str), results)
    assert verdict is not None
    assert verdict.failure_id == "SA-ENTRY-COUNT"
    assert verdict.cause.startswith("1 check(s) failed, 2 warning(s)")
    assert any("login values that select more than one entry: 1 (e.g. a)" in fact for fact in verdict.facts)
    assert headline([], results) is None


def test_full_lists_are_complete_and_masked() -> None:
    sample = [SampleResult("carol@example.org", "(uid=carol)", "dc=x", 0, 0)]
    data = full_lists(_outcome(), sample, mask_login)
    problems = data["problems"]
    assert isinstance(problems, dict)
    assert problems["duplicate-login"] == {
        "failure_id": "SA-ENTRY-COUNT",
        "count": 1,
        "entries_involved": 2,
        "complete": True,
        "items": [{"login": "a", "entries": 2}],
    }
    assert problems["login-with-at"]["items"] == ["c****@*******.***"]
    assert data["sample"] == [{"login": "c****@*******.***", "filter": "(uid=carol)", "entries": 0, "result_code": 0}]
    assert (data["entries_scanned"], data["selected"]) == (4, 3)


def test_read_users_file(tmp_path: Path) -> None:
    path = tmp_path / "users.txt"
    path.write_text("alice\r\n# comment\n\n bob \ncarol@example.org\n", encoding="utf-8")
    assert read_users_file(str(path)) == ("alice", " bob ", "carol@example.org")
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no logins"):
        read_users_file(str(empty))
    with pytest.raises(ConfigError, match="no such file"):
        read_users_file(str(tmp_path / "missing"))
