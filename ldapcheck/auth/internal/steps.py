"""The internal mode's container steps: the main VirtualHost's `authentication`, and where the account is."""

from __future__ import annotations

from ldapcheck.auth.internal import accounts
from ldapcheck.core import catalogue as ids
from ldapcheck.core import facts as fact
from ldapcheck.core.step import CheckFailed, Outcome, Step, StepSkipped
from ldapcheck.jitsi.container.steps import FIND
from ldapcheck.jitsi.deployment import JitsiView
from ldapcheck.jitsi.fixes import RECREATE

CONFIG = "internal.prosody_config"
ACCOUNT = "internal.account"
AUTHENTICATION = "internal_hashed"
# Facts of the account step: where the account was found.
WHERE = "internal.where"  # "present", "other-host", "other-path", "missing", "disabled"


def _config_run(ctx: JitsiView) -> Outcome:
    parsed = ctx.prosody_config()
    if parsed is None:
        raise StepSkipped("no rendered prosody.cfg.lua in /run/prosody/config or /config")
    path, glob, hosts = parsed
    domain = ctx.domain
    session = ctx.session
    host_kind = session.kind == "host"
    reproduce = session.shell(f"grep -n -A3 'VirtualHost \"{domain}\"' {path} {path.rsplit('/', 1)[0]}/conf.d/")
    detail: dict[str, object] = {"config": path, "hosts": sorted(hosts), "data_path": _data_path(glob)}
    host = hosts.get(domain)
    if host is None:
        raise CheckFailed(
            ids.JM_AUTH_TYPE,
            f'{path} has no VirtualHost "{domain}" (XMPP_DOMAIN): prosody serves {sorted(hosts)}',
            hint=(
                f"Link the VirtualHost file of {domain} into /etc/prosody/conf.d, then `{session.apply_hint()}`."
                if host_kind
                else "XMPP_DOMAIN must be the same in .env and in the container; recreate prosody: " + RECREATE
            ),
            detail=detail,
            reproduce=reproduce,
            facts={fact.LINK: "prosody", fact.GATE: "XMPP_DOMAIN"},
        )
    detail["authentication"] = host.authentication
    if host.authentication == "token":
        raise CheckFailed(
            ids.INT_MODE_STILL_TOKEN,
            f'VirtualHost "{domain}" still uses authentication = "token": passwords are not asked for, and '
            "`prosodyctl register` answers 'Creating user failed'",
            hint=(
                f'Set authentication = "{AUTHENTICATION}" on VirtualHost "{domain}", `{session.apply_hint()}`, then '
                "register the user again."
                if host_kind
                else "Set AUTH_TYPE=internal and ENABLE_AUTH=1 (PROSODY_AUTH_TYPE unset), recreate prosody ("
                + RECREATE
                + "), then register the user again."
            ),
            detail=detail,
            reproduce=reproduce,
            facts={fact.LINK: "prosody", fact.GATE: "AUTH_TYPE"},
        )
    if host.authentication != AUTHENTICATION:
        gate = "ENABLE_AUTH" if not ctx.switches().enabled else "AUTH_TYPE"
        raise CheckFailed(
            ids.JM_AUTH_TYPE,
            f'VirtualHost "{domain}" uses authentication = "{host.authentication}", not "{AUTHENTICATION}" '
            f"({gate} as the container has it)",
            hint=(
                f'Set authentication = "{AUTHENTICATION}" on VirtualHost "{domain}", then `{session.apply_hint()}`.'
                if host_kind
                else f"Set ENABLE_AUTH=1 and AUTH_TYPE=internal, then recreate prosody: {RECREATE}"
            ),
            detail=detail,
            reproduce=reproduce,
            facts={fact.LINK: "prosody", fact.GATE: gate},
        )
    return Outcome(
        summary=f'VirtualHost "{domain}": authentication = "{AUTHENTICATION}" ({path})',
        detail=detail,
        reproduce=reproduce,
    )


def _data_path(glob: dict[str, str]) -> str:
    return glob.get("data_path") or accounts.DEBIAN_DATA


