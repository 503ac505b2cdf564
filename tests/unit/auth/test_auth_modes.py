"""The auth-mode registry: each mode provides settings, host steps and container steps, loaded only when called."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ldapcheck.auth import modes
from ldapcheck.auth.ldap.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("docker", "ldap3", "jinja2")
# What the methods import when called: loading the registry does not load the chains either.
LAZY = ("ldapcheck.auth.ldap.chain", "ldapcheck.auth.ldap.container.steps", "ldapcheck.auth.ldap.settings")


def test_importing_a_mode_pulls_in_no_heavy_library() -> None:
    code = (
        "import sys, ldapcheck.auth.ldap.mode, ldapcheck.auth.jwt.mode, ldapcheck.auth;"
        "ldapcheck.auth.modes();"
        f"print(sorted(m for m in {HEAVY + LAZY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_ldap_mode_gives_the_chains_of_diagnose() -> None:
    from ldapcheck.auth.ldap.chain import ChainOptions, diagnose_steps
    from ldapcheck.auth.ldap.container.steps import container_steps

    ldap = modes()["ldap"]
    env = {"LDAP_URL": "ldap://ldap.example:389", "LDAP_BASE": "dc=example", "XMPP_DOMAIN": "meet.jitsi"}
    settings = ldap.settings(env)
    assert isinstance(settings, Settings)
    assert settings.base == "dc=example"
    options = ChainOptions(user="alice")
    assert [s.id for s in ldap.host_steps(settings, options)] == [s.id for s in diagnose_steps(settings, options)]
    servers = [("ldap.example", 389)]
    assert [s.id for s in ldap.container_steps(servers)] == [s.id for s in container_steps(servers)]
    assert ldap.container_steps(servers)


def test_jwt_mode_has_settings_and_container_steps() -> None:
    from ldapcheck.auth.jwt.model import TokenConfig

    jwt = modes()["jwt"]
    env = {
        "ENABLE_AUTH": "1",
        "AUTH_TYPE": "jwt",
        "JWT_APP_ID": "app",
        "JWT_APP_SECRET": "s3cret",
        "XMPP_DOMAIN": "meet.jitsi",
    }
    config = jwt.settings(env)
    assert isinstance(config, TokenConfig)
    assert config.app_id == "app"
    assert jwt.host_steps(config, None) == []
    assert [s.id for s in jwt.container_steps()][:3] == ["jwt.prosody_config", "jwt.module", "jwt.clock"]
    assert jwt.verdict_rules
