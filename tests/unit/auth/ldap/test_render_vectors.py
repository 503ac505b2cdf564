"""The renderer reproduces upstream's Go rendering byte for byte on every shared vector."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ldapcheck.auth.ldap.render import render, to_bool

VECTORS = next(p for p in Path(__file__).parents if (p / "vectors").is_dir()) / "vectors"

VECTORS = [
    json.loads(line)
    for line in (
        next(p for p in Path(__file__).parents if (p / "vectors").is_dir()) / "vectors" / "saslauthd-render.jsonl"
    )
    .read_text()
    .splitlines()
    if line.strip()
]


def test_vectors_present() -> None:
    assert len(VECTORS) >= 60


@pytest.mark.parametrize("case", VECTORS, ids=[c["id"] for c in VECTORS])
def test_vector(case: dict[str, object]) -> None:
    assert render(case["env"], case["template"]) == case["expected"]  # type: ignore[arg-type]


def test_example_a_bytes() -> None:
    env = {
        "AUTH_TYPE": "ldap",
        "LDAP_URL": "ldap://ldap.example.org/",
        "LDAP_BASE": "ou=users,dc=example,dc=org",
        "LDAP_BINDDN": "cn=admin,dc=example,dc=org",
        "LDAP_BINDPW": "secret",
    }
    out = render(env)
    assert len(out.encode()) == 214
    assert out.startswith("\n\nldap_servers: ldap://ldap.example.org/\n")
    assert out.endswith("ldap_auth_method: bind\n  \n\n\n")


def test_unset_password_renders_no_value() -> None:
    out = render({"AUTH_TYPE": "ldap", "LDAP_BINDDN": "cn=x"})
    assert "ldap_bind_pw: <no value>\n" in out
    assert "ldap_servers: <no value>\n" in out


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("no", True),
        ("off", True),
        ("maybe", True),
        (" ", True),
        ('"0"', False),
        ("'1'", True),
        ("", False),
        ("FALSE", False),
        ("yes", True),
        (None, False),
    ],
)
def test_to_bool_follows_tpl(value: str | None, expected: bool) -> None:
    assert to_bool(value) is expected


def test_legacy_cert_paths() -> None:
    env = {"AUTH_TYPE": "ldap", "LDAP_USE_TLS": "1", "XMPP_DOMAIN": "meet.example.org"}
    assert "ldap_tls_key: /config/certs/meet.example.org.key" in render(env, "legacy")
    assert "ldap_tls_key: /run/prosody/config/certs/meet.example.org.key" in render(env, "current")