def _account_run(ctx: JitsiView) -> Outcome:
    if not ctx.login:
        raise StepSkipped("no --user given: no account to look for")
    session = ctx.session
    user = accounts.node(ctx.login)
    domain = ctx.domain
    parsed = ctx.prosody_config()
    config = session.live_config()
    live = _data_path(parsed[1]) if parsed is not None else accounts.CURRENT_DATA
    gen, _evidence = session.generation()
    candidates = list(dict.fromkeys([live, *accounts.CANDIDATES]))
    # no network wait: bounded by --timeout plus the exec's start, as jicofo's file read (jitsi/jicofo.py)
    argv = ["sh", "-c", accounts.SCRIPT, "sh", accounts.encode(user), *candidates]
    result = session.exec(argv, user="0", timeout=session.options.timeout + 5)
    storage = accounts.parse(result.stdout)
    prosodyctl = session.prosodyctl(f"register {user} {domain}", config=config)
    listing = session.shell(f"ls {live}/{accounts.encode(domain)}/accounts")
    detail: dict[str, object] = {
        "running config": config,
        "data_path": live,
        "image generation": gen,
        "data paths found": storage.data_paths or ["(none)"],
        "prosodyctl (prompts for the password)": prosodyctl,
        "passwd": session.prosodyctl(f"passwd {user}@{domain}", config=config),
    }
    found = storage.where(True)
    if found:
        detail["found"] = [h.file(user) for h in found]
    here = next((h for h in found if h.data_path == live and h.host == domain), None)
    if here is not None:
        if here.disabled:
            raise CheckFailed(
                ids.INT_DISABLED,
                f"{user}@{domain} exists ({here.file(user)}) but is disabled",
                hint=session.prosodyctl(f"shell user enable {user}@{domain}", config=config),
                detail=detail,
                reproduce=listing,
                facts={fact.LINK: "account", WHERE: "disabled", fact.ACCOUNT: "disabled"},
            )
        return Outcome(
            summary=f"{user}@{domain} exists: {here.file(user)} (the data_path of {config})",
            detail=detail,
            reproduce=listing,
            facts={fact.LINK: "account", WHERE: "present"},
        )
    other_host = [h for h in found if h.data_path == live]
    if other_host:
        hosts = ", ".join(h.host for h in other_host)
        raise CheckFailed(
            ids.INT_DOMAIN,
            f"{user} is registered on {hosts}, not on {domain} (XMPP_DOMAIN), where the browser logs in",
            hint=f"Register it on {domain}: `{prosodyctl}`, and remove the stray one: "
            f"`{session.prosodyctl(f'unregister {user} {other_host[0].host}', config=config)}`.",
            detail=detail,
            reproduce=listing,
            facts={fact.LINK: "account", WHERE: "other-host"},
        )
    if found:
        paths = ", ".join(h.file(user) for h in found)
        raise CheckFailed(
            ids.INT_CFGPATH,
            f"{user} exists only in {paths}, outside the data_path {live} the running prosody ({config}) reads: "
            "it was created with a stale config (e.g. prosodyctl --config /config/prosody.cfg.lua)",
            hint=f"Create it where prosody reads: `{prosodyctl}` (a restart does not help).",
            detail=detail,
            reproduce=listing,
            facts={fact.LINK: "account", WHERE: "other-path"},
        )
    raise CheckFailed(
        ids.INT_NOUSER,
        f"no account {user} on {domain}: no {live}/{accounts.encode(domain)}/accounts/{accounts.encode(user)}.dat "
        f"(nor on another host or data path)",
        hint=f"Create it (it prompts for the password): `{prosodyctl}`. No restart is needed afterwards.",
        detail=detail,
        reproduce=listing,
        facts={fact.LINK: "account", WHERE: "missing"},
    )


def container_steps() -> list[Step[JitsiView]]:
    """The main host's authentication, then the account."""
    find = frozenset({FIND})
    return [
        Step(id=CONFIG, title="Main host authentication", run=_config_run, requires=find),
        Step(id=ACCOUNT, title="Internal account", run=_account_run, requires=find),
    ]
