"""Against the lab: root DSE reading, `env generate --discover --write`, lint and render of the result, and a
real saslauthd login with the saslauthd.conf rendered from the generated `.env`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ldapcheck.auth.ldap.discovery import read_root_dse
from ldapcheck.core.step import CheckFailed
from ldapcheck.jitsi.env.parse import read_env_file
from testing.info import LabInfo

pytestmark = pytest.mark.integration

BASE_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"}


def ldapcheck(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ldapcheck", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**BASE_ENV, **(env or {})},
        check=False,
    )


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_root_dse_of_the_lab(lab: LabInfo) -> None:
    dse = read_root_dse(lab.ldap_url, timeout=5)
    assert dse.is_openldap and not dse.is_active_directory and dse.flavor == "OpenLDAP"
    assert lab.suffix in dse.naming_contexts and dse.proposed_base == lab.suffix
    assert dse.supports_starttls
    assert 3 in dse.supported_ldap_versions
    assert dse.proposed_filter == "(uid=%u)"


def test_root_dse_over_ldaps_checks_the_certificate(lab: LabInfo) -> None:
    assert read_root_dse(lab.ldaps_url, ca_file=str(lab.ca_cert)).naming_contexts
    with pytest.raises(CheckFailed) as info:
        read_root_dse(lab.ldaps_url, ca_file=str(lab.other_ca_cert))
    assert info.value.failure_id == "TLS-SELF-SIGNED"


@pytest.mark.parametrize(
    ("make_url", "failure_id"),
    [
        (lambda lab: f"ldap://127.0.0.1:{closed_port()}", "NET-REFUSED"),
        (lambda lab: f"ldaps://127.0.0.1:{lab.ldap_port}", "NET-PROTO-MISMATCH"),
    ],
)
def test_root_dse_failures_have_catalogue_ids(lab: LabInfo, make_url: Any, failure_id: str) -> None:
    with pytest.raises(CheckFailed) as info:
        read_root_dse(make_url(lab), timeout=5, verify=False)
    assert info.value.failure_id == failure_id


def test_discover_write_lint_render_and_login(lab: LabInfo, tmp_path: Path, prosody_factory: Any) -> None:
    target = tmp_path / ".env"
    target.write_text("# docker-jitsi-meet\nTZ=UTC\n#LDAP_URL=ldaps://ldap.domain.com/\n#AUTH_TYPE=internal\n")
    target.chmod(0o600)
    args = ("env", "generate", "--url", lab.ldap_url, "--discover", "--ldaps-port", str(lab.ldaps_port))
    proc = ldapcheck(
        *args,
        "--bind-dn",
        lab.bind_dn,
        "--xmpp-domain",
        lab.xmpp_domain,
        "--write",
        str(target),
        env={"LDAPCHECK_BIND_PASSWORD": lab.bind_password},
    )
    assert proc.returncode == 0, proc.stderr
    assert lab.bind_password not in proc.stdout + proc.stderr
    assert "OpenLDAP" in proc.stderr
    values = read_env_file(target).values()
    assert values["LDAP_URL"] == lab.ldaps_url  # LDAPS answers, so it is preferred over StartTLS
    assert values["LDAP_START_TLS"] == "0"
    assert values["LDAP_BASE"] == lab.suffix
    assert values["LDAP_FILTER"] == "(uid=%u)"
    assert values["LDAP_BINDPW"] == lab.bind_password
    assert (values["AUTH_TYPE"], values["ENABLE_AUTH"], values["TZ"]) == ("ldap", "1", "UTC")

    lint = ldapcheck("lint", "--env-file", str(target))
    assert lint.returncode == 0, lint.stdout

    rendered = ldapcheck("render", "saslauthd", "--env-file", str(target))
    assert rendered.returncode == 0 and rendered.stderr == ""
    assert f"ldap_servers: {lab.ldaps_url}\n" in rendered.stdout

    container, info = prosody_factory(saslauthd_conf=rendered.stdout)
    argv = ["testsaslauthd", "-u", "alice", "-p", lab.users["alice"], "-s", "xmpp", "-r", info.xmpp_domain]
    result = container.exec_run(argv)
    assert result.output.decode().strip() == '0: OK "Success."'


def test_starttls_is_proposed_when_ldaps_does_not_answer(lab: LabInfo) -> None:
    proc = ldapcheck(
        "env", "generate", "--url", lab.ldap_url, "--discover", "--ldaps-port", str(closed_port()), "--bind-dn", ""
    )
    assert proc.returncode == 0, proc.stderr
    assert "LDAP_START_TLS=1" in proc.stdout
    assert f"LDAP_URL={lab.ldap_url}" in proc.stdout


def test_render_of_the_lab_env_file_matches_the_mounted_config(lab: LabInfo) -> None:
    proc = ldapcheck("render", "saslauthd", "--env-file", str(lab.env_file))
    mounted = lab.prosody.exec_run(["cat", "/run/saslauthd.conf"]).output.decode()
    assert proc.returncode == 0
    assert proc.stdout == mounted
