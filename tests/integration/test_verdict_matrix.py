"""The scenario matrix: each broken (or healthy) `.env` run as a new admin would run `ldapcheck diagnose --json`.

Variants of every scenario:
- `host`: `--no-container` (only the `.env`'s path);
- `same`: a prosody container created from the scenario's `.env` (the usual broken Jitsi: one path);
- `edited` (where the scenario changes the lab's `.env`): the lab's working prosody, with the `.env` edited
  afterwards: logins work now, and the verdict must name what the `.env` would break, without advising a recreate.

Each asserts the verdict's failure id (None: the login works) and whether the advice recreates prosody.
`LDAPCHECK_MATRIX_PYTHON` runs the matrix against another interpreter's ldapcheck (e.g. an older checkout), so
the same table measures a change.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from testing import servers
from testing.info import LabInfo

pytestmark = pytest.mark.integration

PYTHON = os.environ.get("LDAPCHECK_MATRIX_PYTHON", sys.executable)
NO_PORT = "1"  # nothing listens on 127.0.0.1:1


@dataclass(frozen=True)
class Scenario:
    """One `.env` (as overrides of the lab's), the login tried, and the right verdict per variant."""

    name: str
    overrides: Callable[[LabInfo, dict[str, int]], dict[str, str | None]] = lambda lab, ports: {}
    user: Callable[[LabInfo], tuple[str, str]] = lambda lab: ("alice", lab.users["alice"])
    expected: str | None = None  # host and same-env container
    expected_same: str | object | None = ...  # when the container path differs from the host-only answer
    raw: Callable[[LabInfo], dict[str, str]] = lambda lab: {}  # .env lines written as given (quotes kept)
    edited: bool = True  # run the "working container, .env edited afterwards" variant too
    expected_edited: str | object | None = ...  # when the edited .env still works (a recreate is then safe)
    container: bool = True  # a prosody container can be created from this .env
    timeout: str = "2"
    notes: str = field(default="", compare=False)

    def expected_for(self, variant: str) -> str | None:
        if variant == "same" and self.expected_same is not ...:
            return self.expected_same  # type: ignore[return-value]
        return self.expected


def _url(lab: LabInfo, port: int | str, scheme: str = "ldap") -> str:
    return f"{scheme}://127.0.0.1:{port}"


SCENARIOS = [
    Scenario("healthy", edited=False),
    Scenario("wrong password", user=lambda lab: ("alice", "not-" + lab.users["alice"]), expected="RC-49", edited=False),
    Scenario("unknown user", user=lambda lab: ("nobody-here", "x-password"), expected="SA-ENTRY-COUNT", edited=False),
    Scenario(
        "two entries for the login",
        user=lambda lab: (lab.dupe_uid, lab.users[lab.dupe_uid]),
        expected="SA-ENTRY-COUNT",
        edited=False,
    ),
    Scenario(
        "locked account",
        user=lambda lab: (lab.locked_uid, lab.users[lab.locked_uid]),
        expected="OL-PPOLICY",
        edited=False,
    ),
    Scenario("empty password", user=lambda lab: ("alice", ""), expected="RC-53", edited=False),
    Scenario(
        "login with @ in the directory's uid",
        user=lambda lab: (lab.at_uid, lab.users[lab.at_uid]),
        expected="SA-TOKENS",
        edited=False,
    ),
    Scenario(
        "special characters in the login",
        user=lambda lab: (lab.special_uid, lab.users[lab.special_uid]),
        edited=False,
    ),
    Scenario("non-ASCII login", user=lambda lab: (lab.unicode_uid, lab.users[lab.unicode_uid]), edited=False),
    Scenario("a generated user", user=lambda lab: lab.generated_user(7), edited=False),
    Scenario("wrong bind password", lambda lab, p: {"LDAP_BINDPW": "wrong-" + lab.bind_password}, expected="RC-49"),
    Scenario(
        "bind DN that does not exist",
        lambda lab, p: {"LDAP_BINDDN": "cn=nobody," + lab.suffix},
        expected="RC-49",
    ),
    Scenario("bind DN that is not a DN", lambda lab, p: {"LDAP_BINDDN": "saslauthd"}, expected="CL-DN-SYNTAX"),
    Scenario("base that does not exist", lambda lab, p: {"LDAP_BASE": "ou=nope," + lab.suffix}, expected="RC-32"),
    Scenario(
        "base outside the naming contexts",
        lambda lab, p: {"LDAP_BASE": "dc=elsewhere,dc=test"},
        expected="RC-32",
    ),
    Scenario("filter on the wrong attribute", lambda lab, p: {"LDAP_FILTER": "(cn=%u)"}, expected="SA-ENTRY-COUNT"),
    Scenario("filter with %d", lambda lab, p: {"LDAP_FILTER": "(mail=%u@%d)"}, expected="SA-TOKENS"),
    Scenario(
        "filter with %r (the XMPP domain)", lambda lab, p: {"LDAP_FILTER": "(mail=%u@%r)"}, expected="SA-ENTRY-COUNT"
    ),
    Scenario(
        "host name that does not resolve", lambda lab, p: {"LDAP_URL": "ldap://ldap.invalid:389"}, expected="NET-DNS"
    ),
    Scenario("closed port", lambda lab, p: {"LDAP_URL": _url(lab, NO_PORT)}, expected="NET-REFUSED"),
    Scenario(
        "ldaps:// on the plain port",
        lambda lab, p: {"LDAP_URL": _url(lab, lab.ldap_port, "ldaps")},
        expected="NET-PROTO-MISMATCH",
    ),
    Scenario(
        "ldap:// on the LDAPS port",
        lambda lab, p: {"LDAP_URL": _url(lab, lab.ldaps_port)},
        expected="NET-PROTO-MISMATCH",
    ),
    Scenario(
        "server that accepts and never answers",
        lambda lab, p: {"LDAP_URL": _url(lab, p["silent"])},
        expected="NET-TIMEOUT",
    ),
    Scenario(
        "first of two servers never answers (saslauthd does not fail over)",
        lambda lab, p: {"LDAP_URL": f"{_url(lab, p['silent'])} {lab.ldap_url}"},
        expected="NET-NO-FAILOVER",
    ),
    Scenario(
        "StartTLS on ldaps://",
        lambda lab, p: {"LDAP_URL": _url(lab, lab.ldaps_port, "ldaps"), "LDAP_START_TLS": "1"},
        expected="TLS-STARTTLS-ON-LDAPS",
    ),
    Scenario("AUTH_TYPE in upper case", lambda lab, p: {"AUTH_TYPE": "LDAP"}, expected="JM-AUTH-TYPE"),
    Scenario("AUTH_TYPE left at internal", lambda lab, p: {"AUTH_TYPE": "internal"}, expected="JM-AUTH-TYPE"),
    Scenario("ENABLE_AUTH off", lambda lab, p: {"ENABLE_AUTH": "0"}, expected="JM-AUTH-TYPE"),
    Scenario("ENABLE_AUTH unset", lambda lab, p: {"ENABLE_AUTH": None}, expected="JM-AUTH-TYPE"),
    Scenario(
        "bind password with an unescaped $ (Compose substitutes it)",
        # Compose takes `$` and the word characters after it as a variable (unset: ""), or keeps a `$` that starts
        # no name: either way the password saslauthd gets is not the account's (a fixed name after `$` would not
        # be, when the password's next character ends the name).
        raw=lambda lab: {"LDAP_BINDPW": lab.bind_password[:4] + "$" + lab.bind_password[4:]},
        expected="RC-49",
    ),
    Scenario("empty bind password", lambda lab, p: {"LDAP_BINDPW": ""}, expected="SA-CONF-INVALID"),
    Scenario("bind password left out", lambda lab, p: {"LDAP_BINDPW": None}, expected="LINT-BINDPW-MISSING"),
    Scenario(
        "user entry without a password",
        user=lambda lab: (lab.nopass_uid, "some-password"),
        expected="RC-49",
        edited=False,
    ),
    Scenario("login typed in upper case", user=lambda lab: ("ALICE", lab.users["alice"]), edited=False),
    Scenario(
        "login typed with the XMPP domain (prosody cuts it)",
        user=lambda lab: (f"alice@{lab.xmpp_domain}", lab.users["alice"]),
        edited=False,
    ),
    Scenario("unbalanced filter", lambda lab, p: {"LDAP_FILTER": "(uid=%u"}, expected="CL-FILTER"),
    Scenario(
        "StartTLS without peer checking",
        lambda lab, p: {"LDAP_START_TLS": "1"},
        expected_edited="JM-RECREATE",
    ),
    Scenario(
        "ldaps:// without peer checking",
        lambda lab, p: {"LDAP_URL": lab.ldaps_url},
        expected_edited="JM-RECREATE",
    ),
    Scenario("XMPP_DOMAIN changed", lambda lab, p: {"XMPP_DOMAIN": "meet.example.org"}, expected_edited="JM-RECREATE"),
    Scenario("guests switched on", lambda lab, p: {"ENABLE_GUESTS": "1"}),
    Scenario("base in upper case", lambda lab, p: {"LDAP_BASE": lab.suffix.upper()}, expected_edited="JM-RECREATE"),
    Scenario(
        "bind DN with spaces after the commas",
        lambda lab, p: {"LDAP_BINDDN": lab.bind_dn.replace(",", ", ")},
        expected_edited="JM-RECREATE",
    ),
    Scenario(
        "CA file that does not exist, peer checking off (the image's TLS_REQCERT allow: logins work)",
        lambda lab, p: {"LDAP_URL": lab.ldaps_url, "LDAP_TLS_CHECK_PEER": "1", "LDAP_TLS_CACERT_FILE": "/nope/ca.crt"},
        expected_edited="JM-RECREATE",
    ),
    Scenario(
        "CA file that does not exist in the container, peer checked",
        lambda lab, p: {
            "LDAP_URL": lab.ldaps_url,
            "LDAP_USE_TLS": "1",
            "LDAP_TLS_CHECK_PEER": "1",
            "LDAP_TLS_CACERT_FILE": "/nope/ca.crt",
        },
        # From the host alone only its own trust store can be tried; the container shows the missing file.
        expected="TLS-SELF-SIGNED",
        expected_same="TLS-CA-PATH",
    ),
]


# --- running the CLI ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def silent_port() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts and never answers."""
    with servers.silent_server() as port:
        yield port


def _env_text(values: dict[str, str], raw: dict[str, str]) -> str:
    lines = []
    for key, value in values.items():
        if key in raw:
            continue
        quoted = value if value and all(c.isalnum() or c in "._:/=,()%@-" for c in value) else "'" + value + "'"
        lines.append(f"{key}={quoted if value else ''}")
    lines += [f"{k}={v}" for k, v in raw.items()]
    return "\n".join(lines) + "\n"


def _compose_value(text: str) -> str:
    """What Compose passes on for a raw value written in the .env (the matrix uses single quotes or `$x`)."""
    from ldapcheck.jitsi.env.parse import parse_env

    return parse_env(f"K={text}\n", environ={}).values().get("K", "")


def diagnose_json(env_path: Path, login: str, password: str, *, container: str | None, timeout: str) -> dict[str, Any]:
    args = [PYTHON, "-m", "ldapcheck", "diagnose", "--env-file", str(env_path), "--user", login, "--password-stdin"]
    args += ["--json", "--timeout", timeout]
    args += ["--container", container] if container else ["--no-container"]
    # From the .env's folder, as an admin runs it (and so that `python -m ldapcheck` is the installed one).
    proc = subprocess.run(
        args, input=password + "\n", capture_output=True, text=True, timeout=120, check=False, cwd=env_path.parent
    )
    assert proc.returncode in (0, 1), proc.stdout[-2000:] + proc.stderr[-2000:]
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


def recreate_advised(verdict: dict[str, Any] | None) -> bool:
    return verdict is not None and "force-recreate" in (verdict.get("hint") or "")


def verdict_id(report: dict[str, Any]) -> str | None:
    verdict = report.get("verdict")
    return None if verdict is None else verdict.get("failure_id")


VARIANTS = ("host", "same", "edited")
CASES = [(s, v) for s in SCENARIOS for v in VARIANTS if (v != "edited" or s.edited) and (v != "same" or s.container)]


@pytest.mark.parametrize(("scenario", "variant"), CASES, ids=[f"{s.name} [{v}]" for s, v in CASES])
def test_matrix(
    scenario: Scenario, variant: str, lab: LabInfo, prosody_factory: Any, silent_port: int, tmp_path: Path
) -> None:
    ports = {"silent": silent_port}
    overrides = scenario.overrides(lab, ports)
    raw = scenario.raw(lab)
    values = {k: v for k, v in {**lab.env, **overrides}.items() if v is not None}
    env_path = tmp_path / ".env"
    env_path.write_text(_env_text(values, raw), encoding="utf-8")
    env_path.chmod(0o600)
    login, password = scenario.user(lab)
    container: str | None = None
    if variant == "same":
        compose_values = {**{k: v for k, v in overrides.items()}, **{k: _compose_value(v) for k, v in raw.items()}}
        started = prosody_factory(compose_values)
        container = started[1].name
    elif variant == "edited":
        container = lab.prosody.name  # created from the lab's working .env
    report = diagnose_json(env_path, login, password, container=container, timeout=scenario.timeout)
    verdict = report.get("verdict")
    expected = scenario.expected_for(variant)
    if variant == "edited" and scenario.expected_edited is not ...:
        expected = scenario.expected_edited  # type: ignore[assignment]
    got = verdict_id(report)
    shown = json.dumps(verdict, indent=1)[:1500]
    assert got == expected, shown
    if expected == "JM-RECREATE":
        assert recreate_advised(verdict), shown  # recreating is safe, and how the .env takes effect
    elif variant == "edited":
        # Logins work now: a recreate would replace a working container with this broken .env.
        assert not recreate_advised(verdict), shown
        if expected is not None:
            assert "would break" in (verdict or {}).get("cause", ""), shown
    elif expected is None:
        assert not recreate_advised(verdict), shown  # a working login needs nothing done
