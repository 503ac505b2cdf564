"""`ldapcheck env generate`: the block, discovery proposals, and the password that never reaches output or argv."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ldapcheck.adapters.ldap.rootdse import STARTTLS_OID, from_attributes
from ldapcheck.auth.ldap.envgen import Discovery, LdapSettings, block_values, format_block, propose
from ldapcheck.core.secrets import MASK, Secret
from ldapcheck.jitsi.env.parse import parse_env

BASE_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"}
PASSWORD = "Hunter2 $x #y 'q' \"d\" \\"

AD = from_attributes(
    "ldap://dc:389",
    {
        "defaultNamingContext": ["DC=corp,DC=example"],
        "namingContexts": ["DC=corp,DC=example", "CN=Configuration,DC=corp,DC=example"],
        "supportedCapabilities": ["1.2.840.113556.1.4.800"],
        "supportedExtension": [STARTTLS_OID],
        "supportedControl": ["1.2.840.113556.1.4.319"],
        "supportedLDAPVersion": ["3", "2"],
    },
)
OPENLDAP = from_attributes(
    "ldap://ol:389",
    {
        "namingContexts": ["dc=example,dc=org"],
        "objectClass": ["top", "OpenLDAProotDSE"],
        "supportedExtension": [STARTTLS_OID],
        "supportedLDAPVersion": ["3"],
    },
)


def gen(*args: str, env: dict[str, str] | None = None, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ldapcheck", "env", "generate", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
        env={**BASE_ENV, **(env or {})},
        check=False,
    )


def test_root_dse_recognises_ad_and_openldap() -> None:
    assert AD.is_active_directory and AD.flavor == "Active Directory"
    assert AD.proposed_base == "DC=corp,DC=example" and AD.proposed_filter == "(sAMAccountName=%u)"
    assert AD.supports_starttls and AD.supports_paging and AD.supported_ldap_versions == (2, 3)
    assert not OPENLDAP.is_active_directory and OPENLDAP.is_openldap and OPENLDAP.flavor == "OpenLDAP"
    assert OPENLDAP.proposed_base == "dc=example,dc=org" and OPENLDAP.proposed_filter == "(uid=%u)"
    assert not OPENLDAP.supports_paging


def test_propose_prefers_ldaps_then_starttls_and_keeps_explicit_options() -> None:
    start = LdapSettings(url="ldap://ol:389", base="")
    found = Discovery(OPENLDAP, ldaps_answers=True, ldaps_url="ldaps://ol:636")
    s, _ = propose(start, found, base_given=False, filter_given=False, tls_given=False)
    assert (s.url, s.start_tls, s.base, s.filter) == ("ldaps://ol:636", False, "dc=example,dc=org", "(uid=%u)")
    found = Discovery(OPENLDAP, ldaps_answers=False, ldaps_url="ldaps://ol:636")
    s, _ = propose(start, found, base_given=False, filter_given=False, tls_given=False)
    assert (s.url, s.start_tls) == ("ldap://ol:389", True)
    mine = LdapSettings(url="ldap://dc:389", base="OU=Staff,DC=corp,DC=example", filter="(mail=%u)")
    s, _ = propose(mine, Discovery(AD, False, ""), base_given=True, filter_given=True, tls_given=True)
    assert (s.base, s.filter, s.start_tls) == ("OU=Staff,DC=corp,DC=example", "(mail=%u)", False)
    s, notes = propose(start, Discovery(AD, False, ""), base_given=False, filter_given=False, tls_given=False)
    assert s.filter == "(sAMAccountName=%u)" and any("Active Directory" in n for n in notes)


def test_block_never_shows_the_password_but_writes_it() -> None:
    s = LdapSettings(url="ldaps://h:636", base="dc=x", bind_dn="cn=svc,dc=x", bind_password=Secret(PASSWORD))
    text = format_block(s)
    assert "Hunter2" not in text and "LDAP_BINDPW is not printed" in text
    values = block_values(s)
    assert values["LDAP_BINDPW"] == PASSWORD
    assert list(values)[:2] == ["ENABLE_AUTH", "AUTH_TYPE"] and values["AUTH_TYPE"] == "ldap"
    block = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    assert parse_env(block).values()["LDAP_URL"] == "ldaps://h:636"


def test_cli_prints_block_from_options() -> None:
    proc = gen("--url", "ldaps://ldap.example.org:636", "--base", "ou=users,dc=example,dc=org", "--bind-dn", "")
    assert proc.returncode == 0, proc.stderr
    values = parse_env(proc.stdout).values()
    assert values["AUTH_TYPE"] == "ldap" and values["ENABLE_AUTH"] == "1"
    assert values["LDAP_URL"] == "ldaps://ldap.example.org:636" and values["LDAP_FILTER"] == "(uid=%u)"
    assert values["LDAP_BINDDN"] == "" and values["LDAP_BINDPW"] == ""


def test_cli_password_from_env_or_stdin_is_written_not_printed(tmp_path: Path) -> None:
    target = tmp_path / ".env"
    target.write_text("# existing\nTZ=Europe/Berlin\n#LDAP_URL=ldaps://ldap.domain.com/\n")
    args = (
        "--url",
        "ldap://h:389",
        "--base",
        "dc=x",
        "--bind-dn",
        "cn=svc,dc=x",
        "--start-tls",
        "--write",
        str(target),
    )
    proc = gen(*args, env={"LDAPCHECK_BIND_PASSWORD": PASSWORD})
    assert proc.returncode == 0, proc.stderr
    assert "Hunter2" not in proc.stdout + proc.stderr
    values = parse_env(target.read_text()).values()
    assert values["LDAP_BINDPW"] == PASSWORD and values["LDAP_START_TLS"] == "1" and values["TZ"] == "Europe/Berlin"
    assert target.read_text().startswith("# existing\nTZ=Europe/Berlin\nLDAP_URL=ldap://h:389\n")
    assert (tmp_path / ".env.bak").exists()
    again = gen(*args, "--bind-password-stdin", stdin=PASSWORD + "\n")
    assert again.returncode == 0 and "not changed" in again.stderr
    assert "Hunter2" not in again.stdout + again.stderr


def test_cli_after_writing_says_what_was_written_not_to_use_write(tmp_path: Path) -> None:
    target = tmp_path / ".env"
    target.write_text("TZ=UTC\n")
    args = ("--url", "ldap://h:389", "--base", "dc=x", "--bind-dn", "cn=svc,dc=x", "--write", str(target))
    proc = gen(*args, env={"LDAPCHECK_BIND_PASSWORD": PASSWORD})
    assert proc.returncode == 0, proc.stderr
    assert "--write" not in proc.stdout + proc.stderr
    assert f"# LDAP_BINDPW is not printed ({MASK}); it is written to {target}" in proc.stdout
    assert f"ldapcheck: wrote the LDAP block (10 settings, LDAP_BINDPW included) to {target}; " in proc.stderr
    assert f"previous content in {target}.bak" in proc.stderr
    created = tmp_path / "new.env"
    proc = gen(*args[:-1], str(created), env={"LDAPCHECK_BIND_PASSWORD": PASSWORD})
    block = "the LDAP block (10 settings, LDAP_BINDPW included)"
    assert f"ldapcheck: created {created} (mode 0600) with {block}" in proc.stderr
    assert "Hunter2" not in proc.stdout + proc.stderr


def test_cli_refuses_without_password_source_and_has_no_argv_password_option() -> None:
    proc = gen("--url", "ldap://h", "--base", "dc=x", "--bind-dn", "cn=svc,dc=x")
    assert proc.returncode == 2
    assert "password" in proc.stderr.lower()
    helptext = gen("--help").stdout
    assert "--bind-password-stdin" in helptext
    assert "--bind-password " not in helptext and "--password " not in helptext


def test_cli_missing_url_without_tty_is_a_usage_error() -> None:
    proc = gen("--base", "dc=x")
    assert proc.returncode == 2 and "ldap url" in proc.stderr.lower()


def test_cli_lints_what_it_writes_and_warns_about_a_readable_file(tmp_path: Path) -> None:
    target = tmp_path / ".env"
    target.write_text("LDAP_TLS_CIPHERS=SECURE256:SECURE128\n")
    target.chmod(0o644)
    args = ("--url", "ldap://h:389", "--base", "dc=x", "--bind-dn", "cn=svc,dc=x", "--use-tls", "--write", str(target))
    proc = gen(*args, env={"LDAPCHECK_BIND_PASSWORD": PASSWORD})
    assert proc.returncode == 0, proc.stderr
    assert "lint: TLS-USE-TLS-SCHEME error" in proc.stderr
    assert "lint: TLS-CIPHERS warning" in proc.stderr
    assert "mode 0644; chmod 600" in proc.stderr
    assert "Hunter2" not in proc.stdout + proc.stderr


def test_interactive_prompts_hide_the_password(tmp_path: Path) -> None:
    """On a terminal, missing values are asked for; the password prompt does not echo what is typed."""
    import pty
    import select
    import time

    target = tmp_path / ".env"
    argv = [sys.executable, "-m", "ldapcheck", "env", "generate", "--write", str(target)]
    pid, fd = pty.fork()
    if pid == 0:  # child: exec the CLI on the pty
        os.execve(argv[0], argv, {**BASE_ENV, "TERM": "dumb"})  # noqa: S606 - the pty must be the controlling tty
    answers = [
        ("LDAP URL", "ldap://h:389"),
        ("Search base DN", "dc=x"),
        ("Bind DN", "cn=svc,dc=x"),
        ("Bind password", "TypedSecret42"),
    ]
    seen = b""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if answers and answers[0][0].encode() in seen.rsplit(b"\n", 1)[-1]:
            os.write(fd, answers.pop(0)[1].encode() + b"\n")
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the pty
                break
            if not chunk:
                break
            seen += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, seen.decode(errors="replace")
    assert not answers
    assert b"TypedSecret42" not in seen
    assert b"ldap://h:389" in seen  # ordinary answers do echo
    assert parse_env(target.read_text()).values()["LDAP_BINDPW"] == "TypedSecret42"
