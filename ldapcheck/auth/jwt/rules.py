"""The checks prosody's token code makes, in its order, with a one-line fix for an administrator."""

from __future__ import annotations

from dataclasses import dataclass

from ldapcheck.core import catalogue as ids


@dataclass(frozen=True, kw_only=True)
class Rule:
    id: str
    title: str
    fix: str


# Login (mod_auth_token → token/util.lib.lua process_and_verify_token → luajwtjitsi.lib.lua verify), in order.
VERIFY_RULES: tuple[Rule, ...] = (
    Rule(
        id=ids.JWT_CONFIG,
        title="token settings load (Util.new at module load)",
        fix="Set JWT_APP_ID and a JWT_APP_SECRET that toBool reads as true, or JWT_ASAP_KEYSERVER; then recreate "
        "the prosody container.",
    ),
    Rule(
        id=ids.JWT_EMPTY,
        title="a token is present",
        fix="Pass the token (?jwt= on the page, ?token= on BOSH/WebSocket); set JWT_ALLOW_EMPTY=1 only if "
        "anonymous users are wanted.",
    ),
    Rule(
        id=ids.JWT_ASAP_HEADER,
        title="the part before the first '.' is a base64url JSON header (key server)",
        fix="Send the compact token itself (header.payload.signature), with no 'Bearer ' prefix or spaces.",
    ),
    Rule(
        id=ids.JWT_KID,
        title="the header has a 'kid' (key server)",
        fix="Put the key id in the header 'kid'; the key server serves it as "
        "<JWT_ASAP_KEYSERVER>/<sha256hex(kid)>.pem.",
    ),
    Rule(
        id=ids.JWT_KID_ALG,
        title="the header alg is RS256/RS384/RS512 (key server)",
        fix="With JWT_ASAP_KEYSERVER set, sign RS256/384/512 with the kid's private key; HS* tokens are refused "
        "even if JWT_APP_SECRET is set.",
    ),
    Rule(
        id=ids.JWT_KEYSERVER,
        title="the public key is fetched from the key server",
        fix="Serve the PEM public key at <JWT_ASAP_KEYSERVER>/<sha256hex(kid)>.pem (status 200), reachable from "
        "the prosody container.",
    ),
    Rule(
        id=ids.JWT_KEY,
        title="a verification key exists",
        fix="Set JWT_APP_SECRET (HS*) or JWT_ASAP_KEYSERVER (RS*).",
    ),
    Rule(
        id=ids.JWT_SIGNTYPE,
        title="the configured algorithm is one the Lua library has",
        fix="Set JWT_SIGN_TYPE to HS256/HS384/HS512 (secret) or RS256/RS384/RS512 (key server), or leave it unset.",
    ),
    Rule(
        id=ids.JWT_FORMAT,
        title="three base64url segments, header and payload JSON",
        fix="Send header.payload.signature in base64url: no 'Bearer ' prefix, no spaces, no '+' or '/'.",
    ),
    Rule(id=ids.JWT_TYP, title='the header typ is exactly "JWT"', fix='Add "typ": "JWT" to the header.'),
    Rule(
        id=ids.JWT_ALG,
        title="the header alg equals the configured algorithm",
        fix="Sign with the algorithm prosody expects: JWT_SIGN_TYPE, else HS256 with a secret, RS256 with a key "
        "server.",
    ),
    Rule(
        id=ids.JWT_SIG,
        title="the signature verifies",
        fix="Sign with exactly the JWT_APP_SECRET of the .env (HS*), or with the private key of the kid (RS*).",
    ),
    Rule(
        id=ids.JWT_NUMERIC,
        title="exp and nbf are numbers",
        fix="Write exp and nbf as JSON numbers of seconds since the epoch, not as strings.",
    ),
    Rule(
        id=ids.JWT_EXP,
        title="the token has not expired",
        fix="Issue a fresh token; prosody allows no clock skew, so sync the clocks (NTP) of the issuer and the host.",
    ),
    Rule(
        id=ids.JWT_NBF,
        title="the token is already valid (nbf)",
        fix="Set nbf a little in the past, or fix the clock of the issuer or of the prosody host.",
    ),
    Rule(
        id=ids.JWT_ISS,
        title="iss is an accepted issuer",
        fix="Set iss to JWT_APP_ID, or list it in JWT_ACCEPTED_ISSUERS (which replaces the app id default).",
    ),
    Rule(
        id=ids.JWT_AUD,
        title="aud is an accepted audience",
        fix="Add aud as a string; with JWT_ACCEPTED_AUDIENCES set it must be one of them (an array passes only "
        "with '*').",
    ),
    Rule(
        id=ids.JWT_ROOMCLAIM,
        title="the room claim is present",
        fix='Add "room": the room name (not the full JID), or "*" for any room.',
    ),
    Rule(
        id=ids.JWT_CONTEXT,
        title="context can be stored on the session",
        fix='Make context a JSON object such as {"user": {"id": "…", "name": "…"}}, or leave it out.',
    ),
)

# MUC join (mod_token_verification → token/util.lib.lua verify_room), in order.
JOIN_RULES: tuple[Rule, ...] = (
    Rule(
        id=ids.JWT_JOIN,
        title="the room address is valid and the room exists on the MUC component",
        fix="Join <room>@<XMPP_MUC_DOMAIN>; the MUC domain must be <label>.<XMPP_DOMAIN>.",
    ),
    Rule(
        id=ids.JWT_ROOM,
        title="the room claim allows this room",
        fix='Set room to the room name as it appears in the URL, lowercase, or "*".',
    ),
    Rule(
        id=ids.JWT_TENANT,
        title="context.tenant matches the URL tenant",
        fix="Set context.tenant to the tenant in the URL path, or drop it.",
    ),
    Rule(
        id=ids.JWT_SUB,
        title="sub matches the domain (domain verification)",
        fix='Set sub to XMPP_DOMAIN (e.g. meet.jitsi, not the public host name) or "*", or set '
        "JWT_ENABLE_DOMAIN_VERIFICATION=0.",
    ),
)

BY_ID: dict[str, Rule] = {rule.id: rule for rule in VERIFY_RULES + JOIN_RULES}
