"""jicofo's `authentication` block (jicofo.conf, rendered from ENABLE_AUTH/AUTH_TYPE/XMPP_DOMAIN; auth-modes.md §1.4)
and the variables prosody, jicofo and web must share (ENV-SPLIT, §4.1).

jicofo counts a user as authenticated iff the JID's domain equals `login-url`; with authentication off any
guest creates rooms; the type is XMPP for password modes (internal, ldap …) and JWT for jwt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ldapcheck.adapters import docker as dockeradapter
from ldapcheck.core import catalogue as ids
from ldapcheck.core import facts as fact
from ldapcheck.core.step import CheckFailed, Outcome, Step, StepSkipped
from ldapcheck.jitsi.deployment import DEFAULTS, READ_BY, JitsiView

JICOFO_AUTH = "jicofo.auth"
ENV_SPLIT = "jitsi.env_split"
CONF_PATHS = ("/run/jicofo/jicofo.conf", "/config/jicofo.conf")
# `authentication {` (docker's render) or `authentication: {` (the Debian guides' HOCON).
_BLOCK = re.compile(r"authentication\s*:?\s*\{(.*?)\}", re.DOTALL)


@dataclass(frozen=True)
class JicofoAuth:
    """The rendered authentication block (enabled False when absent)."""

    enabled: bool
    type: str = "NONE"
    login_url: str = ""
    auto_login: bool = True  # enable-auto-login (jicofo's default true; docker renders ENABLE_AUTO_LOGIN, default 1)
    lifetime: str = "24 hours"  # authentication-lifetime (JICOFO_AUTH_LIFETIME)


def parse_jicofo_auth(text: str) -> JicofoAuth:
    """jicofo's own defaults apply to what the block leaves out (enabled = false, type = NONE)."""
    clean = "\n".join(line.split("//", 1)[0] for line in text.splitlines())
    m = _BLOCK.search(clean)
    if m is None:
        return JicofoAuth(enabled=False)
    body = m.group(1)

    def get(key: str) -> str:
        found = re.search(rf"^\s*{re.escape(key)}\s*[=:]\s*\"?([^\"\n]*)\"?", body, re.MULTILINE)
        return found.group(1).strip() if found else ""

    enabled = get("enabled").lower() == "true"
    return JicofoAuth(
        enabled=enabled,
        type=(get("type") or "NONE").upper(),
        login_url=get("login-url"),
        auto_login=get("enable-auto-login").lower() != "false",
        lifetime=get("authentication-lifetime") or "24 hours",
    )


def auto_login_note(auth: JicofoAuth) -> tuple[str, str]:
    """(what ENABLE_AUTO_LOGIN means here, the hint) for an enabled authentication block (auth-modes.md §1.4)."""
    if auth.type == "JWT":
        return (
            "enable-auto-login is not used with type = JWT (jicofo's JWT authority has auto-login off and 1-minute "
            "sessions: every join shows its token)",
            "",
        )
    if auth.auto_login:
        return (
            f"enable-auto-login = true (ENABLE_AUTO_LOGIN, default 1): after one login the browser keeps jicofo's "
            f"session for {auth.lifetime} (JICOFO_AUTH_LIFETIME) and is not asked again; on a shared machine the "
            f"next person inherits the login ({ids.JICOFO_AUTOLOGIN}, informational)",
            "Set ENABLE_AUTO_LOGIN=0 or a shorter JICOFO_AUTH_LIFETIME (e.g. '1 hour') if logins must not persist, "
            "then `docker compose up -d --force-recreate jicofo`.",
        )
    return (
        "enable-auto-login = false (ENABLE_AUTO_LOGIN=0): the browser keeps no jicofo session, users log in again "
        "for every room they create",
        "",
    )


def _read_conf(ctx: JitsiView) -> tuple[str, str]:
    if ctx.session.kind == "host":
        found = ctx.session.jicofo_conf()
        if found is None:
            raise StepSkipped("not checked: no /etc/jitsi/jicofo/jicofo.conf on this host (jicofo not installed here)")
        return found
    jicofo = ctx.sibling("jicofo")
    if jicofo is None:
        raise StepSkipped("not checked: no jicofo container (compose service jicofo) in prosody's project")
    script = 'for f in "$@"; do if [ -r "$f" ]; then echo "$f"; cat "$f"; exit 0; fi; done; exit 3'
    result = dockeradapter.exec_in(jicofo, ["sh", "-c", script, "sh", *CONF_PATHS], timeout=ctx.timeout + 5)
    if result.exit_code != 0:
        raise StepSkipped(f"not checked: no rendered jicofo.conf in {jicofo.name} ({', '.join(CONF_PATHS)})")
    path, _, text = result.stdout.partition("\n")
    return path, text


def read_auth(ctx: JitsiView) -> tuple[str, JicofoAuth]:
    """(path, authentication block) of the jicofo container's rendered jicofo.conf, read once per run."""
    key = "_jicofo_auth"
    if key not in ctx.values:
        try:
            path, text = _read_conf(ctx)
            ctx.values[key] = (path, parse_jicofo_auth(text))
        except StepSkipped as exc:
            ctx.values[key] = exc
    value = ctx.values[key]
    if isinstance(value, StepSkipped):
        raise StepSkipped(str(value))
    assert isinstance(value, tuple)
    found: tuple[str, JicofoAuth] = value
    return found


