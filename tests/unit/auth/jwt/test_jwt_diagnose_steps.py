"""diagnose in jwt mode: the container steps against fakes, the token login against a fake token-enabled prosody
(BOSH and WebSocket reading `?token=`, offering only ANONYMOUS, answering `<failure><not-allowed/><text>…`), and
the verdict rules over structured facts."""

from __future__ import annotations

import contextlib
import re
import threading
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ldapcheck.auth import modes
from ldapcheck.auth.jwt import clock
from ldapcheck.auth.jwt import steps as jwt
from ldapcheck.core.model import Status, StepResult
from ldapcheck.core.runner import run_steps
from ldapcheck.core.secrets import Secret
from ldapcheck.core.step import Step
from ldapcheck.core.verdict import decide
from ldapcheck.jitsi import login
from ldapcheck.jitsi.container.facts import ContainerFacts
from ldapcheck.jitsi.container.session import ContainerSession
from ldapcheck.jitsi.deployment import JitsiView
from ldapcheck.jitsi.prosody import ProsodyHost, parse_prosody_hosts

GOOD_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJhcHAifQ.c2lnbmF0dXJl"
ENV = {
    "ENABLE_AUTH": "1",
    "AUTH_TYPE": "jwt",
    "XMPP_DOMAIN": "meet.jitsi",
    "JWT_APP_ID": "app",
    "JWT_APP_SECRET": "s3cret-value",
}
CONFIG = """
VirtualHost "meet.jitsi"
    authentication = "token"
    app_id = "app"
    app_secret = "s3cret-value"
    allow_empty_token = false
VirtualHost "auth.meet.jitsi"
    authentication = "internal_hashed"
"""


@dataclass
class FakeSession:
    environ: dict[str, str]
    kind = "docker"  # ContainerSession.kind
    log: str = ""
    facts_value: ContainerFacts = field(default_factory=ContainerFacts)
    name: str = "prosody-1"
    secrets: set[str] = field(default_factory=set)
    # The docker kind's commands (reproduce lines and fixes), as ContainerSession spells them.
    shell = ContainerSession.shell
    apply_hint = ContainerSession.apply_hint
    logs_command = ContainerSession.logs_command
    config_place = ContainerSession.config_place
    started_at = ContainerSession.started_at  # from the container's State.StartedAt, as the real session
    since: list[float] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return dict(self.environ)

    def logs(self, *, since: float, tail: int = 400) -> str:
        self.since.append(since)
        return self.log

    def require_container(self) -> Any:
        return type("C", (), {"attrs": {"State": {"StartedAt": "2026-12-01T10:00:00.123456789Z"}}})()

    def facts(self) -> ContainerFacts:
        return self.facts_value


class View(JitsiView):
    config_text: str = CONFIG

    def prosody_config(self) -> tuple[str, dict[str, str], dict[str, ProsodyHost]] | None:
        glob, hosts = parse_prosody_hosts(self.config_text)
        return "/run/prosody/config/prosody.cfg.lua", glob, hosts


def view(env: Mapping[str, str] = ENV, config: str = CONFIG, log: str = "", **kw: Any) -> View:
    v = View(session=FakeSession(dict(env), log=log), expected_env=dict(env), **kw)  # type: ignore[arg-type]
    v.config_text = config
    return v


def run(step_id: str, ctx: JitsiView) -> StepResult:
    chosen: list[Step[JitsiView]] = [s for s in jwt.container_steps() if s.id == step_id]
    chosen = [Step(id=s.id, title=s.title, run=s.run) for s in chosen]  # no requires: run it alone
    results, bug = run_steps(chosen, ctx)
    assert not bug
    return results[0]


# --- prosody's rendered settings ----------------------------------------------------------------------------------


def test_a_token_host_with_app_id_and_secret_passes_and_never_shows_the_secret() -> None:
    r = run(jwt.CONFIG, view())
    assert r.status is Status.PASS, r.summary
    assert 'app_id = "app"' in r.summary
    assert "s3cret-value" not in repr(r)


def test_a_secret_tobool_reads_as_false_renders_nothing() -> None:
    env = {**ENV, "JWT_APP_SECRET": "false"}
    config = CONFIG.replace('    app_secret = "s3cret-value"\n', "")
    r = run(jwt.CONFIG, view(env, config))
    assert r.status is Status.FAIL and r.failure_id == "JWT-SECRET-TOBOOL"


def test_another_authentication_and_a_missing_app_id() -> None:
    r = run(jwt.CONFIG, view(config=CONFIG.replace('"token"', '"internal_hashed"')))
    assert r.failure_id == "JM-AUTH-TYPE"
    r = run(jwt.CONFIG, view(config=CONFIG.replace('    app_id = "app"\n', "")))
    assert r.failure_id == "JWT-CONFIG"
    r = run(jwt.CONFIG, view(config=CONFIG.replace('    app_secret = "s3cret-value"\n', "")))
    assert r.failure_id == "JWT-CONFIG"


