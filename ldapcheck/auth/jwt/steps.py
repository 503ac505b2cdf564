"""The jwt mode's container steps for `ldapcheck diagnose` (auth-modes.md §1.2-1.5, §4.3, §6).

What the running deployment does with tokens: prosody's main host (`authentication = "token"`, `app_id`,
`app_secret` or `asap_key_server` as rendered), whether the token module loaded (prosody's log since its start),
the container's clock (prosody allows no leeway on `exp`/`nbf`), who creates rooms and who waits (guests,
`JWT_ALLOW_EMPTY`, `tokenAuthUrl`), who is a moderator (jicofo's `type = JWT`); with a token, the token against the
container's settings and clock, and the real login as the browser does it (BOSH and WebSocket with
`?token=…&room=…`, SASL ANONYMOUS), prosody's `<failure>` text verbatim.
"""

from __future__ import annotations

import re
import time
import urllib.parse
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ldapcheck.adapters import xmpp
from ldapcheck.auth.jwt.clock import ALLOWED, CLOCK_FIX, CLOCK_SKEW_MAX, CONTAINER_CLOCK, NO_CLOCK, read_clock
from ldapcheck.core import catalogue as ids
from ldapcheck.core import facts as fact
from ldapcheck.core.step import CheckFailed, Outcome, Step, StepSkipped
from ldapcheck.jitsi import jicofo, login, web
from ldapcheck.jitsi.container.session import ContainerSession
from ldapcheck.jitsi.container.steps import FIND
from ldapcheck.jitsi.deployment import JitsiView
from ldapcheck.jitsi.tpl import to_bool

CONFIG = "jwt.prosody_config"
MODULE = "jwt.module"
CLOCK = "jwt.clock"
ROOMS = "jwt.rooms"
MODERATORS = "jwt.moderators"
TOKEN = "jwt.token"
LOGIN_BOSH = "jwt.login.bosh"
LOGIN_WEBSOCKET = "jwt.login.websocket"
# Facts read by the verdict rules.
MODULE_STATE = "jwt.module_state"  # "missing" (not loadable), "config" (loaded, settings refused), "ok"
TOKEN_OK = "jwt.token_ok"
NOT_CHECKED = "jwt.not_checked"  # a live login that could not be judged (the module is absent)
_MODULE_VALUE = "_jwt_module_state"

# prosody's log lines that say the token module is not there or not working (auth-modes.md §4.3 JWT-LUA-DEPS).
_MODULE_ERRORS = (
    re.compile(r"Unable to load module '(auth_token|token_verification|jitsi_session)'[^\n]*"),
    re.compile(r"Error initializing module '(auth_token|token_verification|jitsi_session)'[^\n]*"),
    re.compile(r"module '(basexx|cjson\.safe|cjson|luajwtjitsi|inspect|net\.url|util\.lib)' not found[^\n]*"),
    re.compile(r"Could not load authentication provider[^\n]*token[^\n]*"),
    re.compile(r"No available SASL mechanisms, verify that the configured authentication module 'token'[^\n]*"),
)
_CONFIG_ERRORS = (
    re.compile(r"'app_id' must not be empty[^\n]*"),
    re.compile(r"'app_secret'[^\n]*must be specified[^\n]*"),
)
# prosody's refusal texts (token/util.lib.lua) → the catalogue id of the rule that gives it.
_FAILURE_TEXTS = (
    ("token required", ids.JWT_EMPTY),
    ("Invalid signature", ids.JWT_SIG),
    ("Not acceptable by exp", ids.JWT_EXP),
    ("Not acceptable by nbf", ids.JWT_NBF),
    ("alg", ids.JWT_ALG),
    ("Invalid typ", ids.JWT_TYP),
    ("'iss'", ids.JWT_ISS),
    ("'aud'", ids.JWT_AUD),
    ("'room'", ids.JWT_ROOMCLAIM),
    ("'kid'", ids.JWT_KID),
    ("public key", ids.JWT_KEYSERVER),
)


def _host(ctx: JitsiView) -> tuple[str, dict[str, str], Any]:
    parsed = ctx.prosody_config()
    if parsed is None:
        raise StepSkipped("not checked: no rendered prosody.cfg.lua in /run/prosody/config or /config")
    path, glob, hosts = parsed
    return path, glob, hosts.get(ctx.domain)


