"""The LDAP path of `diagnose` runs the shared Jitsi steps after its container phase: the password is tried once per
run (saslauthd over its socket keeps it; the browser's transports then only read the mechanisms), the web steps
need prosody's web container ("not checked" without it), and jicofo's step explains ENABLE_AUTO_LOGIN."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from ldapcheck.adapters import xmpp
from ldapcheck.auth.ldap.chain import ChainOptions
from ldapcheck.commands import diagnose
from ldapcheck.core.model import Status, StepResult
from ldapcheck.core.runner import Run, run_steps
from ldapcheck.core.secrets import Secret
from ldapcheck.core.step import Step
from ldapcheck.jitsi import jicofo, login, shared
from ldapcheck.jitsi.container.facts import ContainerFacts
from ldapcheck.jitsi.deployment import JitsiView
from ldapcheck.jitsi.jicofo import JicofoAuth, auto_login_note, parse_jicofo_auth

ENV = {"ENABLE_AUTH": "1", "AUTH_TYPE": "ldap", "XMPP_DOMAIN": "meet.jitsi", "PUBLIC_URL": "http://127.0.0.1:1"}


@dataclass
class FakeSession:
    environ: dict[str, str] = field(default_factory=lambda: dict(ENV))
    kind = "docker"  # ContainerSession.kind
    name: str = "prosody-1"
    secrets: set[str] = field(default_factory=set)

    def env(self) -> dict[str, str]:
        return dict(self.environ)

    def require_container(self) -> Any:
        return type("C", (), {"attrs": {"HostConfig": {"NetworkMode": "host"}}, "name": "prosody-1"})()

    def facts(self) -> ContainerFacts:
        return ContainerFacts()


def _run_with(*results: StepResult) -> Run:
    run = Run()
    for r in results:
        run.results[r.id] = r
        run.ordered.append(r)
    return run


def _result(step_id: str, status: Status) -> StepResult:
    return StepResult(id=step_id, title=step_id, status=status, summary="x")


def _view(run: Run, *, web: bool = True) -> JitsiView:
    options = ChainOptions(user="alice", password=Secret("s3cret"), bind_user=True)
    view = diagnose._jitsi_view(FakeSession(), dict(ENV), options, 5.0, run)  # type: ignore[arg-type]
    view._siblings.update({"web": object() if web else None, "jicofo": None})
    return view


def _step(view: JitsiView, step_id: str) -> StepResult:
    chosen = [Step(id=s.id, title=s.title, run=s.run) for s in shared.steps() if s.id == step_id]
    results, bug = run_steps(chosen, view)
    assert not bug
    return results[0]


@pytest.fixture
def transports(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fakes for the XMPP client: records each password login and each mechanisms probe."""
    calls: list[str] = []

    def probe(transport: xmpp.Transport, endpoint: str, domain: str, *, timeout: float = 5) -> tuple[str, ...]:
        calls.append(f"probe {transport}")
        return ("PLAIN",)

    def password(kind: xmpp.Transport) -> Any:
        def login_fn(url: str, domain: str, user: str | None = None, password: str | None = None, **_: Any) -> Any:
            calls.append(f"password {kind}")
            return xmpp.LoginResult(
                transport=kind,
                endpoint=url,
                domain=domain,
                mechanism="PLAIN",
                mechanisms=("PLAIN",),
                success=True,
                condition=None,
                text=None,
                starttls_offered=False,
                jid=f"{user}@{domain}/x",
                raw_reply="<success/>",
            )

        return login_fn

    monkeypatch.setattr(xmpp, "offered_mechanisms", probe)
    monkeypatch.setattr(xmpp, "login_bosh", password(xmpp.Transport.BOSH))
    monkeypatch.setattr(xmpp, "login_websocket", password(xmpp.Transport.WEBSOCKET))
    return calls


def test_saslauthd_tried_the_password_so_the_browser_transports_only_read_mechanisms(transports: list[str]) -> None:
    sock = "container.saslauthd_protocol"
    view = _view(_run_with(_result("ldap.user_bind", Status.PASS), _result(sock, Status.PASS)))
    bosh, ws = _step(view, login.BOSH), _step(view, login.WEBSOCKET)
    assert transports == ["probe bosh", "probe websocket"]
    assert bosh.status is Status.PASS and bosh.facts[login.ATTEMPT] == "probe"
    assert "tried once already, by container.saslauthd_protocol" in bosh.summary
    assert ws.status is Status.PASS


def test_when_no_other_step_tried_the_password_bosh_tries_it_once(transports: list[str]) -> None:
    sock = "container.saslauthd_protocol"
    view = _view(_run_with(_result("ldap.user_bind", Status.SKIP), _result(sock, Status.SKIP)))
    bosh, ws = _step(view, login.BOSH), _step(view, login.WEBSOCKET)
    assert transports == ["password bosh", "probe websocket"]
    assert bosh.facts[login.ATTEMPT] == "password" and bosh.facts[login.SUCCESS] is True
    assert ws.facts[login.ATTEMPT] == "probe"


def test_without_web_or_jicofo_containers_the_shared_steps_are_not_checked(transports: list[str]) -> None:
    view = _view(_run_with(_result("container.saslauthd_protocol", Status.PASS)), web=False)
    for step_id in ("web.config_js", login.BOSH, login.WEBSOCKET, jicofo.JICOFO_AUTH):
        r = _step(view, step_id)
        assert r.status is Status.SKIP and r.summary.startswith("not checked"), (step_id, r.summary)
    assert transports == []


def test_the_ldap_path_runs_every_shared_step_after_its_container_steps() -> None:
    from ldapcheck.auth import modes

    container = [s.id for s in modes()["ldap"].container_steps()]
    ids = [s.id for s in shared.steps()]
    assert not set(container) & set(ids)
    for expected in ("web.config_js", "jitsi.guest_host", "jicofo.auth", "jitsi.env_split", "jitsi.experience"):
        assert expected in ids
    assert {login.BOSH, login.WEBSOCKET, login.C2S, login.GUEST} <= set(ids)


def test_enable_auto_login_is_read_and_explained() -> None:
    block = 'authentication {\n enabled = true\n type = XMPP\n login-url = "meet.jitsi"\n%s}\n'
    on = parse_jicofo_auth(block % " enable-auto-login = true\n authentication-lifetime = 2 hours\n")
    assert (on.auto_login, on.lifetime) == (True, "2 hours")
    note, hint = auto_login_note(on)
    assert "JICOFO-AUTOLOGIN" in note and "2 hours" in note and "ENABLE_AUTO_LOGIN=0" in hint
    off = parse_jicofo_auth(block % " enable-auto-login = false\n")
    assert off.auto_login is False and "log in again" in auto_login_note(off)[0]
    assert parse_jicofo_auth(block % "").auto_login is True  # jicofo's own default
    assert "not used with type = JWT" in auto_login_note(JicofoAuth(enabled=True, type="JWT"))[0]


def test_the_jicofo_step_passes_and_names_auto_login() -> None:
    view = _view(_run_with())
    view._siblings["jicofo"] = type("J", (), {"name": "jicofo-1"})()
    view.values["_jicofo_auth"] = ("/run/jicofo/jicofo.conf", JicofoAuth(True, "XMPP", "meet.jitsi", True))
    r = _step(view, jicofo.JICOFO_AUTH)
    assert r.status is Status.PASS
    assert "enable-auto-login = true" in r.summary and r.detail["enable-auto-login"] is True
    assert r.facts["jicofo.auto_login"] is True