# --- the module, from prosody's log -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "fid", "state"),
    [
        ("general error Unable to load module 'auth_token': mod_auth_token.lua: No such file", "JWT-MODULE", "missing"),
        (
            "meet.jitsi:auth_token error Error initializing module 'auth_token' on 'meet.jitsi': x",
            "JWT-MODULE",
            "missing",
        ),
        ("error ...: module 'basexx' not found:", "JWT-MODULE", "missing"),
        ("meet.jitsi:auth_token error 'app_id' must not be empty", "JWT-CONFIG", "config"),
    ],
)
def test_module_errors_in_prosody_s_log(line: str, fid: str, state: str) -> None:
    r = run(jwt.MODULE, view(log=f"info started\n{line}\n"))
    assert r.status is Status.FAIL and r.failure_id == fid
    assert r.facts[jwt.MODULE_STATE] == state


def test_the_log_is_read_from_the_container_s_start() -> None:
    ctx = view(log="info Hello and welcome to Prosody\n")
    run(jwt.MODULE, ctx)
    assert ctx.session.since == [datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC).timestamp()]  # type: ignore[attr-defined]


def test_a_clean_log_passes() -> None:
    r = run(jwt.MODULE, view(log="info Hello and welcome to Prosody\n"))
    assert r.status is Status.PASS and r.facts[jwt.MODULE_STATE] == "ok"


# --- the clock ----------------------------------------------------------------------------------------------------


def test_skew_is_zero_inside_the_exec_window() -> None:
    assert clock.skew(100.5, (100.0, 101.0)) == 0
    assert clock.skew(110.0, (100.0, 101.0)) == 9.0
    assert clock.skew(90.0, (100.0, 101.0)) == -10.0


def test_a_container_clock_off_by_more_than_a_few_seconds_is_jwt_clock() -> None:
    ctx = view()
    ctx.session.facts_value = ContainerFacts(clock=1000.0, host_window=(1030.0, 1030.2))  # type: ignore[attr-defined]
    r = run(jwt.CLOCK, ctx)
    assert r.status is Status.FAIL and r.failure_id == "JWT-CLOCK" and "behind" in r.summary
    ctx.session.facts_value = ContainerFacts(clock=1030.1, host_window=(1030.0, 1030.2))  # type: ignore[attr-defined]
    assert run(jwt.CLOCK, ctx).status is Status.PASS


# --- who creates rooms ----------------------------------------------------------------------------------------------


def test_rooms_guests_and_allow_empty() -> None:
    r = run(jwt.ROOMS, view({**ENV, "ENABLE_GUESTS": "1"}))
    assert r.status is Status.WARN and r.failure_id == "JWT-GUESTS-MIX"
    r = run(jwt.ROOMS, view({**ENV, "JWT_ALLOW_EMPTY": "1"}))
    assert r.status is Status.WARN and r.failure_id == "JWT-EMPTY-CREATES"
    r = run(jwt.ROOMS, view())
    assert r.status is Status.PASS and "only token holders" in r.summary


# --- the token against the running settings -------------------------------------------------------------------------


def test_the_token_step_judges_with_the_container_s_settings_and_clock() -> None:
    import time

    from ldapcheck.auth.jwt.mint import mint
    from ldapcheck.auth.jwt.model import TokenConfig

    token = mint(TokenConfig.from_env(ENV), "alice", room="myroom", moderator=False, ttl=60, now=time.time())
    ctx = view(token=Secret(token), room="MyRoom")
    ctx.session.facts_value = ContainerFacts(clock=time.time(), host_window=(time.time() - 1, time.time()))  # type: ignore[attr-defined]
    r = run(jwt.TOKEN, ctx)
    assert r.status is Status.PASS, r.summary
    assert "the prosody container's clock" in r.summary and "myroom" in r.summary
    late = ContainerFacts(clock=time.time() + 3600, host_window=(time.time() - 1, time.time()))
    ctx.session.facts_value = late  # type: ignore[attr-defined]
    r = run(jwt.TOKEN, ctx)
    assert r.status is Status.FAIL and r.failure_id == "JWT-EXP"
    other = view({**ENV, "JWT_APP_SECRET": "another"}, token=Secret(token))
    assert run(jwt.TOKEN, other).failure_id == "JWT-SIG"


