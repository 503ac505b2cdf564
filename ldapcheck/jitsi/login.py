"""A real login as the browser does it (auth-modes.md §6): BOSH and WebSocket through the web container at
PUBLIC_URL, c2s straight to prosody, and the guest's ANONYMOUS login on the guest host when guests are on.

The password is tried once per run: on the first transport that answers (BOSH, else WebSocket, else c2s); the
other transports only open a stream and report the mechanisms they offer. The `<failure>` condition and text
are reported verbatim, in the step's facts for the verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ldapcheck.adapters import xmpp
from ldapcheck.core import catalogue as ids
from ldapcheck.core import facts as fact
from ldapcheck.core.step import CheckFailed, Outcome, Step, StepSkipped
from ldapcheck.jitsi.deployment import JitsiView

BOSH = "xmpp.login.bosh"
WEBSOCKET = "xmpp.login.websocket"
C2S = "xmpp.login.c2s"
GUEST = "xmpp.login.guest"
EXPERIENCE = "jitsi.experience"
# Facts of a login step (read by the verdict rules).
TRANSPORT = "xmpp.transport"
ATTEMPT = "xmpp.attempt"  # "password" (the one attempt), "probe" (mechanisms only), "anonymous"
CONDITION = "xmpp.condition"
TEXT = "xmpp.text"
SUCCESS = "xmpp.success"
PASSWORD_MECHS = ("PLAIN", "SCRAM-SHA-1")
_ATTEMPTED = "_password_attempted"
_TRIED_BY = "_password_tried_by"
_REJECTED = "_password_rejected"


def password_tried(ctx: JitsiView, step_id: str, *, rejected: bool = False) -> None:
    """Another step of this run already tried the password (the LDAP path: the host's bind, saslauthd over its
    socket): the login steps then only read the mechanisms each transport offers, so the password is tried once
    per run in total. `rejected`: that step's answer was a refusal (said so in the transports' summaries)."""
    ctx.values[_ATTEMPTED] = True
    ctx.values[_TRIED_BY] = step_id
    ctx.values[_REJECTED] = rejected


def c2s_endpoint(ctx: JitsiView) -> tuple[str, int]:
    """Where prosody's c2s listens, as seen from here: 127.0.0.1 on a host-network container, else its IP."""
    if not ctx.inspect:
        raise StepSkipped("not checked: --no-container (prosody's c2s address is read from its container)")
    if ctx.session.kind == "host":
        return "127.0.0.1", int(ctx.session.env().get("C2S_PORT") or 5222)  # prosody runs on this host
    try:
        container = ctx.session.require_container()
    except Exception:
        raise StepSkipped("not checked: the prosody container was not found") from None
    attrs: dict[str, Any] = container.attrs or {}
    port = int(ctx.session.env().get("C2S_PORT") or 5222)
    if (attrs.get("HostConfig") or {}).get("NetworkMode") == "host":
        return "127.0.0.1", port
    networks = (attrs.get("NetworkSettings") or {}).get("Networks") or {}
    for net in networks.values():
        if net.get("IPAddress"):
            return str(net["IPAddress"]), port
    return "127.0.0.1", port


def endpoint(ctx: JitsiView, transport: xmpp.Transport) -> str:
    """Where the browser (BOSH, WebSocket: through web at PUBLIC_URL) or a client (c2s) reaches prosody."""
    return _endpoint(ctx, transport)


def _endpoint(ctx: JitsiView, transport: xmpp.Transport) -> str:
    if transport is xmpp.Transport.C2S:
        host, port = c2s_endpoint(ctx)
        return f"{host}:{port}"
    missing = ctx.web_missing()
    if missing is not None:
        raise StepSkipped(missing)
    url = ctx.public_url()
    if not url:
        raise StepSkipped("not checked: no PUBLIC_URL in the .env or the web container")
    if transport is xmpp.Transport.BOSH:
        return f"{url}/http-bind"
    scheme, _, rest = url.partition("://")
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/xmpp-websocket"


# The deadline of one whole XMPP exchange (a login, or reading the offered mechanisms), from --timeout: a login is
# several round trips (BOSH session, SASL, restart, bind), one of which waits for prosody's password check (its
# directory lookup). Two lookups' worth keeps the former fixed 10 s at the default --timeout 5, and a web container
# or prosody that accepts and never answers is given up in proportion to what the user asked (2 s at --timeout 1).
LOGIN_DEADLINE_FACTOR = 2.0


