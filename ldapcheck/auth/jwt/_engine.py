"""process_and_verify_token and the luajwtjitsi verify it calls, check by check, in prosody's order."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from ldapcheck.auth.jwt import _lua as lua
from ldapcheck.auth.jwt.model import SUPPORTED_ALGS, RuleStatus
from ldapcheck.core import catalogue as ids

if TYPE_CHECKING:
    from ldapcheck.auth.jwt.model import FetchKey, TokenConfig

UTIL = "token/util.lib.lua"
JWT = "luajwtjitsi.lib.lua"
# luaossl's pkey.new on bytes that are no PEM/DER key, as the image's OpenSSL (3.5) words it.
PKEY_NEW_ERROR = "pkey.new: decoder_lib.c:104:error:1E08010C:DECODER routines::unsupported"


class _Refused(Exception):
    def __init__(self, rule: str, returned: tuple[object, ...], detail: str | None = None) -> None:
        super().__init__(rule)
        self.rule, self.returned, self.detail = rule, returned, detail


class _Raised(Exception):
    def __init__(self, rule: str, message: str, detail: str) -> None:
        super().__init__(message)
        self.rule, self.message, self.detail = rule, message, detail


def _refuse(rule: str, reason: str, detail: str | None = None) -> _Refused:
    return _Refused(rule, (False, "not-allowed", reason), detail)


def _json_type(value: object) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "null" if value is lua.NULL else lua.lua_type(value)


def to_json(value: object, *, ints: bool = True) -> object:
    """Decoded Lua values as plain JSON data: None for cjson.null, optionally ints for whole floats."""

    def scalar(v: object) -> object:
        if v is lua.NULL:
            return None
        return int(v) if ints and isinstance(v, float) and v.is_integer() and abs(v) < 2**53 else v

    if not isinstance(value, dict | list):
        return scalar(value)
    # Iterative: cjson allows 1000 levels of nesting, as deep as Python's default recursion limit.
    out: dict[str, object] | list[object] = {} if isinstance(value, dict) else []
    stack: list[tuple[dict[str, object] | list[object], dict[str, object] | list[object]]] = [(value, out)]
    while stack:
        src, dst = stack.pop()
        for key, item in src.items() if isinstance(src, dict) else enumerate(src):
            child: object = scalar(item)
            if isinstance(item, dict | list):
                nested: dict[str, object] | list[object] = {} if isinstance(item, dict) else []
                stack.append((item, nested))
                child = nested
            if isinstance(dst, dict):
                dst[str(key)] = child
            else:
                dst.append(child)
    return out


class Run:
    """One process_and_verify_token call: the checks in prosody's order, each recorded as it is made."""

    def __init__(self, config: TokenConfig, now: float, fetch_key: FetchKey) -> None:
        self.config, self.time, self.fetch_key = config, math.floor(now), fetch_key
        self.status: dict[str, tuple[RuleStatus, str | None, str | None]] = {
            ids.JWT_CONFIG: (RuleStatus.PASSED, None, None)
        }
        self.log: list[str] = []
        self.header: object = None
        self.claims: object = None
        self.session: dict[str, object] = {}
        self.returned: tuple[object, ...] | None = None
        self.error: str | None = None
        self.reason: str | None = None
        self.failed: str | None = None
        self.detail: str | None = None

    def execute(self, token: str | None) -> None:
        try:
            self.returned = self.run(token)
        except _Refused as exc:
            self.returned, self.failed, self.detail = exc.returned, exc.rule, exc.detail
            self.error = str(exc.returned[1])
            self.reason = str(exc.returned[2]) if len(exc.returned) > 2 else None
            self.status[exc.rule] = (RuleStatus.FAILED, str(exc.returned[-1]), exc.detail)
        except _Raised as exc:
            self.failed, self.detail, self.error, self.reason = exc.rule, exc.detail, "lua-error", exc.message
            self.status[exc.rule] = (RuleStatus.ERROR, exc.message, exc.detail)

    def passed(self, *rules: str, detail: str | None = None) -> None:
        for rule in rules:
            self.status[rule] = (RuleStatus.PASSED, None, detail)

    def lua(self, rule: str, where: str, detail: str, call: Callable[[], object]) -> object:
        try:
            return call()
        except lua.LuaError as exc:
            raise _Raised(rule, f"{where}: {exc}" if where else str(exc), detail) from None

    def decode(self, rule: str, segment: str, where: str, part: str) -> object | None:
        raw, err = lua.from_url64(segment)
        if raw is None:  # basexx returns (nil, err), so cjson.safe.decode gets two arguments and raises
            raise _Raised(
                rule,
                f"{where}: bad argument #1 to 'decode' (expected 1 argument)",
                f"the {part} segment is not base64url: {err} (a 'Bearer ' prefix, whitespace, '+' or '/')",
            )
        try:
            return lua.cjson_decode(raw)
        except ValueError:
            return None

    def run(self, token: str | None) -> tuple[object, ...]:
        cfg = self.config
        if token is None:
            if cfg.allow_empty_token:
                self.passed(ids.JWT_EMPTY, detail="no token: accepted as an anonymous user (allow_empty_token)")
                return (True,)
            raise _refuse(ids.JWT_EMPTY, "token required")
        self.passed(ids.JWT_EMPTY)
        key = cfg.app_secret
        if cfg.asap_key_server is not None or cfg.cache_keys_url is not None:
            key = self.key_from_server(token)
        if key is None:
            raise _refuse(ids.JWT_KEY, "signature verification key is missing")
        self.passed(ids.JWT_KEY)
        self.verify_jwt(token, key)
        return self.bind_session()

    def key_from_server(self, token: str) -> str:
        dot = token.find(".")
        if dot < 0:
            raise _refuse(ids.JWT_ASAP_HEADER, "Invalid token", "no '.' in the token")
        header = self.decode(ids.JWT_ASAP_HEADER, token[:dot], f"{UTIL}:282", "header")
        if header is None:
            raise _refuse(ids.JWT_ASAP_HEADER, "bad token format", "the header is not JSON")
        self.header = header
        self.passed(ids.JWT_ASAP_HEADER)
        what = f"the header is a JSON {_json_type(header)}, not an object"
        kid = self.lua(ids.JWT_KID, f"{UTIL}:286", what, lambda: lua.lua_index(header, "kid", "local 'header'"))
        if kid is None:
            raise _refuse(ids.JWT_KID, "'kid' claim is missing")
        self.passed(ids.JWT_KID)
        alg = lua.lua_index(header, "alg", "local 'header'")
        if alg is None:
            raise _refuse(ids.JWT_KID_ALG, "'alg' claim is missing")
        if not isinstance(alg, str):
            message = (
                "attempt to call a nil value (field 'sub')"
                if isinstance(alg, dict | list)
                else (f"attempt to index a {lua.lua_type(alg)} value (local 'alg')")
            )
            raise _Raised(ids.JWT_KID_ALG, f"{UTIL}:294: {message}", f"'alg' is a JSON {_json_type(alg)}, not a string")
        if lua.s2b(alg)[:2] != b"RS":
            raise _refuse(ids.JWT_KID_ALG, "'kid' claim only support with RS family", f"alg is {alg!r}")
        self.passed(ids.JWT_KID_ALG)
        if not (isinstance(kid, str) or lua.lua_type(kid) == "number"):
            raise _Raised(
                ids.JWT_KEYSERVER,
                f"{UTIL}:234: bad argument #1 to 'sha256' (string expected, got {lua.argtype(kid)})",
                f"'kid' is a JSON {_json_type(kid)}, not a string",
            )
        if self.config.asap_key_server is None:  # cache_keys_url only, and this kid is not in its cache
            raise _Raised(
                ids.JWT_KEYSERVER,
                "/usr/lib/prosody/util/paths.lua:49: attempt to concatenate a nil value (local 'a')",
                "cache_keys_url is set but asap_key_server is not",
            )
        import hashlib

        kid_text = lua.tostring(kid)
        url = f"{self.config.asap_key_server}/{hashlib.sha256(lua.s2b(kid_text)).hexdigest()}.pem"
        status, body = self.fetch_key(url)
        if status in (200, 204):
            self.passed(ids.JWT_KEYSERVER, detail=f"fetched {url}")
            return body
        if status is None:
            self.log.append(f"warn: Timeout retrieving {kid_text} from {url}")
        else:
            self.log.append(f"warn: Error on GET request: Code {status}, Content {body}")
        raise _refuse(ids.JWT_KEYSERVER, "could not obtain public key", f"GET {url} answered {status or 'nothing'}")

    def verify_jwt(self, token: str, key: str) -> None:
        alg = self.config.algorithm
        if alg not in SUPPORTED_ALGS:
            raise _refuse(ids.JWT_SIGNTYPE, "Algorithm not supported", f"signature_algorithm is {alg!r}")
        self.passed(ids.JWT_SIGNTYPE)
        segments = re.findall(r"[^.\\]+", token)  # empty segments vanish; a backslash splits too
        if len(segments) != 3:
            raise _refuse(ids.JWT_FORMAT, "Invalid token", f"{len(segments)} non-empty segments, not 3")
        header = self.decode(ids.JWT_FORMAT, segments[0], f"{JWT}:76", "header")
        if header is None:
            raise _refuse(ids.JWT_FORMAT, "Invalid header", "the header is not JSON")
        self.header = header
        body = self.decode(ids.JWT_FORMAT, segments[1], f"{JWT}:81", "payload")
        if body is None:
            raise _refuse(ids.JWT_FORMAT, "Invalid body", "the payload is not JSON")
        self.claims = body
        sig, err = lua.from_url64(segments[2])
        if sig is None:
            where = (err or "").split(":")[0]  # not the character itself: nothing of the signature is echoed
            raise _refuse(ids.JWT_FORMAT, "Invalid signature", f"the signature segment is not base64url ({where})")
        self.passed(ids.JWT_FORMAT)
        what = f"the header is a JSON {_json_type(header)}, not an object"
        typ = self.lua(ids.JWT_TYP, f"{JWT}:205", what, lambda: lua.lua_index(header, "typ", "local 'header'"))
        if not lua.lua_eq(typ, "JWT"):
            raise _refuse(ids.JWT_TYP, "Invalid typ", f"typ is {to_json(typ)!r}")
        self.passed(ids.JWT_TYP)
        if not lua.lua_eq(lua.lua_index(header, "alg", ""), alg):
            raise _refuse(ids.JWT_ALG, "Invalid or incorrect alg", f"prosody expects {alg}")
        self.passed(ids.JWT_ALG)
        signing_input = lua.s2b(f"{segments[0]}.{segments[1]}")
        if not self.lua(
            ids.JWT_SIG, "", "the key is not a PEM/DER RSA key", lambda: _check_sig(alg, key, sig, signing_input)
        ):
            raise _refuse(ids.JWT_SIG, "Invalid signature")
        self.passed(ids.JWT_SIG)
        self.check_times(body)
        for rule, name, accepted in (
            (ids.JWT_ISS, "iss", self.config.issuers),
            (ids.JWT_AUD, "aud", self.config.audiences),
        ):
            claim = lua.lua_index(body, name, "")
            if claim is None:
                raise _refuse(rule, f"'{name}' claim is missing")
            if not any(lua.lua_eq(a, "*") or lua.lua_eq(claim, a) for a in accepted):
                raise _refuse(rule, f"invalid '{name}' claim", f"{name} is {to_json(claim)!r}; accepted: {accepted}")
            self.passed(rule)

    def check_times(self, body: object) -> None:
        what = f"the payload is a JSON {_json_type(body)}, not an object"
        exp = self.lua(ids.JWT_NUMERIC, f"{JWT}:219", what, lambda: lua.lua_index(body, "exp", "local 'body'"))
        nbf = lua.lua_index(body, "nbf", "")
        for name, value in (("exp", exp), ("nbf", nbf)):
            if lua.truthy(value) and lua.lua_type(value) != "number":
                raise _refuse(ids.JWT_NUMERIC, f"{name} must be number", f"{name} is a JSON {_json_type(value)}")
        self.passed(ids.JWT_NUMERIC)
        if isinstance(exp, float) and self.time >= exp:
            extra = ""
            iat = lua.lua_index(body, "iat", "")
            if lua.truthy(iat):
                what = f"'iat' is a JSON {_json_type(iat)}; the expiry message subtracts it from exp"
                span = self.lua(ids.JWT_EXP, f"{JWT}:231", what, lambda: lua.sub(exp, iat, "field 'iat'"))
                extra = f", valid for:{lua.tostring(span)} sec"
            since = lua.tostring(self.time - exp)
            raise _refuse(ids.JWT_EXP, f"Not acceptable by exp ({since} sec since expired{extra})")
        self.passed(ids.JWT_EXP)
        if isinstance(nbf, float) and self.time < nbf:
            raise _refuse(ids.JWT_NBF, "Not acceptable by nbf", f"nbf is {lua.tostring(nbf - self.time)} sec ahead")
        self.passed(ids.JWT_NBF)

    def bind_session(self) -> tuple[object, ...]:
        claims, session = self.claims, self.session
        room = lua.lua_index(claims, "room", "")
        if self.config.require_room_claim and room is None:
            raise _Refused(ids.JWT_ROOMCLAIM, (False, "'room' claim is missing"))
        self.passed(ids.JWT_ROOMCLAIM)
        for name, claim in (("room", "room"), ("domain", "sub"), ("auth_issuer", "iss")):
            session[f"jitsi_meet_{name}"] = lua.lua_index(claims, claim, "")
        context = lua.lua_index(claims, "context", "")
        if context is not None:
            what = f"'context' is a JSON {_json_type(context)}, not an object"
            tenant = self.lua(
                ids.JWT_CONTEXT, f"{UTIL}:340", what, lambda: lua.lua_index(context, "tenant", "field 'context'")
            )
            session["jitsi_meet_str_tenant"] = tenant
            for name in ("user", "group", "features", "room"):
                session[f"jitsi_meet_context_{name}"] = lua.lua_index(context, name, "")
        else:
            user_id = lua.lua_index(claims, "user_id", "")
            if lua.truthy(user_id):
                session["jitsi_meet_context_user"] = {"id": user_id}
        self.passed(ids.JWT_CONTEXT)
        return (True,)


