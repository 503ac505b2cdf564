"""Container steps about configuration: env drift, saslauthd.conf, xmpp.conf, prosody's rendered config."""

from __future__ import annotations

from collections.abc import Mapping

from ldapcheck.adapters import docker as dockeradapter
from ldapcheck.auth.ldap import render as renderer
from ldapcheck.auth.ldap.container import files as configs
from ldapcheck.core.secrets import MASK
from ldapcheck.core.step import CheckFailed, Outcome, StepSkipped
from ldapcheck.jitsi import modes
from ldapcheck.jitsi.container.session import ContainerContext

# The variables docker-compose.yml passes through to prosody that decide the LDAP login path: the ones the
# saslauthd.conf template reads, plus the ENABLE_AUTH gate of prosody's own config.
DRIFT_KEYS = ("ENABLE_AUTH", *renderer.TEMPLATE_VARIABLES)
SECRET_ENV = frozenset({"LDAP_BINDPW"})
RECREATE = "docker compose up -d --force-recreate prosody"

JM_AUTH_TYPE = "JM-AUTH-TYPE"
JM_RECREATE = "JM-RECREATE"
JM_STALE_CONFIG = "JM-STALE-CONFIG"
JM_CUSTOM_CONF = "JM-CUSTOM-CONF"
SA_CONF_INVALID = "SA-CONF-INVALID"
SASL_APP_CONF = "JM-SASL-APP-CONF"


def auth_type_gate(env: Mapping[str, str]) -> str | None:
    """Why saslauthd is not configured/started from this env (upstream's `[[ "$AUTH_TYPE" == "ldap" ]]`), or None."""
    return modes.gate(env, "ldap", what="writes saslauthd.conf and starts saslauthd")


def env_drift(ctx: ContainerContext) -> Outcome:
    """Container environment vs --env-file."""
    expected = ctx.options.expected_env
    if expected is None:
        raise StepSkipped("no --env-file given: nothing to compare the container's environment with")
    actual = ctx.env()
    keys = DRIFT_KEYS
    differences: list[str] = []
    for key in keys:
        # Unset and empty differ: compose passes `NAME=` as "", and a missing NAME not at all.
        want, have = expected.get(key), actual.get(key)
        if key in SECRET_ENV:
            ctx.secrets.update(v for v in (want, have) if v)
        if want == have:
            continue
        if key in SECRET_ENV:
            differences.append(f"{key} differs")
        else:
            differences.append(f"{key}: .env {_shown(want)}, container {_shown(have)}")
    detail: dict[str, object] = {"env_file": ctx.options.env_file or "(given)", "compared": len(keys)}
    if differences:
        detail["differences"] = differences
        raise CheckFailed(
            JM_RECREATE,
            f"{ctx.name} runs with other values than {ctx.options.env_file or '.env'}: " + "; ".join(differences),
            hint="The container was not recreated after .env changed (a restart keeps the old environment). "
            f"Run `{RECREATE}`.",
            detail=detail,
            reproduce=f"docker exec {ctx.name} printenv AUTH_TYPE ENABLE_AUTH XMPP_DOMAIN LDAP_URL LDAP_BASE "
            "LDAP_FILTER",
        )
    return Outcome(summary=f"the container's {len(keys)} auth variables match the .env file", detail=detail)


def _shown(value: str | None) -> str:
    return "(unset)" if value is None else repr(value)


def _is_mounted(ctx: ContainerContext, path: str) -> bool:
    return any(m["destination"] == path for m in dockeradapter.mounts(ctx.require_container()))


