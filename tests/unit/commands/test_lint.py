"""`ldapcheck lint` finds each documented .env mistake, at the right line, and never prints the password."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ldapcheck.commands.lint import rules_and_keys
from ldapcheck.core.errors import EnvFileError
from ldapcheck.jitsi.env.parse import parse_env
from ldapcheck.jitsi.lint.model import (
    Finding,
    LintKeys,
    LintRule,
    Severity,
    format_json,
    format_text,
    has_errors,
    lint_env,
)

GOOD = """\
ENABLE_AUTH=1
AUTH_TYPE=ldap
LDAP_URL=ldaps://ldap.example.org:636
LDAP_BASE=ou=users,dc=example,dc=org
LDAP_BINDDN=cn=svc,dc=example,dc=org
LDAP_BINDPW='s3cret-Pass'
LDAP_FILTER=(uid=%u)
LDAP_USE_TLS=1
LDAP_TLS_CHECK_PEER=1
LDAP_TLS_CACERT_FILE=/config/ca.pem
"""


def run_lint(text: str, generation: str = "current", shell_env: dict[str, str] | None = None) -> list[Finding]:
    rules, keys = rules_and_keys()
    return lint_env(parse_env(text, environ={}), rules, keys=keys, generation=generation, shell_env=shell_env or {})


def with_lines(base: str, **changes: str | None) -> str:
    """GOOD with keys replaced in place (None removes the line), new keys appended."""
    lines = base.splitlines()
    for key, new in changes.items():
        idx = next((i for i, line in enumerate(lines) if line.split("=", 1)[0] == key), None)
        if idx is None:
            if new is not None:
                lines.append(new)
        elif new is None:
            lines[idx] = "# removed"
        else:
            lines[idx] = new
    return "\n".join(lines) + "\n"


def ids(findings: list[Finding]) -> set[tuple[str, Severity, int | None]]:
    return {(f.id, f.severity, f.line) for f in findings}


def test_good_file_is_clean() -> None:
    findings = run_lint(GOOD)
    assert not has_errors(findings)
    assert [f for f in findings if f.severity is not Severity.INFO] == []


E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"AUTH_TYPE": "AUTH_TYPE=LDAP"}, ("JM-AUTH-TYPE", E, 2)),
        ({"AUTH_TYPE": "AUTH_TYPE=' ldap'"}, ("JM-AUTH-TYPE", E, 2)),
        ({"AUTH_TYPE": "AUTH_TYPE=jwt", "PROSODY_AUTH_TYPE": "PROSODY_AUTH_TYPE=ldap"}, ("JM-AUTH-TYPE", E, 11)),
        ({"PROSODY_AUTH_TYPE": "PROSODY_AUTH_TYPE=internal"}, ("JM-AUTH-TYPE", W, 11)),
        ({"AUTH_TYPE": "AUTH_TYPE=internal"}, ("JM-AUTH-TYPE", E, 2)),
        ({"ENABLE_AUTH": None}, ("LINT-ENABLE-AUTH", E, None)),
        ({"ENABLE_AUTH": "ENABLE_AUTH=0"}, ("LINT-ENABLE-AUTH", E, 1)),
        ({"LDAP_URL": None}, ("LINT-URL-MISSING", E, None)),
        ({"LDAP_URL": "LDAP_URL="}, ("LINT-URL-MISSING", E, 3)),
        ({"LDAP_BASE": None}, ("LINT-BASE-MISSING", E, None)),
        ({"LDAP_BASE": "LDAP_BASE="}, ("LINT-BASE-MISSING", E, 4)),
        ({"LDAP_BINDPW": None}, ("LINT-BINDPW-MISSING", E, 5)),
        ({"LDAP_BINDPW": "LDAP_BINDPW="}, ("LINT-BINDPW-MISSING", E, 6)),
        ({"LDAP_BINDDN": None}, ("SA-BINDPW-UNWRITTEN", W, 6)),
        ({"LDAP_URL": "LDAP_URL=ldap://ldap.example.org"}, ("TLS-USE-TLS-SCHEME", E, 8)),
        ({"LDAP_START_TLS": "LDAP_START_TLS=1"}, ("TLS-STARTTLS-ON-LDAPS", E, 11)),
        ({"LDAP_USE_TLS": None}, ("TLS-PEER-UNCHECKED", W, 9)),
        ({"LDAP_USE_TLS": None, "LDAP_TLS_CIPHERS": "LDAP_TLS_CIPHERS=HIGH"}, ("LINT-TLS-IGNORED", W, 11)),
        ({"LDAP_USE_TLS": None}, ("LINT-TLS-IGNORED", W, 10)),
        ({"LDAP_TLS_CHECK_PEER": None}, ("LINT-TLS-IGNORED", W, 10)),
        ({"LDAP_USE_TLS": "LDAP_USE_TLS=no"}, ("LINT-BOOL-WORD", E, 8)),
        ({"LDAP_START_TLS": "LDAP_START_TLS=off"}, ("LINT-BOOL-WORD", E, 11)),
        ({"ENABLE_AUTH": "ENABLE_AUTH=disabled"}, ("LINT-BOOL-WORD", E, 1)),
        ({"LDAP_USE_TLS": "LDAP_USE_TLS=yes"}, ("LINT-BOOL-WORD", W, 8)),
        ({"LDAP_FILTER": "LDAP_FILTER=(objectClass=person)"}, ("LINT-FILTER-TOKEN", E, 7)),
        ({"LDAP_FILTER": "LDAP_FILTER=(mail=%u@%d)"}, ("LINT-FILTER-TOKEN", E, 7)),
        ({"LDAP_FILTER": "LDAP_FILTER=(&(uid=%u)"}, ("CL-FILTER", E, 7)),
        (
            {"LDAP_BASE": "LDAP_BASE=DC=corp,DC=example", "LDAP_FILTER": None},
            ("AD-FILTER-UID", W, 4),
        ),
        ({"LDAP_BASE": "LDAP_BASE=CN=Users,DC=corp,DC=example"}, ("AD-FILTER-UID", W, 7)),
        ({"LDAP_VERSION": "LDAP_VERSION=2"}, ("RC-2", W, 11)),
        ({"LDAP_AUTH_METHOD": "LDAP_AUTH_METHOD=simple"}, ("LINT-AUTH-METHOD", E, 11)),
        ({"LDAP_URL": "LDAP_URL=ldaps://a,ldaps://b"}, ("LINT-URL-SCHEME", E, 3)),
        ({"LDAP_URL": "LDAP_URL=ldap.example.org"}, ("LINT-URL-SCHEME", E, 3)),
        (
            {"LDAP_TLS_CIPHERS": "LDAP_TLS_CIPHERS=SECURE256:SECURE128:!AES-128-CBC:+VERS-TLS1.2"},
            ("TLS-CIPHERS", W, 11),
        ),
        ({"LDAP_BINDPW": "LDAP_BINDPW=pa$word"}, ("JM-ENV-ESCAPE", E, 6)),
        ({"LDAP_BINDPW": 'LDAP_BINDPW="pa${word}"'}, ("JM-ENV-ESCAPE", E, 6)),
        ({"LDAP_BINDPW": "LDAP_BINDPW=pass #word"}, ("JM-ENV-ESCAPE", E, 6)),
        ({"LDAP_BINDPW": "LDAP_BINDPW=pass$"}, ("JM-ENV-ESCAPE", W, 6)),
        ({"LDAP_BINDPW": "LDAP_BINDPW=pa$$word"}, ("JM-ENV-ESCAPE", INFO, 6)),
        ({"LDAP_BINDPW": "LDAP_BINDPW= # secret"}, ("JM-ENV-ESCAPE", W, 6)),
        ({"LDAP_BINDPW": "LDAP_BINDPW='  spaced'"}, ("LINT-LEADING-SPACE", E, 6)),
        ({"LDAP_BINDPW": "LDAP_BINDPW='spaced  '"}, ("LINT-TRAILING-SPACE", W, 6)),
        ({"LDAP_BINDPW": 'LDAP_BINDPW="line\\nbreak"'}, ("LINT-LINE-BREAK", E, 6)),
        ({"LDAP_BINDDN": "LDAP_BINDDN=\"'cn=svc,dc=example,dc=org'\""}, ("SA-QUOTES", W, 5)),
        ({"LDAP_BINDPW": "LDAP_BINDPW=first", "LDAP_X": "LDAP_BINDPW=second"}, ("LINT-DUPLICATE-KEY", W, 11)),
    ],
)
def test_finding(changes: dict[str, str | None], expected: tuple[str, Severity, int | None]) -> None:
    findings = run_lint(with_lines(GOOD, **changes))
    assert expected in ids(findings), [(f.id, f.severity.value, f.line, f.message) for f in findings]


def test_multiple_servers_are_fine() -> None:
    text = with_lines(GOOD, LDAP_URL="LDAP_URL='ldaps://dc1.example.org:636 ldaps://dc2.example.org:636'")
    assert not [f for f in run_lint(text) if f.key == "LDAP_URL" and f.severity is not INFO]


def test_gnutls_ciphers_are_right_on_legacy_images_and_openssl_ones_are_flagged() -> None:
    gnutls = with_lines(GOOD, LDAP_TLS_CIPHERS="LDAP_TLS_CIPHERS=SECURE256:SECURE128")
    assert not [f for f in run_lint(gnutls, "legacy") if f.id == "TLS-CIPHERS"]
    openssl = with_lines(GOOD, LDAP_TLS_CIPHERS="LDAP_TLS_CIPHERS=HIGH:!aNULL")
    assert ("TLS-CIPHERS", W, 11) in ids(run_lint(openssl, "legacy"))
    assert not [f for f in run_lint(openssl, "current") if f.id == "TLS-CIPHERS"]


def test_starttls_with_plain_url_and_use_tls_is_encrypted() -> None:
    text = with_lines(GOOD, LDAP_URL="LDAP_URL=ldap://ldap.example.org", LDAP_START_TLS="LDAP_START_TLS=1")
    assert "TLS-USE-TLS-SCHEME" not in {f.id for f in run_lint(text)}


def test_no_ldap_at_all_is_one_info() -> None:
    findings = run_lint("AUTH_TYPE=internal\nENABLE_AUTH=1\n")
    assert [(f.id, f.severity) for f in findings] == [("LINT-LDAP-OFF", INFO)]


def test_shell_override_is_reported() -> None:
    findings = run_lint(GOOD, shell_env={"LDAP_URL": "ldap://elsewhere"})
    assert ("LINT-SHELL-OVERRIDE", INFO, 3) in ids(findings)


HOSTILE = "Hunter2$zqxword #zqtail ' \" \\ ü€"


def test_password_never_printed_in_text_or_json() -> None:
    # Double quotes so that Compose interpolates ($word) and the rules that look at BINDPW all fire.
    escaped = HOSTILE.replace("\\", "\\\\").replace('"', '\\"')
    text = with_lines(GOOD, LDAP_BINDPW=f'LDAP_BINDPW="  {escaped}  "')
    env = parse_env(text, environ={})
    rules, keys = _all_rules()
    findings = lint_env(env, rules, keys=keys)
    pw_findings = [f for f in findings if f.key == "LDAP_BINDPW"]
    assert {f.id for f in pw_findings} >= {"JM-ENV-ESCAPE", "LINT-LEADING-SPACE", "LINT-TRAILING-SPACE"}
    value = env.values()["LDAP_BINDPW"]
    out = format_text(".env", findings) + format_json(".env", findings, "current")
    for fragment in ("Hunter2", "zqxword", "zqtail", value.strip()):
        assert fragment not in out


def test_cli_exit_codes_and_json(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.env", tmp_path / "bad.env"
    good.write_text(GOOD)
    bad.write_text(with_lines(GOOD, LDAP_USE_TLS="LDAP_USE_TLS=no", LDAP_BINDPW="LDAP_BINDPW=Hunter2$word"))
    broken = tmp_path / "broken.env"
    broken.write_text("A='open\n")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        env = {"PATH": "/usr/bin:/bin"}
        cmd = [sys.executable, "-m", "ldapcheck", "lint", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env, check=False)

    assert cli("--env-file", str(good)).returncode == 0
    proc = cli("--env-file", str(bad))
    assert proc.returncode == 1
    assert f"{bad}:8: LINT-BOOL-WORD error" in proc.stdout
    assert "    fix: " in proc.stdout
    assert "Hunter2" not in proc.stdout + proc.stderr
    doc = json.loads(cli("--env-file", str(bad), "--json").stdout)
    assert doc["summary"]["error"] >= 2
    assert {"id", "severity", "line", "key", "message", "hint"} <= set(doc["findings"][0])
    assert "Hunter2" not in json.dumps(doc)
    proc = cli("--env-file", str(broken))
    assert proc.returncode == 2 and "broken.env:1" in proc.stderr
    assert cli("--env-file", str(tmp_path / "none.env")).returncode == 2


def _all_rules() -> tuple[list[LintRule], LintKeys]:
    rules, keys = rules_and_keys()
    return rules, keys


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.characters(blacklist_characters="\n\r\0", blacklist_categories=("Cs",)), max_size=16),
    st.sampled_from(["unquoted", "single", "double"]),
)
def test_no_password_ever_reaches_lint_output(tail: str, form: str) -> None:
    password = "Zq9" + tail
    if form == "single":
        written = "'" + password.replace("'", "\\'") + "'"
    elif form == "double":
        written = '"' + password.replace("\\", "\\\\").replace('"', '\\"') + '"'
    else:
        written = password
    try:
        env = parse_env(with_lines(GOOD, LDAP_BINDPW=f"LDAP_BINDPW={written}"), environ={})
    except EnvFileError as exc:  # some raw forms do not parse; the error must not leak either
        assert "Zq9" not in str(exc)
        return
    rules, keys = _all_rules()
    findings = lint_env(env, rules, keys=keys)
    out = format_text(".env", findings) + format_json(".env", findings, "current")
    assert "Zq9" not in out
    value = env.values().get("LDAP_BINDPW", "")
    if len(value) >= 3:
        assert value not in out


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"LDAP_USE_TLS": None, "LDAP_TLS_CHECK_PEER": None}, "only written with LDAP_USE_TLS=1"),
        ({"LDAP_TLS_CHECK_PEER": None}, "LDAP_TLS_CHECK_PEER is off"),
    ],
)
def test_unverified_certificate_names_the_missing_switch(changes: dict[str, str | None], reason: str) -> None:
    found = [f for f in run_lint(with_lines(GOOD, **changes)) if f.id == "TLS-PEER-UNCHECKED"]
    assert found and reason in found[0].message