def _jicofo_run(ctx: JitsiView) -> Outcome:
    switches = ctx.switches()
    if not switches.enabled:
        raise StepSkipped("ENABLE_AUTH is off: jicofo needs no authentication")
    path, auth = read_auth(ctx)
    host = ctx.session.kind == "host"
    jicofo = ctx.sibling("jicofo")
    reproduce = (
        f"grep -n -A6 'authentication' {path}"
        if host
        else f"docker exec {jicofo.name} grep -n -A6 'authentication' {path}"
    )
    apply = "`sudo systemctl restart jicofo`" if host else "`docker compose up -d --force-recreate jicofo`"
    want_type = "JWT" if switches.main == "jwt" else "XMPP"
    detail: dict[str, object] = {
        "file": path,
        "enabled": auth.enabled,
        "type": auth.type,
        "login-url": auth.login_url or "(unset)",
    }
    if not auth.enabled or auth.type != want_type:
        why = "is disabled" if not auth.enabled else f"has type = {auth.type}, not {want_type}"
        raise CheckFailed(
            ids.JICOFO_AUTH_OFF,
            f"prosody asks for logins, but jicofo's authentication {why} ({path}): any guest can create a room, "
            "nobody waits for a host",
            hint=(
                f"Set `authentication: {{ enabled: true, type: {want_type}, login-url: {ctx.domain} }}` in {path}, "
                f"then {apply}."
                if host
                else f"Set ENABLE_AUTH=1 (or JICOFO_ENABLE_AUTH=1) and the same AUTH_TYPE for jicofo, then {apply}."
            ),
            detail=detail,
            reproduce=reproduce,
            facts={fact.LINK: "jicofo"},
        )
    note, note_hint = auto_login_note(auth)
    detail["enable-auto-login"] = auth.auto_login
    detail["authentication-lifetime"] = auth.lifetime
    detail["auto-login"] = note
    if auth.login_url != ctx.domain:
        raise CheckFailed(
            ids.JICOFO_LOGINURL,
            f"jicofo's login-url is {auth.login_url!r}, but users log in on {ctx.domain} (XMPP_DOMAIN): jicofo "
            "never counts them as authenticated, so everyone keeps waiting for the host",
            hint=(
                f'Set login-url: "{ctx.domain}" in {path} (the domain of config.js and of prosody\'s VirtualHost), '
                f"then {apply}."
                if host
                else f"Give jicofo the same XMPP_DOMAIN as prosody, then {apply}."
            ),
            detail=detail,
            reproduce=reproduce,
            facts={fact.LINK: "jicofo"},
        )
    auto = "" if auth.type == "JWT" else f", enable-auto-login = {str(auth.auto_login).lower()}"
    return Outcome(
        summary=f'authentication enabled, type = {auth.type}, login-url = "{auth.login_url}"{auto}; {note}',
        detail=detail,
        hint=note_hint,
        reproduce=reproduce,
        facts={"jicofo.auto_login": auth.auto_login, "jicofo.lifetime": auth.lifetime},
    )


def _env_split_run(ctx: JitsiView) -> Outcome:
    if ctx.session.kind == "host":
        # One set of files, no per-container environments: the domains they name are compared by
        # web.config_js (config.js vs prosody), jicofo.auth (login-url) and the VirtualHost steps.
        raise StepSkipped("not applicable: a package install has no container environments to compare")
    prosody_env = ctx.session.env()
    envs: dict[str, dict[str, str]] = {"prosody": dict(prosody_env)}
    absent: list[str] = []
    for service in ("jicofo", "web"):
        container = ctx.sibling(service)
        if container is None:
            absent.append(service)
        else:
            envs[service] = dockeradapter.container_env(container)
    differences: list[str] = []
    for key in READ_BY["prosody"]:
        seen = {s: env.get(key) or DEFAULTS.get(key, "") for s, env in envs.items() if key in READ_BY[s]}
        if len(set(seen.values())) > 1:
            differences.append(f"{key}: " + ", ".join(f"{s} {v!r}" for s, v in seen.items()))
    detail: dict[str, object] = {"compared": sorted(envs)}
    if absent:
        detail["not checked"] = [f"{s}: no container (compose service {s})" for s in absent]
    if differences:
        detail["differences"] = differences
        raise CheckFailed(
            ids.ENV_SPLIT,
            "prosody, jicofo and web run with different auth settings: " + "; ".join(differences),
            hint="Give prosody, jicofo and web the same ENABLE_AUTH, ENABLE_GUESTS, AUTH_TYPE and XMPP_* values "
            "(all come from the one .env), then recreate them: `docker compose up -d --force-recreate`.",
            detail=detail,
            reproduce="docker compose exec <service> printenv ENABLE_AUTH ENABLE_GUESTS AUTH_TYPE XMPP_DOMAIN",
            facts={fact.LINK: "env", fact.DIFFERING: [d.split(":", 1)[0] for d in differences]},
        )
    if len(envs) == 1:
        raise StepSkipped("not checked: neither a jicofo nor a web container in prosody's project")
    note = f" ({', '.join(absent)} not checked: no container)" if absent else ""
    return Outcome(summary=f"{' and '.join(sorted(envs))} agree on the auth settings{note}", detail=detail)


def steps() -> list[Step[JitsiView]]:
    """The env comparison across containers, then jicofo's authentication block."""
    find = frozenset({"container.find"})
    return [
        Step(id=ENV_SPLIT, title="prosody/jicofo/web env", run=_env_split_run, requires=find),
        Step(id=JICOFO_AUTH, title="Jicofo authentication", run=_jicofo_run, requires=find),
    ]
