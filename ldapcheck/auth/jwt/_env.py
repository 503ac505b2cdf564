"""The token options docker-jitsi-meet's prosody template (conf.d/jitsi-meet.cfg.lua) renders from a .env.

Go text/template with jitsi/tpl v1.5.0: ``default`` replaces unset and empty values; ``toBool`` strips quotes, reads
ParseBool words and calls any other non-empty string true; a missing key prints ``<no value>``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ldapcheck.auth.jwt import _lua as lua
from ldapcheck.jitsi.tpl import to_bool

_LUA_ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34, "'": 39, "\n": 10}


def lua_string(raw: str, name: str) -> str:
    """The value prosody reads from ``"<raw>"`` in the rendered Lua config (escapes processed)."""
    out = bytearray()
    data = lua.s2b(raw)
    i = 0
    while i < len(data):
        c = data[i : i + 1]
        if c in (b'"', b"\n", b"\r"):
            raise ValueError(f"{name}: {c.decode()!r} in the value breaks the rendered prosody config")
        if c != b"\\":
            out += c
            i += 1
            continue
        nxt = data[i + 1 : i + 2].decode("latin-1")
        if nxt in _LUA_ESCAPES:
            out.append(_LUA_ESCAPES[nxt])
            i += 2
        elif m := re.match(rb"x([0-9a-fA-F]{2})", data[i + 1 :]):
            out.append(int(m.group(1), 16))
            i += 1 + m.end()
        elif (m := re.match(rb"[0-9]{1,3}", data[i + 1 :])) and int(m.group(0)) < 256:
            out.append(int(m.group(0)))
            i += 1 + m.end()
        elif nxt == "z":
            i += 2
            while data[i : i + 1] in (b" ", b"\t", b"\n", b"\v", b"\f", b"\r"):
                i += 1
        elif m := re.match(rb"u\{([0-9a-fA-F]{1,8})\}", data[i + 1 :]):
            out += chr(int(m.group(1), 16)).encode("utf-8", "surrogatepass")
            i += 1 + m.end()
        else:
            raise ValueError(f"{name}: invalid escape sequence '\\{nxt}' in the rendered prosody config")
    return lua.b2s(bytes(out))


def render_options(env: Mapping[str, str]) -> dict[str, object]:
    """The options of ``VirtualHost "<XMPP_DOMAIN>"`` (plus the global ones it inherits) that token/util reads."""

    def default(name: str, fallback: str) -> str:
        value = env.get(name)
        return fallback if value is None or value == "" else value

    auth_type = default("PROSODY_AUTH_TYPE", default("AUTH_TYPE", "internal"))
    if not to_bool(default("ENABLE_AUTH", "0")) or auth_type not in ("jwt", "hybrid_matrix_token"):
        raise ValueError("token authentication is not enabled (ENABLE_AUTH and AUTH_TYPE=jwt)")
    jwt = auth_type == "jwt"
    muc_domain = default("XMPP_MUC_DOMAIN", "muc.meet.jitsi")
    options: dict[str, object] = {
        "muc_mapper_domain_base": lua_string(default("XMPP_DOMAIN", "meet.jitsi"), "XMPP_DOMAIN"),
        "muc_mapper_domain_prefix": lua_string(muc_domain.split(".")[0], "XMPP_MUC_DOMAIN"),
        "app_id": lua_string(env.get("JWT_APP_ID", "<no value>"), "JWT_APP_ID"),
        "allow_empty_token": to_bool(default("JWT_ALLOW_EMPTY", "0")),
        "enable_domain_verification": to_bool(default("JWT_ENABLE_DOMAIN_VERIFICATION", "false")),
    }
    for var, option in (
        ("JWT_ACCEPTED_ISSUERS", "asap_accepted_issuers"),
        ("JWT_ACCEPTED_AUDIENCES", "asap_accepted_audiences"),
    ):
        if env.get(var):
            # splitList "," | compact, joined back into one Lua list: a list of only commas renders { "" }.
            options[option] = [lua_string(item, var) for item in [p for p in env[var].split(",") if p] or [""]]
    if jwt and env.get("JWT_SIGN_TYPE"):
        options["signature_algorithm"] = lua_string(env["JWT_SIGN_TYPE"], "JWT_SIGN_TYPE")
    if to_bool(default("JWT_APP_SECRET", "false")):  # a secret such as "false" or "0" is not rendered at all
        options["app_secret"] = lua_string(env["JWT_APP_SECRET"], "JWT_APP_SECRET")
    if jwt and env.get("JWT_ASAP_KEYSERVER"):
        options["asap_key_server"] = lua_string(env["JWT_ASAP_KEYSERVER"], "JWT_ASAP_KEYSERVER")
    return options


# The variable each rendered option comes from (for the operator: they edit the .env, not the Lua).
OPTION_SOURCES = {
    "muc_mapper_domain_base": "XMPP_DOMAIN",
    "muc_mapper_domain_prefix": "XMPP_MUC_DOMAIN",
    "app_id": "JWT_APP_ID",
    "allow_empty_token": "JWT_ALLOW_EMPTY",
    "enable_domain_verification": "JWT_ENABLE_DOMAIN_VERIFICATION",
    "asap_accepted_issuers": "JWT_ACCEPTED_ISSUERS",
    "asap_accepted_audiences": "JWT_ACCEPTED_AUDIENCES",
    "signature_algorithm": "JWT_SIGN_TYPE",
    "app_secret": "JWT_APP_SECRET",
    "asap_key_server": "JWT_ASAP_KEYSERVER",
}
SECRET_OPTIONS = frozenset({"app_secret"})


def differences(
    expected: Mapping[str, object], running: Mapping[str, object], *, where: str = "container"
) -> list[str]:
    """The rendered token options that differ, one line each: `JWT_APP_ID (app_id): .env 'a', container 'b'`.

    A secret option says only that it differs (or is rendered on one side only): never a character of it.
    """
    lines: list[str] = []
    for option, var in OPTION_SOURCES.items():
        want, have = expected.get(option), running.get(option)
        if want == have:
            continue
        label = f"{var} ({option})"
        if option in SECRET_OPTIONS:
            if want is None or have is None:
                side = ".env" if have is None else where
                lines.append(f"{label}: rendered only from the {side}'s value (not shown)")
            else:
                lines.append(f"{label} differs (not shown)")
            continue
        lines.append(f"{label}: .env {_shown(want)}, {where} {_shown(have)}")
    return lines


def _shown(value: object) -> str:
    return "(not rendered)" if value is None else repr(value)