def _token_places(session: ContainerSession) -> str:
    """Where the admin of this deployment sets the token module's app_id and app_secret (or key server)."""
    places = [session.config_place(k) for k in ("JWT_APP_ID", "JWT_APP_SECRET", "JWT_ASAP_KEYSERVER")]
    return f"{places[0]} and {places[1]} (or {places[2]})"


def _config_run(ctx: JitsiView) -> Outcome:
    path, glob, host = _host(ctx)
    domain = ctx.domain
    env = ctx.env()
    session = ctx.session
    where = f"{path} /etc/prosody/conf.d/" if session.kind == "host" else path
    reproduce = session.shell(f"grep -rn -A12 'VirtualHost \"{domain}\"' {where}")
    apply = f"`{session.apply_hint()}`"
    want = env.get("JWT_AUTH_TYPE") or "token"
    detail: dict[str, object] = {"config": path}
    if host is None:
        raise CheckFailed(
            ids.JM_AUTH_TYPE,
            f'{path} has no VirtualHost "{domain}" (XMPP_DOMAIN)',
            hint=(
                f"Link the VirtualHost file of {domain} into /etc/prosody/conf.d, then {apply}."
                if session.kind == "host"
                else f"XMPP_DOMAIN must be the same in .env and in the container; recreate prosody: {apply}"
            ),
            detail=detail,
            reproduce=reproduce,
            facts={fact.LINK: "prosody", fact.GATE: "XMPP_DOMAIN"},
        )
    detail["authentication"] = host.authentication
    if host.authentication != want:
        gate = "ENABLE_AUTH" if not ctx.switches().enabled else "AUTH_TYPE"
        raise CheckFailed(
            ids.JM_AUTH_TYPE,
            f'VirtualHost "{domain}" uses authentication = "{host.authentication}", not "{want}" ({gate} as the '
            "container has it): tokens are not asked for",
            hint=(
                f'Set authentication = "{want}" on VirtualHost "{domain}" (jitsi-meet-tokens does), then {apply}.'
                if session.kind == "host"
                else f"Set ENABLE_AUTH=1 and AUTH_TYPE=jwt, then recreate prosody: {apply}"
            ),
            detail=detail,
            reproduce=reproduce,
            facts={fact.LINK: "prosody", fact.GATE: gate},
        )

    def option(name: str) -> str | None:
        value = host.settings.get(name)
        return value if value is not None else glob.get(name)

    app_id, secret, keyserver = option("app_id"), option("app_secret"), option("asap_key_server")
    detail["app_id"] = app_id if app_id is not None else "(not rendered)"
    detail["app_secret"] = "(rendered, not shown)" if secret else "(not rendered)"
    detail["asap_key_server"] = keyserver or "(not rendered)"
    raw_secret = env.get("JWT_APP_SECRET") or ""
    if raw_secret and not to_bool(raw_secret) and not secret:
        raise CheckFailed(
            ids.JWT_SECRET_TOBOOL,
            "the container has JWT_APP_SECRET, but docker-jitsi-meet's template passes it through toBool, which "
            f"reads it as false (a value like false/0/f/no): {path} has no app_secret, so no HS256 token can be "
            "verified",
            hint="Choose a secret that is not a boolean word (e.g. `openssl rand -hex 32`), set it as JWT_APP_SECRET "
            f"in .env and where tokens are signed, then recreate prosody: {apply}",
            detail=detail,
            reproduce=reproduce,
            facts={fact.LINK: "prosody", fact.GATE: "JWT_APP_SECRET"},
        )
    problem = None
    if not app_id:
        problem = "no app_id: prosody's token module logs \"'app_id' must not be empty\" and turns itself off"
    elif app_id == "<no value>":
        problem = 'app_id = "<no value>": JWT_APP_ID was unset when the template rendered (tokens would need that iss)'
    elif not secret and not keyserver:
        problem = "neither app_secret nor asap_key_server: the token module turns itself off"
    if problem is not None:
        raise CheckFailed(
            ids.JWT_CONFIG,
            f'VirtualHost "{domain}" ({path}): {problem}',
            hint=f"Set {_token_places(session)}, then {apply}.",
            detail=detail,
            reproduce=reproduce,
            facts={fact.LINK: "prosody", fact.GATE: "JWT_APP_ID" if "app_id" in problem else "JWT_APP_SECRET"},
        )
    key = "app_secret (not shown)" if secret else f'asap_key_server = "{keyserver}"'
    return Outcome(
        summary=f'VirtualHost "{domain}": authentication = "{want}", app_id = "{app_id}", {key} ({path})',
        detail=detail,
        reproduce=reproduce,
    )


