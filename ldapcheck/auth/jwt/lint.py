"""`ldapcheck lint` rules of the JWT mode: what prosody's token module gets from the `.env` (auth-modes.md §1.2, §2.2).

They run only when the file asks for token authentication (AUTH_TYPE or PROSODY_AUTH_TYPE `jwt`). Messages never
quote JWT_APP_SECRET: they say what the template makes of it.
"""

from __future__ import annotations

from collections.abc import Iterator

from ldapcheck.auth.jwt.model import SUPPORTED_ALGS
from ldapcheck.core import catalogue as ids
from ldapcheck.jitsi.lint.model import Finding, LintContext, LintRule, Severity
from ldapcheck.jitsi.modes import auth_modes
from ldapcheck.jitsi.tpl import to_bool

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
RECREATE = "then `docker compose up -d --force-recreate prosody`"


def jwt_in_use(ctx: LintContext) -> bool:
    """Whether the file asks for token authentication."""
    return auth_modes(ctx.values).requested("jwt")


def _set(ctx: LintContext, key: str) -> bool:
    return bool(ctx.get(key))


def rule_app_id(ctx: LintContext) -> Iterator[Finding]:
    """JWT_APP_ID unset renders `app_id = "<no value>"`; empty renders `""`: no signer's iss matches either."""
    if not jwt_in_use(ctx) or _set(ctx, "JWT_APP_ID"):
        return
    rendered = '"<no value>"' if ctx.get("JWT_APP_ID") is None else "an empty string"
    yield ctx.finding(
        ids.JWT_CONFIG,
        E,
        "JWT_APP_ID",
        f"JWT_APP_ID is not set: the template renders app_id as {rendered}, so tokens are refused unless their "
        "iss is exactly that",
        f"set JWT_APP_ID to the iss your token signer writes, {RECREATE}",
    )


def rule_secret(ctx: LintContext) -> Iterator[Finding]:
    """No usable secret and no key server: Util.new refuses and the token module is off (JWT-CONFIG).

    A secret that toBool reads as false (`false`, `0`, `'0'`, `f`...) is not rendered at all (JWT-SECRET-TOBOOL).
    """
    if not jwt_in_use(ctx):
        return
    secret = ctx.get("JWT_APP_SECRET")
    keyserver = _set(ctx, "JWT_ASAP_KEYSERVER")
    if secret and not to_bool(secret):
        yield ctx.finding(
            ids.JWT_SECRET_TOBOOL,
            W if keyserver else E,
            "JWT_APP_SECRET",
            "JWT_APP_SECRET is a word toBool reads as false: the template does not write app_secret at all"
            + ("" if keyserver else ", so the token module has no key and refuses to load (every token login fails)"),
            f"choose a random secret (e.g. `ldapcheck env generate --auth jwt`), give it to the signer, {RECREATE}",
        )
    elif not secret and not keyserver:
        yield ctx.finding(
            ids.JWT_CONFIG,
            E,
            "JWT_APP_SECRET",
            "neither JWT_APP_SECRET nor JWT_ASAP_KEYSERVER is set: prosody's token module refuses to load "
            "(\"'app_secret' ... must be specified\") and every token login fails",
            f"set JWT_APP_SECRET (HS256 tokens) or JWT_ASAP_KEYSERVER (RS256 tokens), {RECREATE}",
        )
    if secret and to_bool(secret) and keyserver:
        yield ctx.finding(
            ids.JWT_KID_ALG,
            W,
            "JWT_ASAP_KEYSERVER",
            "both JWT_APP_SECRET and JWT_ASAP_KEYSERVER are set: the key server wins, so HS256 tokens signed with "
            "the secret are refused (\"'kid' claim is missing\")",
            f"keep one: the secret for HS256 tokens or the key server for RS256 tokens, {RECREATE}",
        )


