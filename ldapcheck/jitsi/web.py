"""The web container's view of auth: `config.js` (hosts.domain, anonymousdomain, authdomain, bosh, websocket),
as the browser reads it from `<PUBLIC_URL>/config.js` (auth-modes.md §1.5), and the guest host it names.
"""

from __future__ import annotations

from ldapcheck.adapters.http import http_get
from ldapcheck.core import catalogue as ids
from ldapcheck.core import facts as fact
from ldapcheck.core.step import CheckFailed, Outcome, Step, StepSkipped
from ldapcheck.jitsi.configjs import ConfigJs, parse_config_js
from ldapcheck.jitsi.deployment import JitsiView

CONFIG_JS = "web.config_js"
GUEST_HOST = "jitsi.guest_host"


def config_js(ctx: JitsiView) -> ConfigJs | None:
    """config.js from PUBLIC_URL (memoised in the view's values; None when it cannot be fetched)."""
    key = "_config_js"
    if key not in ctx.values and ctx.session.kind == "host":
        found = ctx.session.web_config()
        ctx.values[key] = parse_config_js(found[1]) if found is not None else None
    if key not in ctx.values:
        url = ctx.public_url() if ctx.web_missing() is None else ""
        answer = http_get(f"{url}/config.js", timeout=ctx.timeout, limit=1 << 20) if url else None
        ctx.values[key] = (
            parse_config_js(answer.body.decode("utf-8", "replace")) if answer and answer.status == 200 else None
        )
    value = ctx.values[key]
    return value if isinstance(value, ConfigJs) else None


def _host_config_js_run(ctx: JitsiView) -> Outcome:
    found = ctx.session.web_config()
    conf = config_js(ctx)
    if found is None or conf is None:
        raise StepSkipped("not checked: no /etc/jitsi/meet/<host>-config.js on this host")
    path = found[0]
    detail: dict[str, object] = {
        "file": path,
        "hosts.domain": conf.domain or "(unset)",
        "hosts.anonymousdomain": conf.anonymousdomain or "(unset: no guests)",
        "bosh": conf.bosh or "(unset)",
    }
    reproduce = f"grep -n 'domain\\|anonymousdomain\\|bosh' {path}"
    parsed = ctx.prosody_config()
    hosts = parsed[2] if parsed is not None else {}
    if conf.domain and parsed is not None and conf.domain not in hosts:
        raise CheckFailed(
            ids.ENV_SPLIT,
            f"{path} names hosts.domain {conf.domain!r}, but prosody loads no VirtualHost of that name "
            f"(it serves {sorted(hosts)})",
            hint="Give config.js, jicofo's login-url and prosody's VirtualHost the same domain (and link the "
            "host's file into /etc/prosody/conf.d), then `sudo systemctl restart prosody`.",
            detail=detail,
            reproduce=reproduce,
            facts={fact.LINK: "web"},
        )
    guests = f", guests on {conf.anonymousdomain}" if conf.anonymousdomain else ", no guest domain"
    return Outcome(summary=f"domain {conf.domain or '?'}{guests} ({path})", detail=detail, reproduce=reproduce)


