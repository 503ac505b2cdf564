"""The JWT verifier against outcomes recorded from jitsi-meet's Lua token code, plus its own API promises."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ldapcheck.auth.jwt import verify as jt
from ldapcheck.auth.jwt.keyserver import fetch_key
from ldapcheck.auth.jwt.mint import mint
from ldapcheck.core.secrets import looks_like_token

ROOT = Path(__file__).resolve().parents[4]
VECTORS = [
    json.loads(line)
    for line in (ROOT / "tests" / "vectors" / "jwt-verify.jsonl").read_text().splitlines()
    if line.strip()
]
SESSION_KEYS = ("jitsi_meet_room", "jitsi_meet_domain", "jitsi_meet_auth_issuer", "jitsi_meet_context_user")
NOW = 1767225600
SECRET = "jitsi-test-secret-0123456789abcdef"
DOCKER = jt.TokenConfig.from_prosody_options(
    {
        "app_id": "myapp",
        "app_secret": SECRET,
        "allow_empty_token": False,
        "enable_domain_verification": False,
        "muc_mapper_domain_base": "meet.jitsi",
        "muc_mapper_domain_prefix": "muc",
    }
)


def fake_key_server(files: dict[str, str], asked: list[str] | None = None) -> jt.FetchKey:
    def fetch(url: str) -> tuple[int | None, str]:
        if asked is not None:
            asked.append(url)
        return (200, files[url]) if url in files else (404, "Not Found")

    return fetch


def run_vector(v: dict[str, Any]) -> tuple[jt.TokenConfig, jt.Verification]:
    config = jt.TokenConfig.from_prosody_options(v["config"])
    return config, jt.verify(v["token"], config, v["now"], fetch_key=fake_key_server(v.get("key_server_files") or {}))


@pytest.mark.parametrize("v", VECTORS, ids=[v["id"] for v in VECTORS])
def test_vector(v: dict[str, Any]) -> None:
    config, result = run_vector(v)
    expected = v["expected"]
    assert (result.ok, result.stage, result.error, result.reason) == (
        expected["ok"],
        expected["stage"],
        expected["error"],
        expected["reason"],
    )
    if "returned" in expected:
        assert result.returned is not None
        assert list(result.returned) == expected["returned"]
    if "claims" in expected:
        assert {k: result.session.get(k) for k in expected["claims"]} == expected["claims"]
        assert {k for k in SESSION_KEYS if k in result.session} == {k for k in SESSION_KEYS if k in expected["claims"]}
    if "log" in expected:
        assert list(result.log) == expected["log"]
    if "join" in v["expected"]:
        join = jt.verify_room(result, config, v["join_room_jid"], tenant=v.get("join_tenant") or "")
        got: dict[str, Any] = {"ok": join.ok}
        if join.error == "lua-error":
            got.update(error=join.error, reason=join.reason)
        else:
            got["returned"] = list(join.returned or ())
        assert got == expected["join"]


@pytest.mark.parametrize("v", VECTORS, ids=[v["id"] for v in VECTORS])
def test_rules_tell_the_same_story(v: dict[str, Any]) -> None:
    _, result = run_vector(v)
    decisive = [r.id for r in result.rules if r.status in (jt.RuleStatus.FAILED, jt.RuleStatus.ERROR)]
    assert [r.id for r in result.rules][:2] == ["JWT-CONFIG", "JWT-EMPTY"]
    assert all(r.fix for r in result.rules)
    if result.ok:
        assert decisive == [] and result.failed_rule is None
        return
    assert decisive == [result.failed_rule]
    failed = next(r for r in result.rules if r.id == result.failed_rule)
    assert failed.reason == (result.reason if result.reason is not None else result.error)
    after = result.rules[[r.id for r in result.rules].index(failed.id) + 1 :]
    assert after and all(r.status is jt.RuleStatus.NOT_RUN for r in after)


ENV_VECTORS = [v for v in VECTORS if v["env"] is not None]


@pytest.mark.parametrize("v", ENV_VECTORS, ids=[v["id"] for v in ENV_VECTORS])
def test_from_env_renders_the_recorded_config(v: dict[str, Any]) -> None:
    assert jt.TokenConfig.from_env(v["env"]) == jt.TokenConfig.from_prosody_options(v["config"])


BASE_ENV = {"ENABLE_AUTH": "1", "AUTH_TYPE": "jwt", "JWT_APP_ID": "myapp", "JWT_APP_SECRET": SECRET}


@pytest.mark.parametrize(
    ("extra", "field", "value"),
    [
        ({"JWT_APP_SECRET": "false"}, "app_secret", None),  # toBool("false") is false: not rendered
        ({"JWT_APP_SECRET": "'0'"}, "app_secret", None),
        ({"JWT_APP_SECRET": ""}, "app_secret", None),
        ({"JWT_APP_SECRET": "no"}, "app_secret", "no"),  # not a ParseBool word: true, rendered as is
        ({"JWT_APP_SECRET": "a\\\\b"}, "app_secret", "a\\b"),  # a Lua string escape
        ({"JWT_APP_ID": ""}, "app_id", ""),
        ({"JWT_ACCEPTED_ISSUERS": "a,,b"}, "accepted_issuers", ("a", "b")),
        ({"JWT_ACCEPTED_ISSUERS": ","}, "accepted_issuers", ("",)),
        ({"JWT_ACCEPTED_AUDIENCES": "jitsi, other"}, "accepted_audiences", ("jitsi", " other")),
        ({"JWT_ALLOW_EMPTY": "yes"}, "allow_empty_token", True),
        ({"JWT_ENABLE_DOMAIN_VERIFICATION": '"0"'}, "enable_domain_verification", False),
        ({"XMPP_MUC_DOMAIN": "conference.example.org"}, "muc_mapper_domain_prefix", "conference"),
        ({"XMPP_DOMAIN": ""}, "muc_mapper_domain_base", "meet.jitsi"),
        ({"JWT_SIGN_TYPE": "HS512"}, "signature_algorithm", "HS512"),
        ({"JWT_ASAP_KEYSERVER": "https://k/asap"}, "asap_key_server", "https://k/asap"),
        ({"AUTH_TYPE": "hybrid_matrix_token", "JWT_ASAP_KEYSERVER": "https://k"}, "asap_key_server", None),
    ],
)
def test_from_env_follows_the_template(extra: dict[str, str], field: str, value: object) -> None:
    assert getattr(jt.TokenConfig.from_env({**BASE_ENV, **extra}), field) == value


def test_from_env_unset_app_id_renders_no_value() -> None:
    env = {k: v for k, v in BASE_ENV.items() if k != "JWT_APP_ID"}
    assert jt.TokenConfig.from_env(env).app_id == "<no value>"


@pytest.mark.parametrize(
    "env",
    [
        {**BASE_ENV, "ENABLE_AUTH": "0"},
        {**BASE_ENV, "AUTH_TYPE": "internal"},
        {**BASE_ENV, "JWT_APP_SECRET": 'se"cret'},  # would end the Lua string early
        {**BASE_ENV, "JWT_APP_SECRET": "se\\cret"},  # \c is no Lua escape: prosody cannot load its config
    ],
)
def test_from_env_refuses_what_prosody_would_not_load(env: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        jt.TokenConfig.from_env(env)


def sign(header: dict[str, Any] | str, payload: dict[str, Any] | str, secret: str = SECRET) -> str:
    def seg(part: dict[str, Any] | str) -> str:
        text = part if isinstance(part, str) else json.dumps(part, separators=(",", ":"))
        return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()

    signing_input = f"{seg(header)}.{seg(payload)}"
    mac = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


HS = {"alg": "HS256", "typ": "JWT"}
CLAIMS = {"iss": "myapp", "aud": "jitsi", "room": "*"}
GOOD = sign(HS, CLAIMS)
ASAP = jt.TokenConfig(app_id="myapp", app_secret=SECRET, asap_key_server="https://keys.example.test/asap")

# Each outcome below was recorded by running jitsi-meet's util.lib.lua + luajwtjitsi.lib.lua under lua5.4,
# lua-cjson 2.1.0 and basexx 0.4.1, with the same configuration, token and time.
LUA_RECORDED = [
    ("bearer-prefix", DOCKER, "Bearer " + GOOD, "lua-error",
     "luajwtjitsi.lib.lua:76: bad argument #1 to 'decode' (expected 1 argument)"),
    ("leading-space", DOCKER, " " + GOOD, "lua-error",
     "luajwtjitsi.lib.lua:76: bad argument #1 to 'decode' (expected 1 argument)"),
    ("trailing-space", DOCKER, GOOD + " ", "not-allowed", "Invalid signature"),
    ("plus-in-header", DOCKER, "+" + GOOD[1:], "lua-error",
     "luajwtjitsi.lib.lua:76: bad argument #1 to 'decode' (expected 1 argument)"),
    ("numeric-header", DOCKER, sign("123", CLAIMS), "lua-error",
     "luajwtjitsi.lib.lua:205: attempt to index a number value (local 'header')"),
    ("null-payload", DOCKER, sign(HS, "null"), "lua-error",
     "luajwtjitsi.lib.lua:219: attempt to index a userdata value (local 'body')"),
    ("string-payload", DOCKER, sign(HS, '"s"'), "not-allowed", "'iss' claim is missing"),
    ("empty-segments", DOCKER, GOOD.replace(".", ".."), None, None),
    ("backslash-splits", DOCKER, GOOD.replace(".", "\\", 1), None, None),
    ("four-segments", DOCKER, GOOD + ".x", "not-allowed", "Invalid token"),
    ("empty-string", DOCKER, "", "not-allowed", "Invalid token"),
    ("aud-null", DOCKER, sign(HS, {**CLAIMS, "aud": None}), None, None),
    ("room-null", DOCKER, sign(HS, {**CLAIMS, "room": None}), None, None),
    ("exp-null", DOCKER, sign(HS, {**CLAIMS, "exp": None}), "not-allowed", "exp must be number"),
    ("exp-false", DOCKER, sign(HS, {**CLAIMS, "exp": False}), None, None),
    ("exp-zero", DOCKER, sign(HS, {**CLAIMS, "exp": 0}), "not-allowed",
     "Not acceptable by exp (1767225600.0 sec since expired)"),
    ("iat-null", DOCKER, sign(HS, {**CLAIMS, "exp": 1, "iat": None}), "lua-error",
     "luajwtjitsi.lib.lua:231: attempt to perform arithmetic on a userdata value (field 'iat')"),
    ("iat-hex-string", DOCKER, sign(HS, {**CLAIMS, "exp": NOW - 1, "iat": " 0x10 "}), "not-allowed",
     "Not acceptable by exp (1.0 sec since expired, valid for:1767225583.0 sec)"),
    ("json-nan-inf", DOCKER, sign(HS, '{"iss":"myapp","aud":"jitsi","room":"*","exp":-inf,"iat":NaN}'),
     "not-allowed", "Not acceptable by exp (inf sec since expired, valid for:nan sec)"),
    ("json-hex-numbers", DOCKER, sign(HS, '{"iss":"myapp","aud":"jitsi","room":"*","exp":0x10,"iat":+1}'),
     "not-allowed", "Not acceptable by exp (1767225584.0 sec since expired, valid for:15.0 sec)"),
    ("json-nul-ends-text", DOCKER, sign(HS, '{"iss":"myapp","aud":"jitsi","room":"*"}\x00junk'), None, None),
    ("context-number", DOCKER, sign(HS, {**CLAIMS, "context": 5}), "lua-error",
     "token/util.lib.lua:340: attempt to index a number value (field 'context')"),
    ("hs256-with-key-server", ASAP, GOOD, "not-allowed", "'kid' claim is missing"),
    ("key-server-bearer", ASAP, "Bearer " + GOOD, "lua-error",
     "token/util.lib.lua:282: bad argument #1 to 'decode' (expected 1 argument)"),
    ("key-server-kid-bool", ASAP, sign({"alg": "RS256", "kid": True, "typ": "JWT"}, CLAIMS), "lua-error",
     "token/util.lib.lua:234: bad argument #1 to 'sha256' (string expected, got boolean)"),
    ("key-server-alg-array", ASAP, sign({"alg": [], "kid": "k", "typ": "JWT"}, CLAIMS), "lua-error",
     "token/util.lib.lua:294: attempt to call a nil value (field 'sub')"),
    ("key-server-leading-dot", ASAP, "." + GOOD, "not-allowed", "bad token format"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "config", "token", "error", "reason"), LUA_RECORDED, ids=[c[0] for c in LUA_RECORDED])
def test_lua_recorded(name: str, config: jt.TokenConfig, token: str, error: str | None, reason: str | None) -> None:
    result = jt.verify(token, config, NOW, fetch_key=fake_key_server({}))
    assert (result.error, result.reason, result.ok) == (error, reason, error is None)
    if error == "lua-error":
        failed = next(r for r in result.rules if r.id == result.failed_rule)
        assert failed.status is jt.RuleStatus.ERROR
        assert result.detail  # says which part of the token provoked it


def test_lua_error_names_the_part_of_the_token() -> None:
    result = jt.verify("Bearer " + GOOD, DOCKER, NOW)
    assert result.failed_rule == "JWT-FORMAT"
    assert result.detail is not None and "header segment" in result.detail and "' '" in result.detail


def test_room_null_is_stored_as_null() -> None:
    result = jt.verify(sign(HS, {**CLAIMS, "room": None}), DOCKER, NOW)
    assert result.ok and "jitsi_meet_room" in result.session and result.session["jitsi_meet_room"] is None


def test_array_aud_passes_only_with_star() -> None:
    token = sign(HS, {**CLAIMS, "aud": ["jitsi"]})
    assert jt.verify(token, DOCKER, NOW).ok
    strict = dataclasses.replace(DOCKER, accepted_audiences=("jitsi",))
    assert jt.verify(token, strict, NOW).reason == "invalid 'aud' claim"


def test_key_server_url_and_rs256_round_trip() -> None:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    kid = "myapp/key1"
    url = f"https://keys.example.test/asap/{hashlib.sha256(kid.encode()).hexdigest()}.pem"
    config = jt.TokenConfig(app_id="myapp", asap_key_server="https://keys.example.test/asap")

    def rs256(header: dict[str, Any], payload: dict[str, Any]) -> str:
        head, body = (base64.urlsafe_b64encode(json.dumps(x).encode()).rstrip(b"=").decode() for x in (header, payload))
        sig = key.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{head}.{body}.{base64.urlsafe_b64encode(sig).rstrip(b'=').decode()}"

    asked: list[str] = []
    header = {"alg": "RS256", "typ": "JWT", "kid": kid}
    result = jt.verify(rs256(header, CLAIMS), config, NOW, fetch_key=fake_key_server({url: pem.decode()}, asked))
    assert result.ok and asked == [url]
    forged = rs256(header, CLAIMS)[:-8] + "AAAAAAAA"
    assert jt.verify(forged, config, NOW, fetch_key=fake_key_server({url: pem.decode()})).reason == "Invalid signature"
    missing = jt.verify(rs256({**header, "kid": "other"}, CLAIMS), config, NOW, fetch_key=fake_key_server({}))
    assert (missing.reason, missing.failed_rule) == ("could not obtain public key", "JWT-KEYSERVER")
    assert missing.log == ("warn: Error on GET request: Code 404, Content Not Found",)


def test_hs_path_does_not_import_cryptography() -> None:
    code = (
        "import sys, ldapcheck.auth.jwt.verify as t, ldapcheck.auth.jwt.mint as m;"
        "assert 'cryptography' not in sys.modules;"
        f"c = t.TokenConfig(app_id='a', app_secret='s'); assert t.verify(m.mint(c, 'u', now={NOW}), c, {NOW}).ok;"
        "print('cryptography' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    "config",
    [
        DOCKER,
        dataclasses.replace(DOCKER, enable_domain_verification=True),
        dataclasses.replace(DOCKER, accepted_issuers=("web", "myapp"), accepted_audiences=("meet",)),
        dataclasses.replace(DOCKER, accepted_issuers=("web",), signature_algorithm="HS512"),
    ],
)
def test_mint_round_trip(config: jt.TokenConfig) -> None:
    token = mint(config, "alice", room="Room1", moderator=True, now=NOW)
    result = jt.verify(token, config, NOW + 10)
    assert result.ok, result.reason
    assert isinstance(result.claims, dict)
    assert result.claims["context"]["user"] == {"id": "alice", "name": "alice", "moderator": True}
    assert result.claims["moderator"] is True
    assert result.header == {"alg": config.algorithm, "typ": "JWT"}
    join = jt.verify_room(result, config, "room1@muc.meet.jitsi")
    assert join.ok, join.detail
    assert not jt.verify_room(result, config, "other@muc.meet.jitsi").ok
    assert jt.verify(token, config, NOW + 3600).failed_rule == "JWT-EXP"


def test_mint_refuses_what_it_cannot_sign() -> None:
    with pytest.raises(ValueError, match="RS256"):
        mint(jt.TokenConfig(app_id="a", asap_key_server="https://k"), "u")
    with pytest.raises(ValueError, match="app_id"):
        mint(jt.TokenConfig(app_secret="s"), "u")


def test_join_texts() -> None:
    config = dataclasses.replace(DOCKER, enable_domain_verification=True)
    accepted = jt.verify(sign(HS, {**CLAIMS, "sub": "meet.example.test", "room": "room1"}), config, NOW)
    refused = jt.verify_room(accepted, config, "room1@muc.meet.jitsi")
    assert (refused.ok, refused.rule, refused.client_text) == (False, "JWT-SUB", "Room and token mismatched")
    other = jt.verify_room(accepted, DOCKER, "other@muc.meet.jitsi")
    assert (other.error, other.client_text) == ("room-mismatch", "Room does not match the room from token")
    with pytest.raises(ValueError, match="accepted"):
        jt.verify_room(jt.verify(None, DOCKER, NOW), DOCKER, "room1@muc.meet.jitsi")


def every_object(v: dict[str, Any]) -> Iterator[object]:
    config, result = run_vector(v)
    yield config
    yield result
    yield from result.rules
    if result.ok and "join_room_jid" in v:
        yield jt.verify_room(result, config, v["join_room_jid"])


@pytest.mark.parametrize("v", VECTORS, ids=[v["id"] for v in VECTORS])
def test_no_secret_or_signature_in_repr(v: dict[str, Any]) -> None:
    secrets = [s for s in (v["config"].get("app_secret"),) if s]
    token = v["token"] or ""
    signature = token.split(".")[2] if token.count(".") == 2 else ""
    for obj in every_object(v):
        for text in (repr(obj), str(obj)):
            for secret in secrets:
                assert secret not in text
            if len(signature) > 8:
                assert signature not in text and signature[:16] not in text


def test_secret_is_out_of_repr_but_still_compared() -> None:
    assert SECRET not in repr(DOCKER)
    assert jt.TokenConfig(app_secret="a") != jt.TokenConfig(app_secret="b")


def test_looks_like_token_spans() -> None:
    text = f"GET /room1?jwt={GOOD}&lang=en HTTP/1.1 | token:{GOOD.rstrip('=')} | eyJnotatoken | a.b.c"
    spans = looks_like_token(text)
    assert [text[a:b] for a, b in spans] == [GOOD, GOOD]
    masked = text
    for a, b in reversed(spans):
        masked = masked[:a] + "***" + masked[b:]
    assert GOOD not in masked and "eyJnotatoken" in masked
    assert looks_like_token(f"x{GOOD}") == []  # glued to other base64url text: not a token start
    assert looks_like_token("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.") == [(0, 36)]


_RELEASE = threading.Event()  # /slow.pem answers only once the client has given up


class _KeyServer(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/slow.pem":
            _RELEASE.wait(timeout=30)
        body = {"/big.pem": b"x" * 70000, "/key.pem": b"PEM"}.get(self.path, b"nope")
        try:
            self.send_response(200 if self.path in ("/big.pem", "/key.pem", "/slow.pem") else 404)
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client of /slow.pem has given up
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_fetch_key_urllib_bounds() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _KeyServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert fetch_key(f"{base}/key.pem") == (200, "PEM")
        assert fetch_key(f"{base}/none.pem") == (404, "nope")
        assert fetch_key(f"{base}/big.pem")[0] == 0
        assert fetch_key(f"{base}/slow.pem", timeout=0.2) == (None, "")
        assert fetch_key("file:///etc/passwd")[0] == 0
    finally:
        _RELEASE.set()
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("depth", "ok"), [(999, True), (1000, False)])
def test_cjson_nesting_limit_and_safe_repr(depth: int, ok: bool) -> None:
    # the payload object is one level, so 999 arrays inside it reach cjson's limit of 1000 exactly
    payload = '{"iss":"myapp","aud":"jitsi","room":"*","d":' + "[" * depth + "]" * depth + "}"
    result = jt.verify(sign(HS, payload), DOCKER, NOW)
    assert (result.ok, result.reason) == (ok, None if ok else "Invalid body")
    assert len(repr(result)) < 10000  # decoded data stays out of repr