def saslauthd_conf(ctx: ContainerContext) -> Outcome:
    """saslauthd.conf vs the template rendered from the container's env."""
    env = ctx.env()
    path = ctx.conf_path()
    conf = ctx.effective_conf()
    reproduce = f"docker exec {ctx.name} cat {path}"
    if conf is None:
        gate = auth_type_gate(env)
        raise CheckFailed(
            JM_AUTH_TYPE if gate else SA_CONF_INVALID,
            f"{path} does not exist" + (f": {gate}" if gate else ""),
            hint="Set AUTH_TYPE=ldap (lower case) in .env and recreate prosody: " + RECREATE,
            detail={"AUTH_TYPE": env.get("AUTH_TYPE", "(unset)")},
            reproduce=reproduce,
        )
    expected = configs.parse_lak(ctx.expected_conf())
    mounted_text = ctx.facts().files.get("/etc/saslauthd.conf")
    mounted = _is_mounted(ctx, "/etc/saslauthd.conf") and mounted_text is not None
    # The mounted file is only the culprit if it is what saslauthd reads (rootless images copy it to /run).
    custom = mounted and configs.parse_lak(mounted_text or "").values == conf.values
    detail: dict[str, object] = {
        "path": path,
        "generation": ctx.generation()[0],
        "mounted /etc/saslauthd.conf": mounted,
    }
    if conf.errors:
        detail["rejected lines"] = [MASK if any(s in e for s in ctx.secrets) else e for e in conf.errors]
        raise CheckFailed(
            SA_CONF_INVALID,
            f"saslauthd rejects {path} as a whole ({len(conf.errors)} line(s) without `key: value`, or an empty "
            "value): every login answers NO without any log line",
            hint="An empty .env value (LDAP_BASE=, LDAP_BINDPW=, LDAP_URL=) renders an empty value; "
            "set it or remove the line.",
            detail=detail,
            reproduce=reproduce,
        )
    diff = configs.masked_diff(conf, expected, actual_label=path, expected_label="rendered from the container's env")
    keys = configs.differing_keys(conf, expected)
    if keys:
        detail["differing keys"] = keys
        detail["diff"] = diff
        if custom:
            raise CheckFailed(
                JM_CUSTOM_CONF,
                f"the mounted /etc/saslauthd.conf overrides the container's LDAP_* values ({', '.join(keys)} differ)",
                hint="saslauthd uses the mounted file, not .env. Fix the file or remove the mount, then " + RECREATE,
                detail=detail,
                reproduce=reproduce,
            )
        raise CheckFailed(
            JM_STALE_CONFIG,
            f"{path} is stale: {', '.join(keys)} differ from what the container's environment renders",
            hint="The file was rendered from older values (e.g. a persisted config volume). Remove it and " + RECREATE,
            detail=detail,
            reproduce=reproduce,
        )
    summary = f"{path} matches the template rendered from the container's env ({len(conf.entries)} settings)"
    if mounted:
        summary += "; it is a mounted file (JM-CUSTOM-CONF) that happens to agree"
    return Outcome(summary=summary, detail=detail, reproduce=reproduce, value=conf.values)


def sasl_app_conf(ctx: ContainerContext) -> Outcome:
    """The SASL application config xmpp.conf."""
    search = ctx.sasl_search_path()
    found = ctx.sasl_app_conf()
    reproduce = f"docker exec {ctx.name} cat " + " ".join(f"{d}/xmpp.conf" for d in search) + " 2>/dev/null"
    detail: dict[str, object] = {"search path": ":".join(search)}
    if found is None:
        raise CheckFailed(
            SASL_APP_CONF,
            "no xmpp.conf in libsasl's search path: Cyrus SASL falls back to every plugin and never asks saslauthd",
            hint="docker-jitsi-meet ships /etc/sasl/xmpp.conf (pwcheck_method: saslauthd, mech_list: PLAIN); "
            "restore it (an image rebuild or a mount may have hidden it).",
            detail=detail,
            reproduce=reproduce,
        )
    path, values = found
    detail.update(path=path, **{k: v for k, v in values.items()})
    problems: list[str] = []
    if values.get("pwcheck_method", "").split() != ["saslauthd"]:
        problems.append(f"pwcheck_method is {values.get('pwcheck_method', '(unset)')!r}, not 'saslauthd'")
    mechs = [m.upper() for m in values.get("mech_list", "").split()]
    if mechs and "PLAIN" not in mechs:
        problems.append(f"mech_list {values.get('mech_list')!r} lacks PLAIN")
    opts = ctx.saslauthd_options()
    if values.get("saslauthd_path") and opts is not None and values["saslauthd_path"] != opts.socket:
        problems.append(f"saslauthd_path {values['saslauthd_path']} is not saslauthd's socket {opts.socket}")
    shadowed = [p for p in (f"{d}/xmpp.conf" for d in search) if p in ctx.facts().files and p != path]
    if shadowed:
        detail["ignored (found later in the path)"] = shadowed
    if problems:
        raise CheckFailed(
            SASL_APP_CONF,
            f"{path} (found first): " + "; ".join(problems),
            hint="xmpp.conf must say `pwcheck_method: saslauthd` and `mech_list: PLAIN`.",
            detail=detail,
            reproduce=reproduce,
        )
    return Outcome(
        summary=f"{path} (first in the search path): pwcheck_method saslauthd, mech_list PLAIN", detail=detail
    )


