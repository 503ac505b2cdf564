"""Util:verify_room, the room check mod_token_verification makes when a verified session joins a MUC room."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ldapcheck.auth.jwt import _lua as lua
from ldapcheck.auth.jwt._pattern import lua_match
from ldapcheck.core import catalogue as ids

if TYPE_CHECKING:
    from ldapcheck.auth.jwt.model import TokenConfig

UTIL = "token/util.lib.lua"
# (ok, error, reason, returned, deciding rule, detail)
Outcome = tuple[bool, str | None, str | None, tuple[object, ...] | None, str | None, str | None]


def jid_split(jid: str) -> tuple[str | None, str | None, str | None]:
    """prosody's util.jid.split (no stringprep)."""
    m = re.match(r"([^@/]+)@", jid)
    node, pos = (m.group(1), m.end()) if m else (None, 0)
    m = re.compile(r"[^@/]+").match(jid, pos)
    if m is None:
        return None, None, None
    resource = re.fullmatch(r"/(.+)", jid[m.end() :], re.DOTALL)
    if resource is None and m.end() < len(jid):
        return None, None, None
    return node, m.group(0), resource.group(1) if resource else None


def jid_join(node: object, host: str | None) -> str | None:
    if host is None:
        return None
    if node is None:
        return host
    try:
        return lua.concat_operand(node, "local 'node'") + "@" + host
    except lua.LuaError as exc:
        raise lua.LuaError(f"/usr/lib/prosody/util/jid.lua:76: {exc}") from None


def _refuse(rule: str, error: str, reason: str, detail: str | None = None) -> Outcome:
    return False, error, reason, (False, error, reason), rule, detail


def _raised(rule: str, line: int, exc: lua.LuaError, detail: str) -> Outcome:
    message = str(exc) if str(exc).startswith("/") else f"{UTIL}:{line}: {exc}"
    return False, "lua-error", message, None, rule, detail