def login_deadline(timeout: float) -> float:
    """The deadline of one XMPP login or mechanisms probe for --timeout (LOGIN_DEADLINE_FACTOR)."""
    return LOGIN_DEADLINE_FACTOR * timeout


def _password_login(ctx: JitsiView, transport: xmpp.Transport, endpoint: str) -> xmpp.LoginResult:
    assert ctx.login is not None and ctx.password is not None
    user, _, _ = ctx.login.partition("@")
    timeout = login_deadline(ctx.timeout)
    if transport is xmpp.Transport.C2S:
        host, _, port = endpoint.rpartition(":")
        return xmpp.login_c2s(host, int(port), ctx.domain, user, ctx.password.reveal(), bind=True, timeout=timeout)
    login = xmpp.login_bosh if transport is xmpp.Transport.BOSH else xmpp.login_websocket
    return login(endpoint, ctx.domain, user, ctx.password.reveal(), timeout=timeout)


def _login_run(transport: xmpp.Transport, failure_id: str) -> Callable[[JitsiView], Outcome]:
    def run(ctx: JitsiView) -> Outcome:
        switches = ctx.switches()
        if not switches.enabled:
            raise StepSkipped("ENABLE_AUTH is off: prosody's main host takes no password")
        if switches.main == "jwt":
            raise StepSkipped("token mode: the main host takes tokens, not passwords (see `ldapcheck token check`)")
        endpoint = _endpoint(ctx, transport)
        attempt = bool(ctx.login and ctx.password) and not ctx.values.get(_ATTEMPTED)
        facts: dict[str, object] = {TRANSPORT: str(transport), ATTEMPT: "password" if attempt else "probe"}
        via = "through the web container" if transport is not xmpp.Transport.C2S else "straight to prosody"
        detail: dict[str, object] = {"endpoint": endpoint, "domain": ctx.domain}
        try:
            if attempt:
                ctx.values[_ATTEMPTED] = True
                result = _password_login(ctx, transport, endpoint)
                mechanisms = result.mechanisms
            else:
                result = None
                mechanisms = xmpp.offered_mechanisms(
                    transport, endpoint, ctx.domain, timeout=login_deadline(ctx.timeout)
                )
        except xmpp.XmppError as exc:
            if exc.kind is xmpp.XmppErrorKind.NO_MECHANISM:
                raise CheckFailed(
                    ids.XMPP_NOMECH,
                    f"{ctx.domain} offers no password mechanism over {transport} "
                    f"(offered: {', '.join(exc.mechanisms) or 'none'})",
                    hint="The main VirtualHost runs another auth module than the mode needs: check ENABLE_AUTH and "
                    "AUTH_TYPE, and recreate prosody after changing them.",
                    detail={**detail, "mechanisms": list(exc.mechanisms)},
                    facts={**facts, fact.LINK: "xmpp", SUCCESS: False},
                ) from None
            if attempt:
                ctx.values[_ATTEMPTED] = False  # nothing reached prosody: the next transport may try
            if transport is xmpp.Transport.C2S and exc.kind in (xmpp.XmppErrorKind.CONNECT, xmpp.XmppErrorKind.TIMEOUT):
                raise StepSkipped(
                    f"not checked: prosody's c2s port {endpoint} is not reachable from here ({exc.text})"
                ) from None
            fid = failure_id if transport is not xmpp.Transport.C2S else ids.XMPP_SASL
            raise CheckFailed(
                fid,
                f"{transport} {via} failed before any login: {exc.text}"
                + (f" ({exc.condition})" if exc.condition else ""),
                hint=_transport_hint(transport),
                detail={**detail, "error": exc.kind.value, **({"condition": exc.condition} if exc.condition else {})},
                reproduce=_reproduce(transport, endpoint, ctx.domain),
                facts={**facts, fact.LINK: str(transport), ATTEMPT: "none", SUCCESS: False},
            ) from None
        detail["mechanisms"] = list(mechanisms)
        reproduce = _reproduce(transport, endpoint, ctx.domain)
        if result is None:
            offered = [m for m in PASSWORD_MECHS if m in mechanisms]
            if not offered:
                raise CheckFailed(
                    ids.XMPP_NOMECH,
                    f"{ctx.domain} offers {', '.join(mechanisms) or 'no mechanism'} over {transport}, no password "
                    "mechanism",
                    hint="The main VirtualHost runs another auth module than the mode needs: check ENABLE_AUTH and "
                    "AUTH_TYPE, and recreate prosody after changing them.",
                    detail=detail,
                    reproduce=reproduce,
                    facts={**facts, fact.LINK: "xmpp", SUCCESS: False},
                )
            by = ctx.values.get(_TRIED_BY)
            if not (ctx.login and ctx.password):
                why = "no --user given"
            elif ctx.values.get(_REJECTED):
                why = f"not logged in: the password was already rejected by {by}"
            else:
                why = "the password was tried once already" + (f", by {by}" if by else "")
            return Outcome(
                summary=f"{transport} {via} reaches {ctx.domain}: offers {', '.join(mechanisms)} ({why})",
                detail=detail,
                reproduce=reproduce,
                facts={**facts, SUCCESS: None},
            )
        detail["reply"] = result.raw_reply
        detail["seconds"] = round(result.seconds, 3)
        if result.success:
            return Outcome(
                summary=f"{ctx.login} logs in over {transport} {via}: <success/>, bound as {result.jid}",
                detail=detail,
                reproduce=reproduce,
                facts={**facts, SUCCESS: True},
            )
        text = f" '{result.text}'" if result.text else ""
        raise CheckFailed(
            ids.XMPP_SASL,
            f"prosody refused {ctx.login} over {transport}: <failure><{result.condition}/>{text}",
            hint="The condition says why: not-authorized is a wrong password or an unknown user (see the "
            "account step), account-disabled a disabled account.",
            detail=detail,
            reproduce=reproduce,
            facts={**facts, fact.LINK: "xmpp", SUCCESS: False, CONDITION: result.condition, TEXT: result.text},
        )

    return run


