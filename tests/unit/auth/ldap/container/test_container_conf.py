"""container.saslauthd_conf on a mounted /etc/saslauthd.conf: saslauthd's defaults apply to keys it leaves out."""

from __future__ import annotations

from typing import Any

import pytest

from ldapcheck.auth.ldap.container.config import saslauthd_conf, saslauthd_conf_perms
from ldapcheck.auth.ldap.container.view import LoginOptions, SaslauthdView
from ldapcheck.auth.ldap.render import render
from ldapcheck.core.step import CheckFailed
from ldapcheck.jitsi.container.facts import ContainerFacts, FileStat, Process
from ldapcheck.jitsi.container.session import ContainerSession, SessionOptions

SASLAUTHD = ("saslauthd", "-a", "ldap", "-O", "/run/saslauthd.conf", "-c", "-m", "/var/run/saslauthd")
ENV = {
    "ENABLE_AUTH": "1",
    "AUTH_TYPE": "ldap",
    "XMPP_DOMAIN": "meet.jitsi",
    "LDAP_URL": "ldap://ldap.example.org/",
    "LDAP_BASE": "ou=people,dc=example,dc=org",
    "LDAP_BINDDN": "cn=jitsi,dc=example,dc=org",
    "LDAP_BINDPW": "bind-secret",
}
MOUNTED_MINIMAL = (
    "ldap_servers: ldap://ldap.example.org/\n"
    "ldap_search_base: ou=people,dc=example,dc=org\n"
    "ldap_bind_dn: cn=jitsi,dc=example,dc=org\n"
    "ldap_bind_pw: bind-secret\n"
)


class FakeContainer:
    name = "jitsi-prosody-1"

    def __init__(self, env: dict[str, str], mounted: bool) -> None:
        mounts = [{"Source": "/srv/saslauthd.conf", "Destination": "/etc/saslauthd.conf", "Type": "bind"}]
        self.attrs: dict[str, Any] = {
            "Config": {"Env": [f"{k}={v}" for k, v in env.items()]},
            "Mounts": mounts if mounted else [],
        }


def context(conf: str, *, mounted: bool = True) -> SaslauthdView:
    files = {"/run/prosody/config/prosody.cfg.lua": "", "/run/saslauthd.conf": conf}
    if mounted:
        files["/etc/saslauthd.conf"] = conf
    facts = ContainerFacts(files=files, processes=[Process(pid=9, uid=1000, argv=SASLAUTHD)], complete=True)
    session = ContainerSession(options=SessionOptions())
    container = FakeContainer(ENV, mounted)
    session.container = container
    session._memo["container"] = (True, container)
    session._memo["facts"] = (True, facts)
    return SaslauthdView(session, LoginOptions())


def test_mounted_conf_that_leaves_keys_at_saslauthds_defaults_passes_with_a_note() -> None:
    outcome = saslauthd_conf(context(MOUNTED_MINIMAL))
    assert not outcome.warn
    assert outcome.summary == (
        "mounted /etc/saslauthd.conf agrees with the container's env (keys left at saslauthd's defaults: "
        "ldap_auth_method, ldap_filter, ldap_version)"
    )
    assert outcome.detail["left at saslauthd's defaults"] == [
        "ldap_auth_method (bind)",
        "ldap_filter ((uid=%u))",
        "ldap_version (3)",
    ]


def test_mounted_conf_that_really_differs_is_still_custom_conf() -> None:
    with pytest.raises(CheckFailed) as caught:
        saslauthd_conf(context(MOUNTED_MINIMAL + "ldap_filter: (mail=%u)\n"))
    assert caught.value.failure_id == "JM-CUSTOM-CONF"
    assert caught.value.detail["differing keys"] == ["ldap_filter"]


def test_rendered_conf_in_use_matches_without_a_note() -> None:
    outcome = saslauthd_conf(context(render(ENV), mounted=False))
    assert outcome.summary.startswith("/run/saslauthd.conf matches the template rendered from the container's env")
    assert "left at saslauthd's defaults" not in outcome.detail


# --- SA-CONF-PERMS ----------------------------------------------------------------------------------------


def perms_context(mode: str, owner: str, conf: str = MOUNTED_MINIMAL, *, legacy: bool = False) -> SaslauthdView:
    path = "/etc/saslauthd.conf" if legacy else "/run/saslauthd.conf"
    argv = SASLAUTHD if not legacy else (*SASLAUTHD[:4], path, *SASLAUTHD[5:])
    layout = "/config/prosody.cfg.lua" if legacy else "/run/prosody/config/prosody.cfg.lua"
    facts = ContainerFacts(
        files={layout: "", path: conf},
        stats={path: FileStat(mode, owner, owner, "regular file")},
        processes=[Process(pid=9, uid=0 if legacy else 1000, argv=argv)],
        complete=True,
    )
    session = ContainerSession(options=SessionOptions())
    container = FakeContainer(ENV, mounted=False)
    session.container = container
    session._memo["container"] = (True, container)
    session._memo["facts"] = (True, facts)
    return SaslauthdView(session, LoginOptions())


def test_world_readable_conf_with_the_bind_password_is_a_warning_that_does_not_touch_logins() -> None:
    outcome = saslauthd_conf_perms(perms_context("644", "s6"))
    assert outcome.warn and outcome.failure_id == "SA-CONF-PERMS"
    assert outcome.facts == {"login_unaffected": True}
    assert outcome.summary == (
        "/run/saslauthd.conf holds ldap_bind_pw and is mode 0644 (s6:s6): readable by every process in the "
        "prosody container"
    )
    assert "0600" in outcome.hint and "uid 1000" in outcome.hint and "read-only" in outcome.hint
    assert "bind-secret" not in repr(outcome)


def test_legacy_images_read_the_file_as_root() -> None:
    outcome = saslauthd_conf_perms(perms_context("644", "root", legacy=True))
    assert outcome.warn and outcome.failure_id == "SA-CONF-PERMS"
    assert "0600 owned by root" in outcome.hint


@pytest.mark.parametrize(
    ("mode", "conf", "summary"),
    [
        ("600", MOUNTED_MINIMAL, "/run/saslauthd.conf is mode 0600 (s6:s6): other users cannot read ldap_bind_pw"),
        ("644", "ldap_servers: ldap://x/\n", "/run/saslauthd.conf holds no bind password (anonymous bind)"),
    ],
)
def test_private_or_passwordless_conf_passes(mode: str, conf: str, summary: str) -> None:
    outcome = saslauthd_conf_perms(perms_context(mode, "s6", conf))
    assert (outcome.warn, outcome.summary) == (False, summary)
