"""diagnose chooses its checks from the modes the .env turns on; a .env without LDAP settings is no error."""

from __future__ import annotations

from pathlib import Path

from ldapcheck.commands import diagnose
from ldapcheck.commands.source import LdapSource


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_ldap_settings_or_auth_type_ldap_keep_the_ldap_chain(tmp_path: Path) -> None:
    ldap = write(tmp_path / "a.env", "LDAP_URL=ldap://x:389\n")
    assert diagnose._ldap_requested(LdapSource(env_file=ldap), ldap)
    typed = write(tmp_path / "b.env", "ENABLE_AUTH=1\nAUTH_TYPE=ldap\n")
    assert diagnose._ldap_requested(LdapSource(env_file=typed), typed)
    assert diagnose._ldap_requested(LdapSource(url="ldap://x"), None)
    assert diagnose._ldap_requested(LdapSource(), None)  # nothing at all: the LDAP settings error says what to pass


def test_internal_and_jwt_env_run_the_jitsi_chain(tmp_path: Path) -> None:
    for text in ("ENABLE_AUTH=1\nAUTH_TYPE=internal\n", "ENABLE_AUTH=1\nAUTH_TYPE=jwt\nJWT_APP_ID=a\n", "X=1\n"):
        env = write(tmp_path / ".env", text)
        assert not diagnose._ldap_requested(LdapSource(env_file=env), env)


def test_an_internal_env_without_ldap_url_is_diagnosed_not_refused(tmp_path: Path) -> None:
    env = write(tmp_path / ".env", "ENABLE_AUTH=1\nAUTH_TYPE=internal\nXMPP_DOMAIN=meet.jitsi\n")
    report = diagnose.run(LdapSource(env_file=env), user="alice", password=None, bind_user=False, inside=None)
    assert report.meta["modes"] == ["internal"]
    assert report.verdict is not None and report.verdict.failure_id is None
    assert "not judged" in report.verdict.cause
    experience = next(s for s in report.steps if s.id == "jitsi.experience")
    assert experience.failure_id == "GUEST-OFF-PROMPT"