def _transport_hint(transport: xmpp.Transport) -> str:
    if transport is xmpp.Transport.BOSH:
        return (
            "nginx's /http-bind does not reach prosody's BOSH: check XMPP_BOSH_URL_BASE (default "
            "http://xmpp.meet.jitsi:5280), that web and prosody share a network, and any proxy in front of web."
        )
    if transport is xmpp.Transport.WEBSOCKET:
        return "Keep ENABLE_XMPP_WEBSOCKET=1 and let every proxy in front of web pass Upgrade/Connection headers."
    return "prosody's c2s port is not reachable from here (only BOSH/WebSocket may be published): not a login fault."


def _reproduce(transport: xmpp.Transport, endpoint: str, domain: str) -> str:
    if transport is xmpp.Transport.BOSH:
        return (
            f"curl -s -H 'Content-Type: text/xml' -d \"<body rid='1' to='{domain}' wait='10' hold='1' ver='1.6' "
            "xmlns='http://jabber.org/protocol/httpbind' xmlns:xmpp='urn:xmpp:xbosh' xmpp:version='1.0'/>\" "
            f"{endpoint}"
        )
    if transport is xmpp.Transport.WEBSOCKET:
        return f"browser devtools → Network → WS → {endpoint} (the <failure> frame)"
    stream = (
        f"<stream:stream to='{domain}' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
        "version='1.0'>"
    )
    return f'printf "{stream}" | nc -w3 {endpoint.replace(":", " ")}'