def test_a_bad_token_is_refused_with_prosody_s_reason() -> None:
    ctx = view(token=Secret(GOOD_TOKEN))
    ctx.inspect = False
    r = run(jwt.TOKEN, ctx)
    assert r.status is Status.FAIL and r.failure_id and r.failure_id.startswith("JWT-")
    assert GOOD_TOKEN not in repr(r)


# --- the live login against a fake token-enabled prosody -----------------------------------------------------------

SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
BOSH_NS = "http://jabber.org/protocol/httpbind"
ANON = f"<mechanisms xmlns='{SASL}'><mechanism>ANONYMOUS</mechanism></mechanisms>"
FEATURES = f"<stream:features xmlns:stream='http://etherx.jabber.org/streams'>{ANON}</stream:features>"
BIND_FEATURES = (
    "<stream:features xmlns:stream='http://etherx.jabber.org/streams'>"
    "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"
)
BIND_RESULT = (
    "<iq type='result' id='bind_1' xmlns='jabber:client'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
    "<jid>8f1c0a@meet.jitsi/r1</jid></bind></iq>"
)


def _verdict_for(token: str | None) -> str:
    """As mod_auth_token: the session's token decides the ANONYMOUS login."""
    if not token:
        return f"<failure xmlns='{SASL}'><not-allowed/><text>token required</text></failure>"
    if token != GOOD_TOKEN:
        return f"<failure xmlns='{SASL}'><not-allowed/><text>Invalid signature</text></failure>"
    return f"<success xmlns='{SASL}'/>"