def prosody_config(ctx: ContainerContext) -> Outcome:
    """prosody's rendered config: cyrus auth on XMPP_DOMAIN."""
    env = ctx.env()
    f = ctx.facts()
    path = next((p for p in ("/run/prosody/config/prosody.cfg.lua", "/config/prosody.cfg.lua") if p in f.files), None)
    if path is None:
        raise StepSkipped("no rendered prosody.cfg.lua in /run/prosody/config or /config")
    domain = ctx.xmpp_domain
    conf_dir = path.rsplit("/", 1)[0] + "/conf.d/"
    included = sorted(p for p in f.files if p.startswith(conf_dir) and p.endswith(".cfg.lua"))
    text = "\n".join(f.files[p] for p in (path, *included))
    _globals, hosts = configs.parse_prosody_hosts(text)
    where = f"{path} {conf_dir}*.cfg.lua" if included else path
    reproduce = f"docker exec {ctx.name} grep -n -A3 'VirtualHost \"{domain}\"' {where}"
    host = hosts.get(domain)
    detail: dict[str, object] = {"files": [path, *included], "XMPP_DOMAIN": domain, "hosts": sorted(hosts)}
    if host is None:
        raise CheckFailed(
            JM_AUTH_TYPE,
            f'{where} has no VirtualHost "{domain}" (XMPP_DOMAIN): prosody serves {sorted(hosts)}',
            hint="XMPP_DOMAIN must be the same in .env and in the container; recreate prosody: " + RECREATE,
            detail=detail,
            reproduce=reproduce,
        )
    detail["authentication"] = host.authentication
    if host.authentication != "cyrus":
        switches = modes.auth_modes(env)
        prosody_type = switches.prosody_auth_type
        if not switches.enabled:
            detail["gate"] = "ENABLE_AUTH"
            reason = f"ENABLE_AUTH={env.get('ENABLE_AUTH', '(unset)')} is off, so prosody never asks for a password"
            hint = "Set ENABLE_AUTH=1 in .env and recreate prosody: " + RECREATE
        else:
            detail["gate"] = "AUTH_TYPE"
            reason = f"PROSODY_AUTH_TYPE/AUTH_TYPE is {prosody_type!r}, not exactly 'ldap'"
            hint = "Set AUTH_TYPE=ldap (lower case; PROSODY_AUTH_TYPE unset or ldap) and recreate prosody: " + RECREATE
        raise CheckFailed(
            JM_AUTH_TYPE,
            f'VirtualHost "{domain}" uses authentication = "{host.authentication}", not "cyrus": {reason}',
            hint=hint,
            detail=detail,
            reproduce=reproduce,
        )
    app = host.settings.get("cyrus_application_name", "prosody")
    detail["cyrus_application_name"] = app
    if app != "xmpp":
        raise CheckFailed(
            SASL_APP_CONF,
            f'VirtualHost "{domain}" uses cyrus with application name {app!r}: libsasl reads {app}.conf, not xmpp.conf',
            hint='docker-jitsi-meet sets cyrus_application_name = "xmpp".',
            detail=detail,
            reproduce=reproduce,
        )
    return Outcome(summary=f'VirtualHost "{domain}": authentication = "cyrus" (application xmpp)', detail=detail)
