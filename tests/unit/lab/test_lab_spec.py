"""Lab spec, container plans and the lab .env: what the containers get and what is written to disk."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ldapcheck.auth.ldap.render import render
from ldapcheck.lab.containers import LABEL_PROJECT, LABEL_SERVICE, LabPaths, openldap_plan, prosody_plan
from ldapcheck.lab.envfile import format_env, read_env_file, write_env_file
from ldapcheck.lab.spec import new_spec


def test_spec_has_distinct_ports_and_random_secrets() -> None:
    a, b = new_spec("p", 10), new_spec("p", 10)
    assert len({a.ldap_port, a.ldaps_port, a.c2s_port}) == 3
    assert a.admin_password != b.admin_password
    assert a.bind_password != a.admin_password
    assert a.ldap_url == f"ldap://127.0.0.1:{a.ldap_port}"
    assert not a.ldap_url.endswith("/")
    assert a.secrets() >= {a.admin_password, a.bind_password, a.lab_password}


def test_repr_never_shows_a_password() -> None:
    spec = new_spec("p", 1)
    text = repr(spec) + repr(openldap_plan(spec, LabPaths(Path("/x")))) + repr(prosody_plan(spec, LabPaths(Path("/x"))))
    assert not [s for s in spec.secrets() if s in text]


def test_samba_spec_repr_never_shows_a_password() -> None:
    from testing.samba import SambaSpec

    spec = SambaSpec()
    text = repr(spec)
    assert "require_strong_auth" in text  # the settings are still shown
    assert not [pw for pw in (spec.admin_password, spec.service_password, spec.user_password) if pw in text]


def test_jitsi_env_renders_a_working_saslauthd_conf() -> None:
    spec = new_spec("p", 1)
    conf = render(spec.jitsi_env())
    lines = [line for line in conf.splitlines() if line.strip()]
    assert f"ldap_servers: {spec.ldap_url}" in lines
    assert f"ldap_search_base: {spec.suffix}" in lines
    assert f"ldap_bind_dn: {spec.bind_dn}" in lines
    assert f"ldap_bind_pw: {spec.bind_password}" in lines
    assert "ldap_filter: (uid=%u)" in lines


def test_plans_use_compose_labels_and_mounts() -> None:
    spec = new_spec("proj", 1)
    paths = LabPaths(Path("/lab"))
    ldap, xmpp = openldap_plan(spec, paths), prosody_plan(spec, paths)
    assert (ldap.labels[LABEL_PROJECT], ldap.labels[LABEL_SERVICE]) == ("proj", "openldap")
    assert (xmpp.labels[LABEL_PROJECT], xmpp.labels[LABEL_SERVICE]) == ("proj", "prosody")
    assert xmpp.name == "proj-prosody-1"
    assert "/lab/saslauthd.conf" not in xmpp.volumes()  # rendered from its env at start; mounted only when asked
    assert ldap.environment["LDAP_PORT"] == str(spec.ldap_port)
    assert xmpp.environment["C2S_PORT"] == str(spec.c2s_port)


def test_prosody_overrides_set_and_unset() -> None:
    spec = new_spec("proj", 1)
    plan = prosody_plan(spec, LabPaths(Path("/lab")), env_overrides={"AUTH_TYPE": "LDAP", "LDAP_BINDPW": None})
    assert plan.environment["AUTH_TYPE"] == "LDAP"
    assert "LDAP_BINDPW" not in plan.environment


def test_env_file_is_0600_and_round_trips(tmp_path: Path) -> None:
    spec = new_spec("proj", 1)
    path = tmp_path / "sub" / "lab.env"
    values = spec.lab_env("/ca.crt", LabPaths(tmp_path).compose_values())
    write_env_file(path, values)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    back = read_env_file(path)
    assert back == values
    assert back["LAB_PASSWORD"] == spec.users["alice"]
    assert back["LAB_SEED_DIR"] == str(tmp_path / "seed")


def test_env_file_rewrite_tightens_an_existing_wide_file(tmp_path: Path) -> None:
    path = tmp_path / "lab.env"
    path.write_text("OLD=1\n")
    path.chmod(0o644)
    write_env_file(path, {"A": "b"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_env_file(path) == {"A": "b"}


def test_env_values_with_newlines_are_refused() -> None:
    with pytest.raises(ValueError, match="newline"):
        format_env({"A": "x\ny"})


@pytest.mark.parametrize(
    "value",
    [
        "pa$word",
        "pa$$word",
        "${HOME}",
        "it's",
        'say "hi"',
        "two words",
        " leading and trailing ",
        "a #not a comment",
        "back\\slash\\",
        "\\'",
        "'",
        "",
        "(&(objectClass=person)(uid=%u))",
        "ldaps://a.example ldaps://b.example",
    ],
)
def test_env_file_round_trips_dollars_quotes_and_spaces(tmp_path: Path, value: str) -> None:
    path = tmp_path / "lab.env"
    values = {"LAB_PASSWORD": value, "LDAP_BINDPW": value + "x", "PLAIN": "1"}
    write_env_file(path, values)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_env_file(path) == values
    # Compose reads the same values (the shared reader, with a shell environment that must not leak in).
    from ldapcheck.jitsi.env.parse import read_env_file as compose_read

    assert compose_read(path, environ={"HOME": "/root", "word": "W"}).values() == values


@given(
    st.dictionaries(
        st.from_regex(r"[A-Z][A-Z0-9_]{0,10}", fullmatch=True),
        st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\0")),
    )
)
def test_env_file_round_trips_any_text(values: dict[str, str]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lab.env"
        write_env_file(path, values)
        assert read_env_file(path) == values