def check_join(
    session: Mapping[str, object],
    anonymous: bool,
    config: TokenConfig,
    room_jid: str,
    tenant: str,
    room_exists: bool | None,
    allow_unauthenticated_access: bool | None,
) -> Outcome:
    def get(name: str) -> object:
        # Verification.session keeps a claim that was JSON null as None; absent keys were never set.
        return (lua.NULL if session[name] is None else session[name]) if name in session else None

    room, _, _ = jid_split(room_jid)
    if room is None:
        return _refuse(ids.JWT_JOIN, "invalid-room-address", "Room address is invalid")
    lookup = jid_join(room, config.muc_domain)
    node, host, _ = jid_split(room_jid)
    bare = f"{node}@{host}" if node is not None else host
    if not (room_exists if room_exists is not None else lookup is not None and lookup == bare):
        return _refuse(ids.JWT_JOIN, "room-does-not-exist", "Room does not exist", f"no room {lookup} on the MUC")
    if config.allow_empty_token and anonymous:
        if allow_unauthenticated_access is False:
            return _refuse(ids.JWT_JOIN, "authentication-required", "Authentication required")
        return True, None, None, (True,), None, "no token: allowed by allow_empty_token"

    auth_room = get("jitsi_meet_room")
    if isinstance(auth_room, str):
        auth_room = lua.lower(auth_room)
    if not config.enable_domain_verification:
        if lua.truthy(auth_room) and not lua.lua_eq(room, auth_room):
            try:
                ending = "]" + lua.concat_operand(auth_room, "local 'auth_room'")
            except lua.LuaError as exc:
                return _raised(ids.JWT_ROOM, 420, exc, "the room claim is not a string")
            if not room.endswith(ending) and not lua.lua_eq(auth_room, "*"):
                return _refuse(
                    ids.JWT_ROOM,
                    "room-mismatch",
                    "Room does not match the room from token",
                    f"room claim {auth_room!r}, joined room {room!r}",
                )
        return True, None, None, (True,), None, None

    match = re.fullmatch(r"\[([^\]]+)\](.+)", room, re.DOTALL)
    target_subdomain, target_room = (match.group(1), match.group(2)) if match else (None, room)
    room_to_check: object
    if lua.lua_eq(auth_room, "*"):
        room_to_check = target_room
    else:
        context_room = get("jitsi_meet_context_room")
        regex: object = None
        if lua.truthy(context_room):
            try:
                regex = lua.lua_index(context_room, "regex", "field 'jitsi_meet_context_room'")
            except lua.LuaError as exc:
                return _raised(ids.JWT_ROOM, 450, exc, "context.room is not an object")
        if lua.lua_eq(regex, True) or lua.lua_eq(regex, "true"):
            if not (isinstance(auth_room, str) or lua.lua_type(auth_room) == "number"):
                bad = lua.LuaError(f"bad argument #1 to 'match' (string expected, got {lua.argtype(auth_room)})")
                return _raised(ids.JWT_ROOM, 453, bad, "context.room.regex needs a string room claim")
            try:
                room_to_check = lua_match(target_room, lua.tostring(auth_room))
            except lua.LuaError as exc:
                return _raised(ids.JWT_ROOM, 453, exc, "the room claim is not a valid Lua pattern")
        else:
            room_to_check = auth_room
        if not lua.truthy(room_to_check):
            if not config.require_room_claim:
                return True, None, None, (True,), None, None
            return _refuse(
                ids.JWT_ROOM, "room-name-does-not-match", "Room name cannot be matched to the one from token."
            )

    str_tenant = get("jitsi_meet_str_tenant")
    if lua.truthy(str_tenant):
        try:
            token_tenant = lua.lower(str_tenant)
        except lua.LuaError as exc:
            return _raised(ids.JWT_TENANT, 474, exc, "context.tenant is not a string")
        if token_tenant != tenant:
            if allow_unauthenticated_access is False:
                return (
                    False,
                    None,
                    None,
                    (False,),
                    ids.JWT_TENANT,
                    f"token tenant {token_tenant!r}, URL tenant {tenant!r}",
                )
            user = get("jitsi_meet_context_user")
            if lua.truthy(user):  # the warning it logs reads context.user.id
                try:
                    lua.lua_index(user, "id", "field 'jitsi_meet_context_user'")
                except lua.LuaError as exc:
                    return _raised(ids.JWT_TENANT, 482, exc, "context.tenant differs and context.user is not an object")
    try:
        auth_domain = lua.lower(get("jitsi_meet_domain"))
    except lua.LuaError as exc:
        return _raised(ids.JWT_SUB, 487, exc, "domain verification is on and the token has no string 'sub'")

    try:
        if target_subdomain is not None:
            subdomain = target_subdomain if auth_domain == "*" else auth_domain
            if config.muc_mapper_domain_base is None:
                return _refuse(
                    ids.JWT_SUB,
                    "server-missing-config",
                    "Misconfiguration of server",
                    "tenant rooms need muc_mapper_domain_base",
                )
            try:
                expected = jid_join(
                    f"[{subdomain}]" + lua.concat_operand(room_to_check, "local 'room_to_check'"), config.muc_domain
                )
            except lua.LuaError as exc:
                return _raised(ids.JWT_ROOM, 505, exc, "the room claim is not a string")
        else:
            subdomain = config.muc_domain if auth_domain == "*" else f"{config.muc_mapper_domain_prefix}.{auth_domain}"
            expected = jid_join(room_to_check, subdomain)
    except lua.LuaError as exc:
        return _raised(ids.JWT_ROOM, 516, exc, "the room claim is not a string")
    if expected is not None and expected == bare:
        return True, None, None, (True,), None, None
    rule = ids.JWT_SUB if lua.lua_eq(room_to_check, target_room) else ids.JWT_ROOM
    return False, None, None, (False,), rule, f"prosody compares {bare} with {expected}"
