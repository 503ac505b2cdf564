"""`ldapcheck validate` against real slapd containers seeded with every problem; counts asserted exactly.

Expected numbers come from the seed definition (ldapcheck.lab.seed), not from the tool:
- named person entries (`seed.named_entries`): alice, bob, the special uid, dupe (ou=users), dupe (ou=staff),
  nopass, jose, carol@example.org, locked — 9 with a uid — plus `cn=No Login` without one;
- `n_users` generated users, each with a plain uid;
- non-person entries (the suffix, ou=users/services/staff/policies, the service account, the ppolicy default)
  match neither `(uid=*)` nor `(objectClass=person)`.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ldapcheck.auth.ldap import settings as settings_mod
from ldapcheck.auth.ldap.directory.problems import (
    DUPLICATE,
    LOGIN_AT,
    LOGIN_ESCAPED,
    LOGIN_NON_ASCII,
    LOGIN_SPACE,
    NO_LOGIN_ATTR,
    PPOLICY_LOCKED,
)
from ldapcheck.auth.ldap.validate import ValidateOptions, run_validate
from ldapcheck.core.model import ExitCode, Status
from ldapcheck.lab import seed
from ldapcheck.lab.containers import LabPaths, openldap_plan, run_container
from ldapcheck.lab.engine import docker_client
from ldapcheck.lab.envfile import write_env_file
from ldapcheck.lab.ready import wait_for_bind
from ldapcheck.lab.seed import write_seed_dir
from ldapcheck.lab.spec import LabSpec, new_spec
from testing.info import LabInfo

pytestmark = pytest.mark.integration

NAMED_WITH_UID = 9  # see the module docstring
NAMED_WITHOUT_UID = 1
SLAPD_DEFAULT_SIZELIMIT = 500
EXTRA_USERS = 1200


@dataclass
class Directory:
    """A seeded slapd: its spec, the .env pointing at it, and its generated-user count."""

    spec: LabSpec
    env_file: Path
    n_users: int


def _expected_selected(n_users: int) -> int:
    return n_users + NAMED_WITH_UID


def test_seed_definition_matches_the_counts_assumed_here(tmp_path: Path) -> None:
    """Guard the constants above against a change of the seed: count uid lines in the named LDIF."""
    plan = seed.new_seed_plan("dc=example,dc=org", 3)
    text = "".join(seed.named_entries(plan))
    entries = [e for e in text.split("\n\n") if "objectClass: inetOrgPerson" in e]
    with_uid = [e for e in entries if "\nuid:" in e or "\nuid::" in e]
    assert len(with_uid) == NAMED_WITH_UID
    assert len(entries) - len(with_uid) == NAMED_WITHOUT_UID


@pytest.fixture(scope="module")
def open_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Directory]:
    """An extra slapd: anonymous read allowed, the service account without a size limit."""
    client = docker_client()
    spec = new_spec(f"ldapcheck-validate-{secrets.token_hex(3)}", EXTRA_USERS)
    paths = LabPaths(tmp_path_factory.mktemp("validate-anon"))
    write_seed_dir(spec.seed, paths.seed_dir)
    paths.export_dir.mkdir()
    plan = openldap_plan(spec, paths, extra_env={"LDAP_ANON_READ": "1", "LDAP_SERVICE_SIZELIMIT": "unlimited"})
    container = run_container(client, plan)
    try:
        wait_for_bind(container, spec.ldap_port, spec.bind_dn, spec.bind_password)
        env_file = paths.root / "validate.env"
        write_env_file(env_file, spec.lab_env(str(paths.ca_cert)))
        yield Directory(spec, env_file, EXTRA_USERS)
    finally:
        container.remove(force=True)


def _settings(env_file: Path, ca_file: str = "", **overrides: str) -> settings_mod.Settings:
    env = settings_mod.read_env_file(str(env_file))
    env.update(overrides)
    return settings_mod.from_env(env, source=str(env_file), ca_file=ca_file)


def _scan(report: Any) -> dict[str, Any]:
    directory = report.meta["directory"]
    assert isinstance(directory, dict)
    return directory


def _status(report: Any, step_id: str) -> Status:
    step = report.step(step_id)
    assert step is not None, step_id
    return step.status


def test_full_visibility_counts_every_problem_exactly(open_directory: Directory) -> None:
    d = open_directory
    report = run_validate(_settings(d.env_file), ValidateOptions(sample=20))
    scan = _scan(report)
    assert scan["truncated"] is False
    # One search returns the users and the entry without a uid (it is counted as scanned, not as selected).
    assert scan["entries_scanned"] - 1 == scan["selected"] == _expected_selected(d.n_users)
    assert scan["login_values"] == _expected_selected(d.n_users)
    problems = scan["problems"]
    assert problems[DUPLICATE.key]["count"] == 1
    assert problems[DUPLICATE.key]["entries_involved"] == 2
    assert problems[DUPLICATE.key]["items"] == [{"login": seed.DUPE_UID, "entries": 2}]
    assert problems[NO_LOGIN_ATTR.key]["items"] == [f"cn={seed.NO_UID_CN},{d.spec.users_base}"]
    assert problems[LOGIN_AT.key]["items"] == [seed.AT_UID]
    assert problems[LOGIN_ESCAPED.key]["items"] == [seed.SPECIAL_UID]
    assert problems[LOGIN_SPACE.key]["count"] == 0
    assert problems[LOGIN_NON_ASCII.key]["count"] == 0  # jose has a non-ASCII name, not login
    assert problems[PPOLICY_LOCKED.key]["items"] == [seed.LOCKED_UID]
    assert _status(report, "dir.scan") is Status.PASS
    assert _status(report, "dir.duplicates") is Status.FAIL
    assert _status(report, "dir.login.login-with-at") is Status.FAIL
    assert _status(report, "dir.no_login_attr") is Status.WARN
    assert _status(report, "dir.login.login-escaped-chars") is Status.WARN
    assert _status(report, "dir.accounts") is Status.WARN
    assert _status(report, "sec.transport") is Status.WARN
    assert _status(report, "sec.password_attrs") is Status.PASS
    # The duplicate is resolved to both DNs through saslauthd's own filter.
    dup_step = report.step("dir.duplicates")
    assert dup_step.detail["dns"] == [f"dupe → uid=dupe,{d.spec.users_base}; uid=dupe,{d.spec.seed.staff_base}"]
    assert report.exit_code() is ExitCode.FAILED


def test_anonymous_read_is_reported_with_what_it_sees(open_directory: Directory) -> None:
    report = run_validate(_settings(open_directory.env_file), ValidateOptions(sample=0))
    step = report.step("sec.anonymous")
    assert step is not None
    assert step.status is Status.WARN
    assert step.failure_id == "SEC-ANON-READ"
    # Anonymous keeps slapd's default size limit: it reads exactly the first 500 users, then code 4.
    assert step.detail["visible_users"] == SLAPD_DEFAULT_SIZELIMIT
    assert step.detail["result_code"] == 4


def test_service_account_size_limit_is_reported_as_truncation(lab: LabInfo) -> None:
    report = run_validate(_settings(lab.env_file), ValidateOptions(sample=5))
    scan = _scan(report)
    assert scan["truncated"] is True
    assert scan["result_code"] == 4
    assert scan["entries_scanned"] == SLAPD_DEFAULT_SIZELIMIT
    step = report.step("dir.scan")
    assert step is not None and step.status is Status.WARN
    assert step.failure_id == "OL-SIZELIMIT"
    assert "size.prtotal=unlimited" in step.hint
    # States and missing logins come from server-side searches that return only the few matching entries, so they
    # stay exact under the limit.
    assert scan["problems"][PPOLICY_LOCKED.key]["items"] == [seed.LOCKED_UID]
    assert scan["problems"][NO_LOGIN_ATTR.key]["items"] == [lab.no_uid_dn]
    assert _status(report, "dir.accounts") is Status.WARN
    # The lab refuses anonymous reads: the bind works, the search sees nobody.
    assert _status(report, "sec.anonymous") is Status.PASS
    assert report.step("sec.anonymous").detail["visible_users"] == 0


def test_rootdn_sees_everything_and_can_read_passwords(lab: LabInfo) -> None:
    """A bind without limits (the admin) counts the whole lab directory; reading userPassword is flagged."""
    settings = _settings(lab.env_file, LDAP_BINDDN=lab.admin_dn, LDAP_BINDPW=lab.admin_password)
    report = run_validate(settings, ValidateOptions(sample=20))
    scan = _scan(report)
    assert scan["truncated"] is False
    # The one search also returns the entries without a uid: scanned, not selected.
    assert scan["entries_scanned"] - NAMED_WITHOUT_UID == scan["selected"] == _expected_selected(lab.n_users)
    assert scan["problems"][NO_LOGIN_ATTR.key]["count"] == NAMED_WITHOUT_UID
    assert scan["problems"][DUPLICATE.key]["count"] == 1
    assert scan["problems"][LOGIN_AT.key]["count"] == 1
    assert scan["problems"][PPOLICY_LOCKED.key]["count"] == 1
    step = report.step("sec.password_attrs")
    assert step is not None and step.status is Status.FAIL
    assert step.failure_id == "SEC-PASSWORD-READABLE"
    assert step.detail["readable"] == step.detail["entries_probed"] == 3
    assert lab.admin_password in report.secrets


def test_users_file_lookups_follow_saslauthd(open_directory: Directory, tmp_path: Path) -> None:
    users = ("alice", seed.DUPE_UID, seed.AT_UID, "nosuchuser", seed.SPECIAL_UID, "user0001")
    report = run_validate(_settings(open_directory.env_file), ValidateOptions(users=users))
    step = report.step("dir.sample")
    assert step is not None and step.status is Status.FAIL
    assert step.failure_id == "SA-ENTRY-COUNT"
    by_login = {s["login"]: s for s in _scan(report)["sample"]}
    assert {k: v["entries"] for k, v in by_login.items()} == {
        "alice": 1,
        seed.DUPE_UID: 2,
        seed.AT_UID: 0,  # prosody cuts at '@': saslauthd searches uid=carol
        "nosuchuser": 0,
        seed.SPECIAL_UID: 1,  # saslauthd escapes * ( ) \ and the entry is found
        "user0001": 1,
    }
    assert by_login[seed.AT_UID]["filter"] == "(uid=carol)"
    assert by_login[seed.SPECIAL_UID]["filter"] == "(uid=sp\\2aci\\28al\\29\\5cuid)"
    assert step.summary.startswith("3 of 6 listed logins")


def _cli(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LDAPCHECK_")}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "ldapcheck", "validate", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_cli_json_markdown_and_text_never_show_secrets(open_directory: Directory, tmp_path: Path) -> None:
    d = open_directory
    users = tmp_path / "users.txt"
    users.write_text("alice\n# a comment\n\ndupe\n", encoding="utf-8")
    outputs = []
    for fmt in ("--json", "--markdown", "-v"):
        result = _cli("--env-file", str(d.env_file), "--users-file", str(users), fmt)
        assert result.returncode == ExitCode.FAILED, result.stderr
        outputs.append(result.stdout + result.stderr)
    data = json.loads(outputs[0])
    assert data["exit_code"] == 1
    assert [s["login"] for s in data["meta"]["directory"]["sample"]] == ["alice", "dupe"]
    for text in outputs:
        for secret in d.spec.secrets():
            assert secret not in text
        assert "{SSHA}" not in text
    # A bind DN overridden on the command line takes its password from the environment, never argv.
    admin = _cli(
        "--env-file",
        str(d.env_file),
        "--bind-dn",
        d.spec.admin_dn,
        "--json",
        env_extra={"LDAPCHECK_BIND_PASSWORD": d.spec.admin_password},
    )
    assert admin.returncode == ExitCode.FAILED
    assert d.spec.admin_password not in admin.stdout + admin.stderr
    assert json.loads(admin.stdout)["meta"]["directory"]["selected"] == _expected_selected(d.n_users)
    # The comparison identity's password comes from its own variable, and never shows either.
    compare = _cli(
        "--env-file",
        str(d.env_file),
        "--compare-bind-dn",
        d.spec.admin_dn,
        "--markdown",
        env_extra={"LDAPCHECK_COMPARE_PASSWORD": d.spec.admin_password},
    )
    assert compare.returncode == ExitCode.FAILED
    assert "`dir.visibility`" in compare.stdout
    assert d.spec.admin_password not in compare.stdout + compare.stderr


def test_cli_sanitize_masks_logins_in_every_list(open_directory: Directory) -> None:
    result = _cli("--env-file", str(open_directory.env_file), "--json", "--sanitize")
    assert result.returncode == ExitCode.FAILED
    assert seed.AT_UID not in result.stdout
    assert seed.SPECIAL_UID.replace("\\", "\\\\") not in result.stdout
    data = json.loads(result.stdout)
    problems = data["meta"]["directory"]["problems"]
    assert problems[LOGIN_AT.key]["items"] == ["c****@*******.***"]
    assert problems[DUPLICATE.key]["items"] == [{"login": "d***", "entries": 2}]
    summary = {line["problem"]: line for line in data["meta"]["summary"]}
    assert summary[LOGIN_AT.key]["examples"] == ["c****@*******.***"]
    assert summary[LOGIN_AT.key]["count"] == 1


def test_scan_value_is_bounded_state(open_directory: Directory) -> None:
    """The scan keeps compact hashes, not entries: a few bytes a login beyond a fixed table."""
    report = run_validate(_settings(open_directory.env_file), ValidateOptions(sample=0))
    scan = _scan(report)
    fixed = 8 * (1 << 14) * 2  # the bucket tables of the two hash sets (seen, seen twice)
    per_login = (scan["dedup_bytes"] - fixed) / scan["login_values"]
    assert per_login <= 6.5


def test_compare_identity_finds_users_hidden_from_the_service_account(lab: LabInfo) -> None:
    from ldapcheck.core.secrets import Secret

    options = ValidateOptions(sample=0, compare_bind_dn=lab.admin_dn, compare_password=Secret(lab.admin_password))
    report = run_validate(_settings(lab.env_file), options)
    step = report.step("dir.visibility")
    assert step is not None and step.status is Status.WARN
    # The service account's scan stops at slapd's default size limit; the entries without a uid that the one search
    # returned count towards the limit, not as users.
    scan = _scan(report)
    visible_with_uid = SLAPD_DEFAULT_SIZELIMIT - (scan["entries_scanned"] - scan["selected"])
    assert scan["entries_scanned"] == SLAPD_DEFAULT_SIZELIMIT
    assert step.detail["service_account_sees"] == visible_with_uid
    assert step.detail["compare_identity_sees"] == _expected_selected(lab.n_users)
    assert f"{_expected_selected(lab.n_users) - visible_with_uid} are hidden" in step.summary
    assert lab.admin_password in report.secrets


def test_compare_identity_agrees_when_nothing_is_hidden(open_directory: Directory) -> None:
    from ldapcheck.core.secrets import Secret

    d = open_directory
    options = ValidateOptions(sample=0, compare_bind_dn=d.spec.admin_dn, compare_password=Secret(d.spec.admin_password))
    report = run_validate(_settings(d.env_file), options)
    step = report.step("dir.visibility")
    assert step is not None and step.status is Status.PASS
    assert (
        step.summary == f"{d.spec.admin_dn} sees {_expected_selected(d.n_users)} users, as many as the service account"
    )


# Named entries with a mail attribute: every named person with a uid without '@' (seed._person adds uid@example.org).
NAMED_WITH_MAIL = NAMED_WITH_UID - 1


def test_mail_filter_with_domain_token_reaches_nobody(open_directory: Directory) -> None:
    """`(mail=%U@%d)`: through prosody %d is empty, so the filter becomes (mail=alice@) and matches nobody."""
    d = open_directory
    report = run_validate(_settings(d.env_file, LDAP_FILTER="(mail=%U@%d)"), ValidateOptions(sample=0))
    step = report.step("dir.scan")
    assert step is not None and step.status is Status.FAIL
    assert step.failure_id == "SA-TOKENS"
    assert step.summary.startswith(f"{d.n_users + NAMED_WITH_MAIL} entries have mail, but no login")


def test_mail_filter_with_constant_domain_selects_every_mail_user(open_directory: Directory) -> None:
    d = open_directory
    report = run_validate(_settings(d.env_file, LDAP_FILTER="(mail=%u@example.org)"), ValidateOptions(sample=10))
    scan = _scan(report)
    assert scan["selected"] == d.n_users + NAMED_WITH_MAIL
    # carol@example.org has no mail attribute; cn=No Login has neither: both are persons without a login.
    assert scan["problems"][NO_LOGIN_ATTR.key]["count"] == 2
    assert scan["problems"][DUPLICATE.key]["items"] == [{"login": seed.DUPE_UID, "entries": 2}]
    sample = scan["sample"]
    assert len(sample) == 10
    # Sampled mail logins are looked up as (mail=<login>@example.org): one entry each, except the duplicate.
    assert all(r["filter"] == f"(mail={r['login']}@example.org)" for r in sample)
    assert all(r["entries"] == 1 or r["login"] == seed.DUPE_UID for r in sample)


@pytest.mark.parametrize("transport", ["ldaps", "starttls"])
def test_encrypted_transports_scan_the_same_directory(open_directory: Directory, transport: str) -> None:
    d = open_directory
    env = settings_mod.read_env_file(str(d.env_file))
    overrides = {"LDAP_URL": d.spec.ldaps_url} if transport == "ldaps" else {"LDAP_START_TLS": "1"}
    report = run_validate(_settings(d.env_file, ca_file=env["LAB_CA_CERT"], **overrides), ValidateOptions(sample=5))
    assert _status(report, "sec.transport") is Status.PASS
    assert _scan(report)["selected"] == _expected_selected(d.n_users)
    assert _scan(report)["problems"][DUPLICATE.key]["count"] == 1
