"""Which auth mode an environment turns on (jitsi/modes.py): docker-jitsi-meet's switches and defaults."""

from __future__ import annotations

import pytest

from ldapcheck.jitsi.modes import auth_modes, gate, started, to_bool


def test_defaults_are_anonymous_internal_without_guests() -> None:
    m = auth_modes({})
    assert (m.enabled, m.auth_type, m.prosody_auth_type, m.guests) == (False, None, "internal", False)
    assert m.main == "none" and m.active() == ("none",)


def test_prosody_auth_type_overrides_auth_type() -> None:
    m = auth_modes({"ENABLE_AUTH": "1", "AUTH_TYPE": "ldap", "PROSODY_AUTH_TYPE": "jwt"})
    assert m.main == "jwt"
    assert m.requested("ldap") and m.requested("jwt") and not m.requested("internal")


def test_guests_only_with_enable_auth() -> None:
    assert auth_modes({"ENABLE_GUESTS": "1"}).active() == ("none",)
    assert auth_modes({"ENABLE_GUESTS": "1", "ENABLE_AUTH": "true", "AUTH_TYPE": "ldap"}).active() == ("ldap", "guest")


@pytest.mark.parametrize(("text", "value"), [("1", True), ("'true'", True), ("no", True), ("0", False), ("", False)])
def test_to_bool_is_the_images_tobool(text: str, value: bool) -> None:
    assert to_bool(text) is value


def test_gate_is_byte_exact_and_says_why() -> None:
    what = "writes saslauthd.conf and starts saslauthd"
    assert started({"AUTH_TYPE": "ldap"}, "ldap") and gate({"AUTH_TYPE": "ldap"}, "ldap", what=what) is None
    assert gate({"AUTH_TYPE": "LDAP"}, "ldap", what=what) == (
        "AUTH_TYPE=LDAP is not exactly `ldap`: the image's gate is case- and quote-sensitive"
    )
    assert gate({}, "ldap", what=what) == (
        "AUTH_TYPE=(unset): the image writes saslauthd.conf and starts saslauthd only for AUTH_TYPE=ldap"
    )