def _module_run(ctx: JitsiView) -> Outcome:
    session = ctx.session
    session.require_container()
    # Since prosody's last start: an error logged before a fix and a restart is not today's.
    text = session.logs(since=session.started_at() or time.time() - 24 * 3600, tail=5000)
    reproduce = f"{session.logs_command()} 2>&1 | grep -n -i 'token\\|basexx\\|cjson\\|app_id\\|app_secret'"
    missing = [m.group(0).strip() for p in _MODULE_ERRORS for m in p.finditer(text)]
    refused = [m.group(0).strip() for p in _CONFIG_ERRORS for m in p.finditer(text)]
    detail: dict[str, object] = {"log lines read": len(text.splitlines())}
    if missing:
        ctx.values[_MODULE_VALUE] = "missing"
        detail["log"] = list(dict.fromkeys(missing))[:5]
        raise CheckFailed(
            ids.JWT_MODULE,
            f"prosody could not load jitsi-meet's token module: {missing[0]}",
            hint="The token module (mod_auth_token, token/util.lib.lua, luajwtjitsi.lib.lua) and its Lua libraries "
            "(lua-basexx, lua-cjson for prosody's Lua version) must be on prosody's plugin_paths: "
            + (
                "`sudo apt install jitsi-meet-tokens` (it brings jitsi-meet-prosody), then "
                f"`{session.apply_hint()}` (see host.lua_libs for the Lua libraries)."
                if session.kind == "host"
                else "use docker-jitsi-meet's prosody image, or install jitsi-meet-tokens/jitsi-meet-prosody on Debian."
            ),
            detail=detail,
            reproduce=reproduce,
            facts={fact.LINK: "prosody", MODULE_STATE: "missing"},
        )
    if refused:
        ctx.values[_MODULE_VALUE] = "config"
        detail["log"] = list(dict.fromkeys(refused))[:5]
        raise CheckFailed(
            ids.JWT_CONFIG,
            f"prosody's token module refused its settings at start: {refused[0]} (token authentication is off)",
            hint=f"Set {_token_places(session)}, then `{session.apply_hint()}`.",
            detail=detail,
            reproduce=reproduce,
            facts={fact.LINK: "prosody", MODULE_STATE: "config"},
        )
    ctx.values[_MODULE_VALUE] = "ok"
    if "empty tokens allowed" in text:
        detail["log"] = ["WARNING - empty tokens allowed"]
    return Outcome(
        summary="prosody's log since its start has no token-module error (no 'Unable to load module', "
        "'Error initializing module', 'not found', 'must not be empty')",
        detail=detail,
        reproduce=reproduce,
        facts={MODULE_STATE: "ok"},
    )


def _container_now(ctx: JitsiView) -> tuple[float, str]:
    """The container's clock now (its facts' reading carried forward), else this host's."""
    if ctx.inspect:
        try:
            clock = read_clock(ctx.session)
        except Exception:
            clock = None
        if clock is not None:
            return clock.now(), CONTAINER_CLOCK
    return time.time(), "this host's clock (the container's was not read)"