def _guest_run(ctx: JitsiView) -> Outcome:
    if not ctx.switches().guests:
        raise StepSkipped("guests are off (ENABLE_GUESTS): no anonymous login to try")
    guest = ctx.guest_domain
    transports = [xmpp.Transport.BOSH, xmpp.Transport.WEBSOCKET, xmpp.Transport.C2S]
    errors: list[str] = []
    for transport in transports:
        try:
            endpoint = _endpoint(ctx, transport)
        except StepSkipped:
            continue
        try:
            if transport is xmpp.Transport.C2S:
                host, _, port = endpoint.rpartition(":")
                result = xmpp.login_c2s(
                    host, int(port), guest, mechanism="ANONYMOUS", bind=True, timeout=login_deadline(ctx.timeout)
                )
            else:
                login = xmpp.login_bosh if transport is xmpp.Transport.BOSH else xmpp.login_websocket
                result = login(endpoint, guest, mechanism="ANONYMOUS", timeout=login_deadline(ctx.timeout))
        except xmpp.XmppError as exc:
            errors.append(f"{transport}: {exc.text}" + (f" ({exc.condition})" if exc.condition else ""))
            if exc.condition in ("improper-addressing", "host-unknown") or exc.kind is xmpp.XmppErrorKind.NO_MECHANISM:
                break  # prosody answered: another transport would say the same
            continue
        detail = {"endpoint": endpoint, "mechanisms": list(result.mechanisms), "reply": result.raw_reply}
        if result.success:
            return Outcome(
                summary=f"a guest logs in anonymously on {guest} over {transport}: bound as {result.jid}",
                detail=detail,
                facts={TRANSPORT: str(transport), ATTEMPT: "anonymous", SUCCESS: True},
            )
        errors.append(f"{transport}: <failure><{result.condition}/>")
        break
    if not errors:
        raise StepSkipped("not checked: no transport to the guest host")
    raise CheckFailed(
        ids.GUEST_NOHOST,
        f"the guest's anonymous login on {guest} fails: " + "; ".join(errors),
        hint=(
            f'Give prosody a `VirtualHost "{guest}"` with authentication = "anonymous" (linked into conf.d), the '
            f"same anonymousdomain in /etc/jitsi/meet/<host>-config.js; then `{ctx.session.apply_hint()}`."
            if ctx.session.kind == "host"
            else "Set ENABLE_AUTH=1 and ENABLE_GUESTS=1 for prosody and web, with the same XMPP_GUEST_DOMAIN; then "
            "`docker compose up -d`."
        ),
        detail={"errors": errors},
        facts={fact.LINK: "guest", ATTEMPT: "anonymous", SUCCESS: False},
    )


def _experience_run(ctx: JitsiView) -> Outcome:
    switches = ctx.switches()
    if switches.enabled and switches.main == "jwt":
        raise StepSkipped("token mode: who creates rooms and who waits is the mode's own step (jwt.rooms)")
    if not switches.enabled:
        return Outcome(
            summary="ENABLE_AUTH is off: nobody is asked for a password; anyone can create rooms",
            facts={fact.LOGIN_UNAFFECTED: True},
        )
    if switches.guests:
        return Outcome(
            summary="guests join without a password, and see 'Waiting for the host…' until an authenticated user "
            "creates the room ('I am the host' / ?login=true)",
            warn=True,
            failure_id=ids.GUEST_WAITING,
            hint="By design: a registered user opens the room first; then guests are let in.",
            facts={fact.LOGIN_UNAFFECTED: True},
        )
    return Outcome(
        summary="guests are off: everybody gets a password prompt when the page loads",
        warn=True,
        failure_id=ids.GUEST_OFF_PROMPT,
        hint=f"By design; turn guests on ({ctx.session.config_place('ENABLE_GUESTS')}; then "
        f"`{ctx.session.apply_hint()}`) if only room creators should log in."
        if ctx.session.kind == "host"
        else "By design; set ENABLE_GUESTS=1 (then `docker compose up -d`) if only room creators should log in.",
        facts={fact.LOGIN_UNAFFECTED: True},
    )


def steps() -> list[Step[JitsiView]]:
    """The browser's login over BOSH and WebSocket, c2s direct, the guest's login, and what users will see."""
    find = frozenset({"container.find"})
    return [
        Step(id=BOSH, title="Login over BOSH (web)", run=_login_run(xmpp.Transport.BOSH, ids.WEB_BOSH)),
        Step(
            id=WEBSOCKET,
            title="Login over WebSocket (web)",
            run=_login_run(xmpp.Transport.WEBSOCKET, ids.WEB_WS),
        ),
        Step(
            id=C2S, title="Login over c2s (prosody)", run=_login_run(xmpp.Transport.C2S, ids.XMPP_SASL), requires=find
        ),
        Step(id=GUEST, title="Guest login (anonymous)", run=_guest_run),
        Step(id=EXPERIENCE, title="What users will see", run=_experience_run),
    ]
