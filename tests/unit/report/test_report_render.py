"""Renderers: one line a step in text, the JSON schema, Markdown for forums; secrets always masked."""

from __future__ import annotations

import json

from ldapcheck.core.model import Report, Status, StepResult, Verdict
from ldapcheck.report import Format, render

SECRET = "hunter2-very-secret"


def sample() -> Report:
    return Report(
        command="diagnose",
        steps=[
            StepResult(id="net.tcp[h:389]", title="TCP h:389", status=Status.PASS, duration_ms=1.2, summary="ok"),
            StepResult(
                id="ldap.service_bind",
                title="Service bind",
                status=Status.FAIL,
                duration_ms=3.4,
                summary=f"bind as cn=svc,dc=example,dc=org rejected (password {SECRET})",
                detail={"identity": "cn=svc,dc=example,dc=org", "mail": "alice@example.org"},
                failure_id="RC-49",
                hint="Check LDAP_BINDPW",
                reproduce="ldapwhoami -x -H ldap://h:389 -D cn=svc,dc=example,dc=org -W",
            ),
            StepResult(
                id="ldap.base", title="Search base", status=Status.SKIP, summary="skipped: ldap.service_bind failed"
            ),
        ],
        verdict=Verdict(cause="bind rejected", failure_id="RC-49", facts=["ldap.service_bind: rejected"], hint="fix"),
        secrets=frozenset({SECRET}),
    )


def test_text_one_line_a_step_and_details_for_failures() -> None:
    out = render(sample(), Format.TEXT)
    lines = out.splitlines()
    assert any(line.startswith("✓ TCP h:389") for line in lines)
    assert any(line.startswith("✗ Service bind") and "fail" in line for line in lines)
    assert "    failure: RC-49" in lines
    assert "    fix: Check LDAP_BINDPW" in lines
    assert any(line.startswith("    reproduce: ldapwhoami") for line in lines)
    assert lines[-1] == "FAIL: 1 passed, 0 warnings, 1 failed, 1 skipped"
    assert SECRET not in out


def test_json_schema() -> None:
    data = json.loads(render(sample(), Format.JSON))
    assert data["status"] == "fail"
    assert data["exit_code"] == 1
    assert data["verdict"]["failure_id"] == "RC-49"
    step = data["steps"][1]
    assert set(step) >= {"id", "status", "duration_ms", "failure_id", "detail", "hint", "reproduce", "summary"}
    assert step["id"] == "ldap.service_bind" and step["status"] == "fail" and step["duration_ms"] == 3.4
    assert SECRET not in json.dumps(data)


def test_markdown_masks_and_sanitizes() -> None:
    out = render(sample(), Format.MARKDOWN, sanitize=True)
    assert "| ❌ |" in out and "`ldap.service_bind`" in out
    assert SECRET not in out
    assert "alice@example.org" not in render(sample(), Format.TEXT, verbose=True, sanitize=True)
    assert "cn=<masked>" in out


def test_exit_codes() -> None:
    report = sample()
    assert int(report.exit_code()) == 1
    report.internal_error = True
    assert int(report.exit_code()) == 3
    assert int(Report(command="x", steps=[StepResult(id="a", title="A", status=Status.WARN)]).exit_code()) == 0
    assert Report(command="x").status is Status.FAIL  # nothing ran is not a pass


def test_text_fits_80_columns_and_reproduce_lines_still_paste() -> None:
    long_dn = "cn=saslauthd-service,ou=service accounts,ou=infra,dc=example,dc=org"
    step = StepResult(
        id="ldap.service_bind",
        title="Service bind as the account saslauthd uses",
        status=Status.FAIL,
        duration_ms=3.4,
        summary=f"bind as {long_dn} rejected: invalidCredentials (49); the server said: 80090308: LdapErr",
        detail={"identity": long_dn, "servers": ["ldap://ldap1.example.org:389", "ldap://ldap2.example.org:389"]},
        failure_id="RC-49",
        hint="LDAP_BINDDN or LDAP_BINDPW is wrong (or the DN does not exist). Check both, and write '$' as '$$'.",
        reproduce=f"ldapwhoami -x -H ldap://ldap1.example.org:389 -D '{long_dn}' -W",
    )
    verdict = Verdict(cause="the service bind fails " * 5, failure_id="RC-49", facts=[step.summary], hint=step.hint)
    out = render(Report(command="diagnose", steps=[step], verdict=verdict), Format.TEXT)
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80, max(lines, key=len)
    start = next(i for i, line in enumerate(lines) if "reproduce: " in line)
    command = ""
    for line in lines[start:]:
        command += line.split("reproduce: ", 1)[-1].strip().removesuffix("\\") + " "
        if not line.endswith("\\"):
            break
    assert " ".join(command.split()) == f"ldapwhoami -x -H ldap://ldap1.example.org:389 -D '{long_dn}' -W"


def test_a_warning_that_does_not_affect_logins_is_one_line() -> None:
    step = StepResult(
        id="ldap.user_count",
        title="Users under the base",
        status=Status.WARN,
        summary="500 entries (the server's size limit; logins are not affected)",
        detail={"a": "b", "c": "d"},
        failure_id="OL-SIZELIMIT",
        hint="long advice",
        facts={"login_unaffected": True},
    )
    judged = Verdict(cause="alice can log in through Jitsi; 1 warning(s) do not affect logins", failure_id=None)
    lines = render(Report(command="diagnose", steps=[step], verdict=judged), Format.TEXT).splitlines()
    assert sum(1 for line in lines if line.strip()) == 3  # the verdict, the step and the status line
    # Where no login was judged (`count`), the warning is the finding: its details and fix are shown.
    alone = render(Report(command="count", steps=[step]), Format.TEXT)
    assert "fix: long advice" in alone