def _check_sig(alg: str, key: str, sig: bytes, data: bytes) -> bool:
    import hashlib

    digest = getattr(hashlib, f"sha{alg[2:]}")
    if alg.startswith("HS"):
        import hmac

        return hmac.compare_digest(sig, hmac.new(lua.s2b(key), data, digest).digest())
    return _rsa_verify(lua.s2b(key), sig, data, alg)


def _rsa_verify(key: bytes, sig: bytes, data: bytes, alg: str) -> bool:
    # cryptography only here: the HS* path and importing this module never load it.
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    loaded: object = None
    # luaossl's pkey.new tries PEM public, PEM private, DER public, DER private; "" is the PEM passphrase.
    for load in (
        serialization.load_pem_public_key,
        lambda d: serialization.load_pem_private_key(d, None),
        serialization.load_der_public_key,
        lambda d: serialization.load_der_private_key(d, None),
    ):
        try:
            loaded = load(key)
            break
        except (ValueError, TypeError, UnsupportedAlgorithm):
            continue
    if isinstance(loaded, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        loaded = loaded.public_key()
    if loaded is None:
        raise lua.LuaError(PKEY_NEW_ERROR)
    hash_alg = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}[alg]
    try:
        if isinstance(loaded, rsa.RSAPublicKey):
            loaded.verify(sig, data, padding.PKCS1v15(), hash_alg)
        elif isinstance(loaded, ec.EllipticCurvePublicKey):
            # pkey:verify takes any key type; an EC key wants a DER ECDSA signature, else OpenSSL answers -1
            # without queueing an error, and luaossl raises this text.
            decode_dss_signature(sig)
            loaded.verify(sig, data, ec.ECDSA(hash_alg))
        else:
            raise ValueError("key type")
    except InvalidSignature:
        return False
    except ValueError:
        raise lua.LuaError("oops: no OpenSSL errors set") from None
    return True