def _config_js_run(ctx: JitsiView) -> Outcome:
    if ctx.session.kind == "host":
        return _host_config_js_run(ctx)
    missing = ctx.web_missing()
    if missing is not None:
        raise StepSkipped(missing)
    url = ctx.public_url()
    if not url:
        raise StepSkipped("not checked: no PUBLIC_URL in the .env or the web container")
    conf = config_js(ctx)
    if conf is None:
        raise StepSkipped(f"not checked: {url}/config.js could not be fetched from here")
    detail: dict[str, object] = {
        "url": f"{url}/config.js",
        "hosts.domain": conf.domain or "(unset)",
        "hosts.anonymousdomain": conf.anonymousdomain or "(unset: no guests)",
        "bosh": conf.bosh or "(unset)",
        "websocket": conf.websocket or "(unset)",
    }
    if conf.domain and conf.domain != ctx.domain:
        raise CheckFailed(
            ids.ENV_SPLIT,
            f"config.js names hosts.domain {conf.domain!r}, prosody's XMPP_DOMAIN is {ctx.domain!r}",
            hint=f"Give web and prosody the same domain ({ctx.session.config_place('XMPP_DOMAIN')}), then "
            "`sudo systemctl reload nginx` and reload the page."
            if ctx.session.kind == "host"
            else "Give web and prosody the same XMPP_DOMAIN, then `docker compose up -d`.",
            detail=detail,
            reproduce=f"curl -s {url}/config.js | grep -n 'config.hosts'",
            facts={fact.LINK: "web"},
        )
    guests = f", guests on {conf.anonymousdomain}" if conf.anonymousdomain else ", no guest domain"
    return Outcome(
        summary=f"domain {conf.domain or '?'}{guests}",
        detail=detail,
        reproduce=f"curl -s {url}/config.js | grep -n 'config.hosts\\|config.bosh\\|config.websocket'",
    )


def _guest_host_run(ctx: JitsiView) -> Outcome:
    conf = config_js(ctx)
    switches = ctx.switches()
    named = conf.anonymousdomain if conf is not None else ""
    if not switches.guests and not named:
        raise StepSkipped("guests are off (ENABLE_GUESTS) and config.js names no anonymousdomain")
    parsed = ctx.prosody_config()
    if parsed is None:
        raise StepSkipped("not checked: no rendered prosody config found")
    path, _glob, hosts = parsed
    want = named or ctx.guest_domain
    host = hosts.get(want)
    detail: dict[str, object] = {"guest domain": want, "prosody hosts": sorted(hosts), "config": path}
    reproduce = ctx.session.shell(f"grep -n -A2 'VirtualHost' {path}")
    if host is None or host.authentication not in ("anonymous", "jitsi-anonymous"):
        what = "no VirtualHost" if host is None else f'authentication = "{host.authentication}" on'
        source = "web's config.js names" if named else "ENABLE_GUESTS asks for"
        apply = ctx.session.apply_hint()
        fix = (
            f'Add `VirtualHost "{want}"` with authentication = "anonymous" in /etc/prosody/conf.avail/'
            f"<host>.cfg.lua (linked into conf.d), or remove anonymousdomain from config.js; then `{apply}`."
            if ctx.session.kind == "host"
            else "Set ENABLE_AUTH=1 and ENABLE_GUESTS=1 for prosody too, with the same XMPP_GUEST_DOMAIN as web; "
            "then `docker compose up -d`."
        )
        raise CheckFailed(
            ids.GUEST_NOHOST,
            f"{source} the guest domain {want}, but prosody has {what} {want}: guests are refused "
            "(improper-addressing) and everyone gets the password prompt",
            hint=fix,
            detail=detail,
            reproduce=reproduce,
            facts={fact.LINK: "guest"},
        )
    if switches.guests and conf is not None and not named:
        raise CheckFailed(
            ids.ENV_SPLIT,
            f"prosody serves the guest host {want}, but web's config.js has no anonymousdomain: the browser "
            "never uses it, so everyone gets the password prompt",
            hint=f"Set anonymousdomain: '{want}' in hosts of /etc/jitsi/meet/<host>-config.js (reload the page)."
            if ctx.session.kind == "host"
            else "Set ENABLE_GUESTS=1 (and ENABLE_AUTH=1) for web too, then `docker compose up -d`.",
            detail=detail,
            reproduce=reproduce,
            facts={fact.LINK: "guest"},
        )
    return Outcome(summary=f'VirtualHost "{want}": authentication = "{host.authentication}"', detail=detail)


def steps() -> list[Step[JitsiView]]:
    """config.js, then the guest VirtualHost it names."""
    return [
        Step(id=CONFIG_JS, title="Web config.js", run=_config_js_run),
        Step(id=GUEST_HOST, title="Guest VirtualHost", run=_guest_host_run, requires=frozenset({"container.find"})),
    ]
