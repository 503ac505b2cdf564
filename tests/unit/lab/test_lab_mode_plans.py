"""`lab up --auth internal|ldap [--guests]`: the .env, the container plans and the status JSON for each mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from ldapcheck.lab.containers import PROSODY_TMPFS, LabPaths, jicofo_plan, prosody_plan, web_plan
from ldapcheck.lab.images import LAB_IMAGES, pinned
from ldapcheck.lab.manager import LabStatus
from ldapcheck.lab.spec import new_spec
from ldapcheck.lab.state import LabState


def test_internal_with_guests_env_has_the_mode_keys_and_no_ldap() -> None:
    spec = new_spec("p", 1, auth="internal", guests=True, web=True)
    env = spec.lab_env("/ca.crt")
    assert env["AUTH_TYPE"] == "internal" and env["ENABLE_AUTH"] == "1"
    assert env["ENABLE_GUESTS"] == "1" and env["XMPP_GUEST_DOMAIN"] == "guest.meet.jitsi"
    assert env["PUBLIC_URL"] == f"http://127.0.0.1:{spec.web_port}"
    assert not any(key.startswith("LDAP_") or key.startswith("LAB_LDAP") for key in env)


def test_ldap_env_is_unchanged_without_web_and_gets_public_url_with_it() -> None:
    plain = new_spec("p", 1)
    assert "PUBLIC_URL" not in plain.lab_env("/ca.crt")
    assert plain.http_port == plain.web_port == 0
    assert "ENABLE_GUESTS" not in plain.jitsi_env()
    web = new_spec("p", 1, web=True)
    assert web.lab_env("/ca.crt")["PUBLIC_URL"] == web.public_url
    assert len({web.ldap_port, web.ldaps_port, web.c2s_port, web.http_port, web.web_port}) == 5


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="ldap or internal or jwt"):
        new_spec("p", 1, auth="matrix")


def test_plans_for_jwt_mode_have_a_generated_secret_everywhere_it_belongs(tmp_path: Path) -> None:
    spec = new_spec("p", 1, auth="jwt", web=True)
    assert len(spec.jwt_secret) == 64 and spec.jwt_secret in spec.secrets()
    assert spec.jwt_secret not in repr(spec)
    prosody = prosody_plan(spec, LabPaths(tmp_path))
    assert prosody.environment["AUTH_TYPE"] == "jwt"
    assert prosody.environment["JWT_APP_SECRET"] == spec.jwt_secret
    assert all(m.container != "/etc/saslauthd.conf" for m in prosody.mounts)
    web = web_plan(spec)
    assert web.environment["TOKEN_AUTH_URL"].startswith(spec.public_url)
    assert "JWT_APP_SECRET" not in web.environment
    assert jicofo_plan(spec).environment["AUTH_TYPE"] == "jwt"
    assert spec.lab_env("")["JWT_APP_SECRET"] == spec.jwt_secret


def test_plans_for_internal_mode(tmp_path: Path) -> None:
    spec = new_spec("p", 1, auth="internal", guests=True, web=True)
    prosody = prosody_plan(spec, LabPaths(tmp_path))
    assert prosody.environment["HTTP_PORT"] == str(spec.http_port)
    assert all(m.container != "/etc/saslauthd.conf" for m in prosody.mounts)
    web = web_plan(spec)
    assert web.environment["XMPP_BOSH_URL_BASE"] == f"http://127.0.0.1:{spec.http_port}"
    assert web.environment["ENABLE_GUESTS"] == "1"
    assert web.labels["com.docker.compose.service"] == "web"
    jicofo = jicofo_plan(spec)
    assert jicofo.environment == {"ENABLE_AUTH": "1", "AUTH_TYPE": "internal", "XMPP_DOMAIN": "meet.jitsi"}
    assert jicofo.labels["com.docker.compose.service"] == "jicofo"


def test_ldap_prosody_plan_renders_saslauthd_conf_from_its_env_and_runs_rootless(tmp_path: Path) -> None:
    plan = prosody_plan(new_spec("p", 1), LabPaths(tmp_path))
    assert not any(m.container == "/etc/saslauthd.conf" for m in plan.mounts)  # rendered at start from the env
    assert plan.environment["LDAP_BINDDN"] and plan.environment["AUTH_TYPE"] == "ldap"
    assert "HTTP_PORT" not in plan.environment
    assert plan.runtime() == {"user": "1000", "read_only": True, "tmpfs": PROSODY_TMPFS}
    assert PROSODY_TMPFS["/run"].startswith("uid=1000,gid=1000,mode=0755")
    mounted = prosody_plan(new_spec("p", 1), LabPaths(tmp_path), saslauthd_conf=tmp_path / "own.conf")
    assert [m.container for m in mounted.mounts if m.host == str(tmp_path / "own.conf")] == ["/etc/saslauthd.conf"]


def test_images_run_from_a_content_addressed_tag() -> None:
    for name in LAB_IMAGES:
        tag = pinned(name)
        assert tag.startswith(name.split(":")[0] + ":ctx-")


def _state(**extra: object) -> LabState:
    base: dict[str, object] = {
        "project": "p",
        "openldap_id": "",
        "prosody_id": "pid",
        "openldap_name": "",
        "prosody_name": "p-prosody-1",
        "ldap_port": 1,
        "ldaps_port": 2,
        "c2s_port": 3,
        "xmpp_domain": "meet.jitsi",
        "suffix": "dc=example,dc=org",
        "n_users": 0,
        "env_file": "/x/lab.env",
        "ca_cert": "",
        "root": "/x",
        "auth": "internal",
        "http_port": 4,
        "web_port": 5,
        "web_id": "wid",
        "web_name": "p-web-1",
    }
    return LabState(**{**base, **extra})  # type: ignore[arg-type]


def test_status_json_lists_roles_names_and_ports() -> None:
    state = _state()
    status = LabStatus(
        up=True,
        state=state,
        containers={"p-prosody-1": "running", "p-web-1": "running"},
        roles={"p-prosody-1": "prosody", "p-web-1": "web"},
    )
    data = status.as_json()
    assert data["auth"] == "internal" and data["public_url"] == "http://127.0.0.1:5"
    assert data["containers"] == [
        {"role": "prosody", "name": "p-prosody-1", "status": "running", "ports": {"c2s": 3, "http": 4}},
        {"role": "web", "name": "p-web-1", "status": "running", "ports": {"http": 5}},
    ]