def _clock_run(ctx: JitsiView) -> Outcome:
    if ctx.session.kind == "host":
        return _host_clock()
    clock = read_clock(ctx.session)
    if clock is None:
        raise StepSkipped(f"not checked: {NO_CLOCK}")
    off = clock.skew
    detail: dict[str, object] = {
        "container": datetime.fromtimestamp(clock.reading).astimezone().isoformat(timespec="seconds"),
        "skew seconds": round(off, 3),
        "allowed": ALLOWED,
    }
    reproduce = f"date -u +%s; {ctx.session.shell('date -u +%s')}"
    if abs(off) > CLOCK_SKEW_MAX:
        way = "ahead of" if off > 0 else "behind"
        raise CheckFailed(
            ids.JWT_CLOCK,
            f"the prosody container's clock is {abs(off):.1f} s {way} this host's: prosody checks exp and nbf with "
            "no leeway, so fresh tokens fail 'Not acceptable by nbf' and expiring ones 'Not acceptable by exp'",
            hint=CLOCK_FIX,
            detail=detail,
            reproduce=reproduce,
            facts={fact.LINK: "clock"},
        )
    return Outcome(
        summary=f"the container's clock agrees with this host's ({abs(off):.1f} s apart; prosody allows no leeway)",
        detail=detail,
        reproduce=reproduce,
    )


def _host_clock() -> Outcome:
    """On a package install prosody reads the very clock ldapcheck reads: no skew between them to measure. What
    matters then is that this clock is right (NTP), which a token signer elsewhere relies on."""
    now = datetime.now().astimezone().isoformat(timespec="seconds")
    return Outcome(
        summary="prosody runs on this host: it reads the clock ldapcheck reads (no skew between them); not checked: "
        "whether this clock agrees with the token signer's (NTP)",
        detail={"this host": now, "allowed": ALLOWED},
        reproduce="timedatectl show -p NTPSynchronized; date -u +%s",
    )


def _rooms_run(ctx: JitsiView) -> Outcome:
    switches = ctx.switches()
    if not switches.enabled:
        raise StepSkipped("ENABLE_AUTH is off: no token is asked for")
    env = ctx.env()
    allow_empty = to_bool(env.get("JWT_ALLOW_EMPTY") or "0")
    conf = web.config_js(ctx) if ctx.public_url() else None
    url = conf.token_auth_url if conf is not None else ""
    detail: dict[str, object] = {
        "ENABLE_GUESTS": switches.guests,
        "JWT_ALLOW_EMPTY": allow_empty,
        "tokenAuthUrl": url or ("(unset)" if conf is not None else "(config.js not read)"),
    }
    redirect = f"; tokenAuthUrl sends users without a token to {url} to get one" if url else ""
    facts = {fact.LOGIN_UNAFFECTED: True}
    if allow_empty:
        also = f" (guests on {ctx.guest_domain} too)" if switches.guests else ""
        return Outcome(
            summary="JWT_ALLOW_EMPTY is on: a user without a token logs in on the main host without one and, as "
            f"jicofo counts the main host as authenticated, creates rooms and becomes moderator{also}{redirect}",
            detail=detail,
            warn=True,
            failure_id=ids.JWT_EMPTY_CREATES,
            hint="If creating a room must need a token, set JWT_ALLOW_EMPTY=0 and ENABLE_GUESTS=1 (tokenless users "
            f"then wait for a token holder), then `{ctx.session.apply_hint()}`.",
            facts=facts,
        )
    if switches.guests:
        return Outcome(
            summary=f"guests are on: a user without a token joins as a guest on {ctx.guest_domain} and sees 'Waiting "
            f"for the host…' until a token holder creates the room; token holders create rooms{redirect}",
            detail=detail,
            warn=True,
            failure_id=ids.JWT_GUESTS_MIX,
            hint="By design. For 'everyone in, token optional' use JWT_ALLOW_EMPTY=1 with guests off instead.",
            facts=facts,
        )
    nobody = redirect.lstrip("; ") or "a user without a token gets 'Authentication failed' and cannot join"
    return Outcome(
        summary=f"only token holders get in (guests off, JWT_ALLOW_EMPTY off): {nobody}",
        detail=detail,
        facts=facts,
    )


def _moderators_run(ctx: JitsiView) -> Outcome:
    if not ctx.switches().enabled:
        raise StepSkipped("ENABLE_AUTH is off")
    path, auth = jicofo.read_auth(ctx)
    detail: dict[str, object] = {"file": path, "enabled": auth.enabled, "type": auth.type}
    if auth.enabled and auth.type == "JWT":
        return Outcome(
            summary="jicofo's authentication is type JWT: every user who logs in with a token becomes a moderator "
            "(owner); the token's 'moderator' claim is read by no default module",
            detail=detail,
            warn=True,
            failure_id=ids.JWT_ALL_MODERATOR,
            hint="To make only some token users moderators, add token_affiliation/token_moderation (jitsi-contrib "
            "prosody-plugins) through XMPP_MUC_MODULES and turn jicofo's auto-owner off.",
            facts={fact.LOGIN_UNAFFECTED: True},
        )
    raise StepSkipped(f"jicofo's authentication is {auth.type if auth.enabled else 'off'} (see jicofo.auth)")


