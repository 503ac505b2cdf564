"""ldapcheck's Active Directory handling against a real Samba 4.17 AD DC (Debian bookworm) on 127.0.0.1:389.

Samba answers binds like Windows: `80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error,
data 52e, v1db1` (533 disabled, 773 must change, 701 expired, 775 locked; only 775 also with a wrong password).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonreport import env_file_with, step

from ldapcheck.auth.ldap.discovery import read_root_dse
from ldapcheck.jitsi.env.parse import read_env_file
from testing import samba
from testing.samba import SambaSpec

pytestmark = pytest.mark.integration

SambaAd = tuple[Any, SambaSpec]


def run(*args: str, password: str | None = None) -> tuple[int, dict[str, Any], str]:
    """The CLI with --json (host steps only); `password` is the user's, given on stdin."""
    if args[0] == "diagnose":
        args = (*args, "--no-container")
    if password is not None:
        args = (*args, "--password-stdin")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LDAPCHECK_")}
    proc = subprocess.run(
        [sys.executable, "-m", "ldapcheck", *args, "--json"],
        input=f"{password}\n" if password is not None else "",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    report = json.loads(proc.stdout) if proc.stdout.startswith("{") else {}
    return proc.returncode, report, proc.stdout + proc.stderr


def env_file(spec: SambaSpec, tmp_path: Path, **overrides: str | None) -> str:
    return env_file_with(spec.jitsi_env(), tmp_path / "ad.env", overrides)


def no_secrets(spec: SambaSpec, raw: str) -> None:
    for secret in (spec.admin_password, spec.service_password, spec.user_password):
        assert secret not in raw


def test_root_dse_is_active_directory(samba_ad: SambaAd, tmp_path: Path) -> None:
    _, spec = samba_ad
    dse = read_root_dse(spec.ldap_url, timeout=5)
    assert dse.is_active_directory and not dse.is_openldap
    assert dse.proposed_base == samba.BASE_DN
    assert dse.proposed_filter == "(sAMAccountName=%u)"
    code, report, raw = run(
        "diagnose", "--env-file", env_file(spec, tmp_path), "--user", "alice", password=spec.user_password
    )
    assert code == 0, raw
    rootdse = step(report, "ldap.rootdse")
    assert rootdse["status"] == "pass" and "Active Directory" in rootdse["summary"], rootdse
    assert step(report, "ldap.user_search")["detail"]["dns"] == [f"CN=alice,{samba.USERS_OU}"]
    assert step(report, "ldap.user_bind")["status"] == "pass"
    no_secrets(spec, raw)


def test_discover_proposes_samaccountname_and_the_default_naming_context(samba_ad: SambaAd, tmp_path: Path) -> None:
    _, spec = samba_ad
    out = tmp_path / "discovered.env"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ldapcheck",
            "env",
            "generate",
            "--url",
            spec.ldap_url,
            "--discover",
            "--bind-dn",
            "",
            "--write",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    values = read_env_file(str(out)).values()
    assert values["LDAP_FILTER"] == "(sAMAccountName=%u)"
    assert values["LDAP_BASE"] == samba.BASE_DN


def test_default_uid_filter_finds_nobody_and_hints_samaccountname(samba_ad: SambaAd, tmp_path: Path) -> None:
    _, spec = samba_ad
    path = env_file(spec, tmp_path, LDAP_FILTER="(uid=%u)")
    code, report, raw = run("user", "alice", "--env-file", path, "--no-bind")
    assert code == 1, raw
    search = step(report, "ldap.user_search")
    assert (search["status"], search["failure_id"]) == ("fail", "SA-ENTRY-COUNT")
    assert "sAMAccountName" in search["hint"] and "AD-FILTER-UID" in search["hint"]


def test_wrong_service_password_is_rc49_with_data_52e(samba_ad: SambaAd, tmp_path: Path) -> None:
    _, spec = samba_ad
    code, report, raw = run("diagnose", "--env-file", env_file(spec, tmp_path, LDAP_BINDPW="Not-The-Pass-1"))
    assert code == 1, raw
    bind = step(report, "ldap.service_bind")
    assert (bind["status"], bind["failure_id"]) == ("fail", "AD-52E")
    assert "invalidCredentials (49)" in bind["summary"] and "data 52e" in bind["summary"]
    no_secrets(spec, raw)


@pytest.mark.parametrize(
    ("login", "failure_id", "data"),
    [
        ("disabled", "AD-533", "533"),
        ("mustchange", "AD-773", "773"),
        ("expired", "AD-701", "701"),
        ("locked", "AD-775", "775"),
    ],
)
def test_account_state_and_bind_sub_code(
    samba_ad: SambaAd, tmp_path: Path, login: str, failure_id: str, data: str
) -> None:
    _, spec = samba_ad
    code, report, raw = run("user", login, "--env-file", env_file(spec, tmp_path), password=spec.user_password)
    assert code == 1, raw
    state = step(report, "ldap.account_state")
    assert (state["status"], state["failure_id"]) == ("fail", failure_id), state
    assert "userAccountControl" in state["detail"]["attributes"]
    bind = step(report, "ldap.user_bind")
    assert bind["failure_id"] == failure_id, bind
    assert f"data {data}" in bind["summary"]
    no_secrets(spec, raw)


def test_account_state_of_a_healthy_user_shows_the_ad_attributes(samba_ad: SambaAd, tmp_path: Path) -> None:
    _, spec = samba_ad
    code, report, raw = run("user", "o.brien-x_1", "--env-file", env_file(spec, tmp_path), password=spec.user_password)
    assert code == 0, raw
    state = step(report, "ldap.account_state")
    assert state["status"] == "pass"
    attrs = state["detail"]["attributes"]
    assert attrs["userAccountControl"] == "512" and attrs["accountExpires"] in ("0", "9223372036854775807")


def test_validate_counts_account_problems_exactly(samba_ad: SambaAd, tmp_path: Path) -> None:
    _, spec = samba_ad
    code, report, raw = run("validate", "--env-file", env_file(spec, tmp_path))
    assert code == 0, raw  # account problems are warnings: expected in any real directory
    assert step(report, "dir.accounts")["status"] == "warn"
    problems = report["meta"]["directory"]["problems"]
    assert problems["account-disabled"]["count"] == len(samba.DISABLED_USERS), raw
    assert problems["account-locked-ad"]["count"] == len(samba.LOCKED_USERS)
    assert problems["account-expired"]["count"] == len(samba.EXPIRED_USERS)
    assert problems["account-must-change-password-ad"]["count"] == len(samba.MUST_CHANGE_USERS)
    seeded = (
        samba.ACTIVE_USERS,
        samba.DISABLED_USERS,
        samba.MUST_CHANGE_USERS,
        samba.EXPIRED_USERS,
        samba.LOCKED_USERS,
    )
    assert report["meta"]["directory"]["selected"] == sum(len(group) for group in seeded)
    no_secrets(spec, raw)


def _ldb_count(container: Any, ldap_filter: str) -> int:
    """Count entries under the domain root as Samba itself sees them (ldbsearch on sam.ldb, no LDAP involved)."""
    result = container.exec_run(
        ["ldbsearch", "-H", "/var/lib/samba/private/sam.ldb", "-b", samba.BASE_DN, ldap_filter, "dn"]
    )
    assert result.exit_code == 0, result.output
    return sum(1 for line in result.output.decode().splitlines() if line.startswith("dn: "))


def test_domain_root_search_returns_referrals_and_the_count_ignores_them(samba_ad: SambaAd, tmp_path: Path) -> None:
    container, spec = samba_ad
    path = env_file(spec, tmp_path, LDAP_BASE=samba.BASE_DN)
    code, report, raw = run("count", "--env-file", path)
    assert code == 0, raw
    count = step(report, "ldap.user_count")
    # CN=Configuration is a separate naming context below the domain root: one continuation reference.
    assert count["detail"]["references"] >= 1
    # sAMAccountName=* also matches groups and the DC's computer account, not just the seeded users.
    assert count["detail"]["count"] == _ldb_count(container, "(sAMAccountName=*)") > 9


def test_validate_at_the_domain_root_counts_built_in_accounts_too(samba_ad: SambaAd, tmp_path: Path) -> None:
    container, spec = samba_ad
    _, report, raw = run("validate", "--env-file", env_file(spec, tmp_path, LDAP_BASE=samba.BASE_DN))
    directory = report["meta"]["directory"]
    assert directory["selected"] == _ldb_count(container, "(sAMAccountName=*)"), raw
    disabled = _ldb_count(container, "(&(sAMAccountName=*)(userAccountControl:1.2.840.113556.1.4.803:=2))")
    assert disabled == len(samba.DISABLED_USERS) + 2  # Guest and krbtgt are disabled in every fresh domain
    assert directory["problems"]["account-disabled"]["count"] == disabled
    accounts = step(report, "dir.accounts")
    assert (accounts["status"], accounts["failure_id"]) == ("warn", "AD-533")