class _TokenBosh(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode().replace('"', "'")
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        if "sid=" not in body:  # session creation: prosody reads token/room from this request's URL
            self.server.token = (query.get("token") or [None])[0]
            self.server.rooms.append((query.get("room") or [""])[0])
            answer = f"<body xmlns='{BOSH_NS}' sid='s1' wait='10' requests='2'>{FEATURES}</body>"
        elif "<auth" in body:
            assert "mechanism='ANONYMOUS'" in body
            answer = f"<body xmlns='{BOSH_NS}'>{_verdict_for(self.server.token)}</body>"
        elif "xmpp:restart='true'" in body:
            answer = f"<body xmlns='{BOSH_NS}'>{BIND_FEATURES}</body>"
        elif "<iq" in body:
            answer = f"<body xmlns='{BOSH_NS}'>{BIND_RESULT}</body>"
        else:
            answer = f"<body xmlns='{BOSH_NS}'/>"
        data = answer.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    token: str | None = None
    rooms: list[str]


@contextlib.contextmanager
def token_bosh() -> Iterator[_Server]:
    server = _Server(("127.0.0.1", 0), _TokenBosh)
    server.rooms = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextlib.contextmanager
def token_ws() -> Iterator[int]:
    from websockets.sync.server import ServerConnection, serve

    framing = "urn:ietf:params:xml:ns:xmpp-framing"

    def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        token = (urllib.parse.parse_qs(urllib.parse.urlsplit(ws.request.path).query).get("token") or [None])[0]
        ok = False
        with contextlib.suppress(Exception):
            for message in ws:
                text = str(message)
                if text.startswith("<open"):
                    ws.send(f"<open xmlns='{framing}' from='meet.jitsi' id='w1' version='1.0'/>")
                    ws.send(BIND_FEATURES if ok else FEATURES)
                elif text.startswith("<auth"):
                    reply = _verdict_for(token)
                    ok = "<success" in reply
                    ws.send(reply)
                elif text.startswith("<iq"):
                    ws.send(BIND_RESULT)
                elif text.startswith("<close"):
                    ws.send(f"<close xmlns='{framing}'/>")
                    return

    server = serve(handler, "127.0.0.1", 0, subprotocols=["xmpp"])  # type: ignore[list-item]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.socket.getsockname()[1]
    finally:
        server.shutdown()
        thread.join(timeout=5)


def login_view(port: int, token: str | None, room: str | None = "MyRoom") -> JitsiView:
    env = {**ENV, "PUBLIC_URL": f"http://127.0.0.1:{port}"}
    ctx = view(env, token=Secret(token) if token else None, room=room)
    ctx.inspect = False
    return ctx


def test_the_token_logs_in_over_bosh_with_token_and_room_in_the_url() -> None:
    with token_bosh() as server:
        r = run(jwt.LOGIN_BOSH, login_view(server.server_address[1], GOOD_TOKEN))
    assert r.status is Status.PASS, r.summary
    assert r.facts[login.SUCCESS] is True and "8f1c0a@meet.jitsi" in r.summary
    assert server.rooms == ["myroom"]  # lowercased, as the web app joins
    assert GOOD_TOKEN not in repr(r)


def test_prosody_s_failure_text_is_reported_and_named() -> None:
    with token_bosh() as server:
        r = run(jwt.LOGIN_BOSH, login_view(server.server_address[1], "eyJ.x.y"))
    assert r.status is Status.FAIL and r.failure_id == "JWT-SIG"
    assert "<failure><not-allowed/> 'Invalid signature'" in r.summary
    assert r.facts[login.TEXT] == "Invalid signature"


def test_the_token_logs_in_over_websocket_and_a_bad_one_is_refused() -> None:
    with token_ws() as port:
        good = run(jwt.LOGIN_WEBSOCKET, login_view(port, GOOD_TOKEN))
        bad = run(jwt.LOGIN_WEBSOCKET, login_view(port, "eyJ.x.y"))
    assert good.status is Status.PASS, good.summary
    assert bad.status is Status.FAIL and bad.failure_id == "JWT-SIG"


def test_without_the_module_the_live_login_is_not_checked_never_passed() -> None:
    with token_bosh() as server:
        ctx = login_view(server.server_address[1], GOOD_TOKEN)
        ctx.values["_jwt_module_state"] = "missing"
        r = run(jwt.LOGIN_BOSH, ctx)
    assert r.status is Status.SKIP and r.summary.startswith("not checked")
    assert server.rooms == []  # nothing was sent


def test_no_token_no_login() -> None:
    r = run(jwt.LOGIN_BOSH, login_view(1, None))
    assert r.status is Status.SKIP and "no token" in r.summary


def test_failure_ids_from_prosody_s_texts() -> None:
    assert jwt.failure_id("token required") == "JWT-EMPTY"
    assert jwt.failure_id("Not acceptable by exp") == "JWT-EXP"
    assert jwt.failure_id("user is banned") == "XMPP-SASL"
    assert re.search(r"token=%E2%80%A6", jwt.token_url("http://x/http-bind", "…", None))


# --- the verdict ----------------------------------------------------------------------------------------------------

RULES = modes()["jwt"].verdict_rules


def ok(step_id: str, **facts: object) -> StepResult:
    return StepResult(id=step_id, title=step_id, status=Status.PASS, summary="x", facts=facts)


def fail(step_id: str, failure_id: str, **facts: object) -> StepResult:
    return StepResult(
        id=step_id, title=step_id, status=Status.FAIL, summary="s", failure_id=failure_id, hint="h", facts=facts
    )


def skip(step_id: str, summary: str) -> StepResult:
    return StepResult(id=step_id, title=step_id, status=Status.SKIP, summary=summary)


def test_verdict_order_settings_module_clock_token() -> None:
    chain = [
        fail(jwt.CONFIG, "JWT-SECRET-TOBOOL"),
        fail(jwt.MODULE, "JWT-MODULE"),
        fail(jwt.CLOCK, "JWT-CLOCK"),
        fail(jwt.TOKEN, "JWT-SIG"),
    ]
    for i, fid in enumerate(["JWT-SECRET-TOBOOL", "JWT-MODULE", "JWT-CLOCK", "JWT-SIG"]):
        verdict = decide(chain[i:], RULES)
        assert verdict is not None and verdict.failure_id == fid
    assert decide(chain, RULES).recreate  # type: ignore[union-attr]


def test_verdict_when_the_login_is_not_checked_does_not_claim_a_login() -> None:
    results = [
        ok(jwt.CONFIG),
        ok(jwt.TOKEN, **{jwt.TOKEN_OK: True}),
        skip(jwt.LOGIN_BOSH, "not checked: prosody's token module is not loaded"),
    ]
    verdict = decide(results, RULES)
    assert verdict is not None and verdict.failure_id is None
    assert "would accept" in verdict.cause and "not checked" in verdict.cause
    logged = decide([ok(jwt.CONFIG), ok(jwt.LOGIN_BOSH, **{login.SUCCESS: True})], RULES)
    assert logged is not None and "logs in" in logged.cause


def test_the_facts_exec_reports_the_container_s_clock() -> None:
    from ldapcheck.jitsi.container import facts as factsmod

    assert factsmod.parse("@@clock 1764633600.250000\n").clock == 1764633600.25
    assert factsmod.parse("@@clock \n").clock is None
    assert "@@clock" in factsmod.script() and "EPOCHREALTIME" in factsmod.script()


def test_package_host_lua_library_before_the_module_and_the_login() -> None:
    results = [
        fail("host.lua_libs", "HOST-LUA-LIB"),
        ok(jwt.CONFIG),
        fail(jwt.MODULE, "JWT-MODULE"),
        fail(jwt.LOGIN_BOSH, "XMPP-SASL"),
    ]
    verdict = decide(results, RULES)
    assert verdict is not None and verdict.failure_id == "HOST-LUA-LIB"
    assert decide(results[1:], RULES).failure_id == "JWT-MODULE"  # type: ignore[union-attr]