def _token_config(ctx: JitsiView) -> Any:
    from ldapcheck.auth.jwt.model import TokenConfig

    try:
        return TokenConfig.from_env(ctx.env())
    except ValueError as exc:
        raise CheckFailed(
            ids.JWT_CONFIG,
            f"the container's token settings cannot be used: {exc}",
            hint=f"Fix {_token_places(ctx.session)} (`ldapcheck lint` for a .env), then `{ctx.session.apply_hint()}`.",
            facts={fact.LINK: "prosody"},
        ) from None


def _token_run(ctx: JitsiView) -> Outcome:
    from ldapcheck.auth.jwt.keyserver import fetch_key
    from ldapcheck.auth.jwt.rules import BY_ID
    from ldapcheck.auth.jwt.verify import verify, verify_room

    if ctx.token is None:
        raise StepSkipped("no token given (--token-stdin, or LDAPCHECK_TOKEN with --token)")
    config = _token_config(ctx)
    now, clock = _container_now(ctx)
    source = "the container's environment" if ctx.inspect else "the .env"
    if ctx.session.kind == "host":
        source, clock = "the main VirtualHost of this host's prosody config", "this host's clock (prosody's)"
    # A key server is given up after --timeout, as every other wait of diagnose (token check keeps the 5 s, prosody's).
    timeout = ctx.timeout
    v = verify(ctx.token.reveal(), config, now, fetch_key=lambda url: fetch_key(url, timeout=timeout))
    detail: dict[str, object] = {"settings from": source, "judged at": f"{time.strftime('%FT%TZ', time.gmtime(now))}"}
    detail["clock"] = clock
    if not v.ok:
        rule = v.failed_rule or ids.JWT_FORMAT
        reason = v.reason or v.error or "refused"
        raise CheckFailed(
            rule,
            f"prosody would refuse this token: {reason}" + (f" ({v.detail})" if v.detail else ""),
            hint=BY_ID[rule].fix if rule in BY_ID else "See `ldapcheck token check` for every rule.",
            detail=detail,
            reproduce="ldapcheck token check --env-file .env --token-stdin < token.txt",
            facts={fact.LINK: "token", TOKEN_OK: False},
        )
    if ctx.room:
        room_jid = f"{ctx.room.lower()}@{config.muc_domain}"
        detail["room"] = room_jid
        join = verify_room(v, config, room_jid)
        if not join.ok:
            rule = join.rule or ids.JWT_JOIN
            raise CheckFailed(
                rule,
                f"prosody accepts the login, but refuses the join of {room_jid}: {join.client_text or join.reason}",
                hint=join.fix or "Set the token's room claim to the room name (or '*').",
                detail=detail,
                facts={fact.LINK: "token", TOKEN_OK: False},
            )
    return Outcome(
        summary=f"prosody would accept this token ({source}, {clock})"
        + (f", and let it join {ctx.room.lower()}" if ctx.room else ""),
        detail=detail,
        facts={TOKEN_OK: True},
    )


def failure_id(text: str | None) -> str:
    """The catalogue id of prosody's refusal text (XMPP-SASL when it names no token rule)."""
    for needle, fid in _FAILURE_TEXTS:
        if text and needle in text:
            return fid
    return ids.XMPP_SASL


def token_url(endpoint: str, token: str, room: str | None) -> str:
    """The BOSH/WebSocket URL as lib-jitsi-meet builds it: `?token=…` (and `&room=…`)."""
    query = {"token": token, **({"room": room.lower()} if room else {})}
    sep = "&" if "?" in endpoint else "?"
    return endpoint + sep + urllib.parse.urlencode(query)