def rule_rendered(ctx: LintContext) -> Iterator[Finding]:
    """Values the prosody config cannot hold (a `"`, a line break, an invalid escape) or an unknown JWT_SIGN_TYPE."""
    if not jwt_in_use(ctx) or not to_bool(ctx.get("ENABLE_AUTH") or "0"):
        return
    from ldapcheck.auth.jwt._env import lua_string

    for key in ("JWT_APP_ID", "JWT_APP_SECRET", "JWT_ACCEPTED_ISSUERS", "JWT_ACCEPTED_AUDIENCES", "JWT_ASAP_KEYSERVER"):
        value = ctx.get(key)
        if not value:
            continue
        try:
            lua_string(value, key)
        except ValueError as exc:
            what = "a character the Lua string cannot hold" if key in ctx.keys.secret else str(exc)
            yield ctx.finding(
                ids.JWT_CONFIG,
                E,
                key,
                f"{key} is written into prosody's Lua config inside double quotes and contains {what}: "
                "prosody cannot load that config",
                f"remove double quotes, backslashes and line breaks from {key}, {RECREATE}",
            )
    sign_type = ctx.get("JWT_SIGN_TYPE")
    if sign_type and sign_type not in SUPPORTED_ALGS:
        yield ctx.finding(
            ids.JWT_SIGNTYPE,
            E,
            "JWT_SIGN_TYPE",
            f"JWT_SIGN_TYPE={sign_type} is not one of {', '.join(SUPPORTED_ALGS)}: prosody answers 'Algorithm not "
            "supported' for every token",
            f"set JWT_SIGN_TYPE to the signer's algorithm or unset it (HS256 with a secret), {RECREATE}",
        )


def _list(value: str) -> list[str]:
    """splitList "," | compact, as the template renders asap_accepted_issuers/audiences (no trimming)."""
    return [p for p in value.split(",") if p] or [""]


def rule_accepted_lists(ctx: LintContext) -> Iterator[Finding]:
    """JWT_ACCEPTED_ISSUERS replaces the app id default; list items are not trimmed."""
    if not jwt_in_use(ctx):
        return
    app_id = ctx.get("JWT_APP_ID") or ""
    issuers = ctx.get("JWT_ACCEPTED_ISSUERS")
    if issuers and app_id and app_id not in _list(issuers) and "*" not in _list(issuers):
        yield ctx.finding(
            ids.JWT_ISS,
            W,
            "JWT_ACCEPTED_ISSUERS",
            f"JWT_ACCEPTED_ISSUERS does not list JWT_APP_ID ({app_id}): it replaces the default, so tokens with "
            f"iss={app_id} are refused (\"invalid 'iss' claim\")",
            f"add {app_id} to JWT_ACCEPTED_ISSUERS if your signer uses it, {RECREATE}",
        )
    for key, rule in (("JWT_ACCEPTED_ISSUERS", ids.JWT_ISS), ("JWT_ACCEPTED_AUDIENCES", ids.JWT_AUD)):
        value = ctx.get(key)
        if value and any(item != item.strip() for item in _list(value)):
            yield ctx.finding(
                rule,
                W,
                key,
                f"{key} has spaces around its items: the template splits at ',' without trimming, so ' x' "
                "only accepts a claim with that space",
                f"write {key} as a,b with no spaces, {RECREATE}",
            )


def rule_guests_and_empty(ctx: LintContext) -> Iterator[Finding]:
    """Who can create rooms: ENABLE_GUESTS and JWT_ALLOW_EMPTY together decide what tokenless users get."""
    if not jwt_in_use(ctx):
        return
    guests = auth_modes(ctx.values).guests
    allow_empty = to_bool(ctx.get("JWT_ALLOW_EMPTY") or "0")
    if guests and not allow_empty:
        yield ctx.finding(
            ids.JWT_GUESTS_MIX,
            INFO,
            "ENABLE_GUESTS",
            "ENABLE_GUESTS=1 with tokens: users without a token join as guests and wait until a token holder has "
            "created the room; only token holders create rooms",
            "nothing to do if that is wanted; for an optional token use JWT_ALLOW_EMPTY=1 with ENABLE_GUESTS=0",
        )
    elif allow_empty and not guests:
        yield ctx.finding(
            ids.JWT_EMPTY_CREATES,
            W,
            "JWT_ALLOW_EMPTY",
            "JWT_ALLOW_EMPTY=1 without guests: users without a token log in on XMPP_DOMAIN, jicofo treats them as "
            "authenticated, so anyone can create rooms and the token is optional",
            "if creating a room must need a token, set JWT_ALLOW_EMPTY=0 and ENABLE_GUESTS=1, then "
            "`docker compose up -d`",
        )
    elif allow_empty and guests:
        yield ctx.finding(
            ids.JWT_EMPTY_CREATES,
            W,
            "JWT_ALLOW_EMPTY",
            "JWT_ALLOW_EMPTY=1 with guests: the web app sends tokenless users to the guest domain (they wait for a "
            "host), but a client that connects to XMPP_DOMAIN without a token (e.g. with ?login=true) is let in "
            "and may create rooms",
            "set JWT_ALLOW_EMPTY=0 so that only token holders create rooms, then `docker compose up -d`",
        )


RULES: tuple[LintRule, ...] = (rule_app_id, rule_secret, rule_rendered, rule_accepted_lists, rule_guests_and_empty)