def _login_run(transport: xmpp.Transport, web_failure: str) -> Callable[[JitsiView], Outcome]:
    def run(ctx: JitsiView) -> Outcome:
        if ctx.token is None:
            raise StepSkipped("no token given (--token-stdin, or LDAPCHECK_TOKEN with --token): no login to try")
        state = ctx.values.get(_MODULE_VALUE)
        if state == "missing":
            raise StepSkipped(
                "not checked: prosody's token module is not loaded (JWT-MODULE, see jwt.module): no token login can "
                "succeed, whatever the token"
            )
        if state == "config":
            raise StepSkipped("not checked: prosody's token module turned itself off (JWT-CONFIG, see jwt.module)")
        base = login.endpoint(ctx, transport)
        url = token_url(base, ctx.token.reveal(), ctx.room)
        shown = token_url(base, "…", ctx.room)
        detail: dict[str, object] = {"endpoint": shown, "domain": ctx.domain, "mechanism": "ANONYMOUS"}
        facts: dict[str, object] = {login.TRANSPORT: str(transport), login.ATTEMPT: "token"}
        call = xmpp.login_bosh if transport is xmpp.Transport.BOSH else xmpp.login_websocket
        try:
            result = call(url, ctx.domain, mechanism="ANONYMOUS", timeout=login.login_deadline(ctx.timeout))
        except xmpp.XmppError as exc:
            if exc.kind is xmpp.XmppErrorKind.NO_MECHANISM:
                raise CheckFailed(
                    ids.JWT_MODULE,
                    f"{ctx.domain} offers {', '.join(exc.mechanisms) or 'no mechanism'} over {transport}, not "
                    "ANONYMOUS: the token module is not active on the main host",
                    hint=f"Check jwt.prosody_config and jwt.module; after fixing them: `{ctx.session.apply_hint()}`.",
                    detail={**detail, "mechanisms": list(exc.mechanisms)},
                    facts={**facts, fact.LINK: "xmpp", login.SUCCESS: False},
                ) from None
            raise CheckFailed(
                web_failure,
                f"{transport} through the web container failed before any login: {exc.text}"
                + (f" ({exc.condition})" if exc.condition else ""),
                hint="Fix the transport first (see xmpp.login.* and web.config_js).",
                detail={**detail, "error": exc.kind.value},
                facts={**facts, fact.LINK: str(transport), login.SUCCESS: False},
            ) from None
        detail["mechanisms"] = list(result.mechanisms)
        detail["reply"] = result.raw_reply
        if result.success:
            return Outcome(
                summary=f"the token logs in over {transport} through the web container: <success/>, bound as "
                f"{result.jid}",
                detail=detail,
                facts={**facts, login.SUCCESS: True},
            )
        text = f" '{result.text}'" if result.text else ""
        fid = failure_id(result.text)
        raise CheckFailed(
            fid,
            f"prosody refused the token over {transport}: <failure><{result.condition}/>{text}",
            hint="The text is prosody's reason (its log says `Error verifying token err:…, reason:…`); "
            "`ldapcheck explain " + fid + "` tells the fix.",
            detail=detail,
            facts={
                **facts,
                fact.LINK: "xmpp",
                login.SUCCESS: False,
                login.CONDITION: result.condition,
                login.TEXT: result.text,
            },
        )

    return run


def container_steps() -> list[Step[JitsiView]]:
    """Prosody's rendered token settings, the module, the clock, rooms and moderators, the token and its login."""
    find = frozenset({FIND})
    return [
        Step(id=CONFIG, title="Main host token settings", run=_config_run, requires=find),
        Step(id=MODULE, title="Token module loaded", run=_module_run, requires=find),
        Step(id=CLOCK, title="Container clock", run=_clock_run, requires=find),
        Step(id=ROOMS, title="Who creates rooms, who waits", run=_rooms_run),
        Step(id=MODERATORS, title="Who is moderator", run=_moderators_run, requires=find),
        Step(id=TOKEN, title="Token against the running settings", run=_token_run),
        Step(id=LOGIN_BOSH, title="Token login over BOSH (web)", run=_login_run(xmpp.Transport.BOSH, ids.WEB_BOSH)),
        Step(
            id=LOGIN_WEBSOCKET,
            title="Token login over WebSocket (web)",
            run=_login_run(xmpp.Transport.WEBSOCKET, ids.WEB_WS),
        ),
    ]
