"""LDAP container steps about configuration: saslauthd.conf, xmpp.conf, and what prosody's config must say."""

from __future__ import annotations

from collections.abc import Mapping

from ldapcheck.adapters import docker as dockeradapter
from ldapcheck.auth.ldap import render as renderer
from ldapcheck.auth.ldap.container import files as configs
from ldapcheck.auth.ldap.container import view
from ldapcheck.auth.ldap.container.view import SaslauthdView
from ldapcheck.core import catalogue as ids
from ldapcheck.core import facts as fact
from ldapcheck.core.secrets import MASK
from ldapcheck.core.step import CheckFailed, Outcome, StepSkipped
from ldapcheck.jitsi import modes
from ldapcheck.jitsi.container import steps as jsteps
from ldapcheck.jitsi.container.session import ContainerSession
from ldapcheck.jitsi.fixes import RECREATE
from ldapcheck.jitsi.prosody import ProsodyHost

# The variables docker-compose.yml passes through to prosody that decide the LDAP login path: the ones the
# saslauthd.conf template reads, plus the ENABLE_AUTH gate of prosody's own config.
DRIFT_KEYS = ("ENABLE_AUTH", *renderer.TEMPLATE_VARIABLES)
DRIFT_SHOWN = ("AUTH_TYPE", "ENABLE_AUTH", "XMPP_DOMAIN", "LDAP_URL", "LDAP_BASE", "LDAP_FILTER")
SECRET_ENV = view.SECRET_ENV


def auth_type_gate(env: Mapping[str, str]) -> str | None:
    """Why saslauthd is not configured/started from this env (upstream's `[[ "$AUTH_TYPE" == "ldap" ]]`), or None."""
    return modes.gate(env, "ldap", what="writes saslauthd.conf and starts saslauthd")


def _is_mounted(ctx: SaslauthdView, path: str) -> bool:
    return any(m["destination"] == path for m in dockeradapter.mounts(ctx.require_container()))


def saslauthd_conf(ctx: SaslauthdView) -> Outcome:
    """saslauthd.conf vs the template rendered from the container's env."""
    env = ctx.env()
    path = ctx.conf_path()
    conf = ctx.effective_conf()
    reproduce = ctx.session.shell(f"cat {path}")
    if conf is None:
        gate = auth_type_gate(env)
        raise CheckFailed(
            ids.JM_AUTH_TYPE if gate else ids.SA_CONF_INVALID,
            f"{path} does not exist" + (f": {gate}" if gate else ""),
            hint=f"Set {ctx.session.config_place('AUTH_TYPE')} to ldap (lower case), then "
            f"`{ctx.session.apply_hint()}`.",
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
            ids.SA_CONF_INVALID,
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
                ids.JM_CUSTOM_CONF,
                f"the mounted /etc/saslauthd.conf overrides the container's LDAP_* values ({', '.join(keys)} differ)",
                hint="saslauthd uses the mounted file, not .env. Fix the file or remove the mount, then " + RECREATE,
                detail=detail,
                reproduce=reproduce,
            )
        raise CheckFailed(
            ids.JM_STALE_CONFIG,
            f"{path} is stale: {', '.join(keys)} differ from what the container's environment renders",
            hint="The file was rendered from older values (e.g. a persisted config volume). Remove it and " + RECREATE,
            detail=detail,
            reproduce=reproduce,
        )
    # Agreeing settings that are spelled out on one side only, or spelled differently: a note, not a finding.
    notes: list[str] = []
    defaulted = configs.defaulted_keys(conf, expected)
    if defaulted:
        detail["left at saslauthd's defaults"] = [f"{k} ({configs.LAK_DEFAULTS[k]})" for k in defaulted]
        notes.append(f"keys left at saslauthd's defaults: {', '.join(defaulted)}")
    respelled = configs.respelled_keys(conf, expected)
    if respelled:
        detail["written differently, read alike"] = respelled
        notes.append(f"written differently but read alike by saslauthd: {', '.join(respelled)}")
    note = f" ({'; '.join(notes)})" if notes else ""
    if custom:
        summary = f"mounted /etc/saslauthd.conf agrees with the container's env{note}"
    else:
        summary = f"{path} matches the template rendered from the container's env ({len(conf.entries)} settings){note}"
        if mounted:
            summary += "; a mounted /etc/saslauthd.conf exists too (JM-CUSTOM-CONF)"
    return Outcome(summary=summary, detail=detail, reproduce=reproduce, value=conf.values)


def saslauthd_conf_perms(ctx: SaslauthdView) -> Outcome:
    """Who may read saslauthd.conf, which holds the service account's password (SA-CONF-PERMS; logins unaffected)."""
    path = ctx.conf_path()
    st = ctx.facts().stats.get(path)
    conf = ctx.effective_conf()
    if st is None or conf is None:
        raise StepSkipped(f"{path} does not exist (see container.saslauthd_conf)")
    mode = int(st.mode, 8) if st.mode.isdigit() else 0
    owner = f"{st.owner}:{st.group}"
    holds_password = bool(conf.get("ldap_bind_pw") or conf.get("ldap_password"))
    detail: dict[str, object] = {"path": path, "mode": f"{mode:04o}", "owner": owner}
    reproduce = ctx.session.shell(f"stat -c '%a %U:%G %n' {path}")
    if not holds_password:
        return Outcome(summary=f"{path} holds no bind password (anonymous bind)", detail=detail, reproduce=reproduce)
    if not mode & 0o004:
        return Outcome(
            summary=f"{path} is mode {mode:04o} ({owner}): other users cannot read ldap_bind_pw",
            detail=detail,
            reproduce=reproduce,
        )
    if ctx.generation()[0] == "current":
        narrow = (
            "To narrow it, mount your own /etc/saslauthd.conf with mode 0600 owned by uid 1000 (the image's user "
            "s6 copies it to /run/saslauthd.conf and the copy keeps the mode; a file only root can read cannot be "
            "copied, and saslauthd then has no config). Everything in rootless images runs as s6, so this keeps "
            "out only other users."
        )
    else:
        narrow = (
            "To narrow it, mount your own /etc/saslauthd.conf with mode 0600 owned by root (saslauthd runs as "
            "root in these images and reads it in place); prosody's user then cannot read it."
        )
    return Outcome(
        summary=f"{path} holds ldap_bind_pw and is mode {mode:04o} ({owner}): readable by every process in the "
        "prosody container",
        detail=detail,
        warn=True,
        failure_id=ids.SA_CONF_PERMS,
        hint=f"Logins are not affected. {narrow} Or accept it, with LDAP_BINDDN a read-only account that can only "
        "search users (never an administrator).",
        reproduce=reproduce,
        facts={fact.LOGIN_UNAFFECTED: True},
    )


def sasl_app_conf(ctx: SaslauthdView) -> Outcome:
    """The SASL application config xmpp.conf."""
    search = ctx.sasl_search_path()
    found = ctx.sasl_app_conf()
    reproduce = ctx.session.shell("cat " + " ".join(f"{d}/xmpp.conf" for d in search) + " 2>/dev/null")
    detail: dict[str, object] = {"search path": ":".join(search)}
    if found is None:
        raise CheckFailed(
            ids.JM_SASL_APP_CONF,
            "no xmpp.conf in libsasl's search path: Cyrus SASL falls back to every plugin and never asks saslauthd",
            hint=(
                "docker-jitsi-meet ships /etc/sasl/xmpp.conf (pwcheck_method: saslauthd, mech_list: PLAIN); "
                "restore it (an image rebuild or a mount may have hidden it)."
                if ctx.session.kind == "docker"
                else "Write /etc/sasl/xmpp.conf with `pwcheck_method: saslauthd` and `mech_list: PLAIN` (the LDAP "
                f"guides do), then `{ctx.session.apply_hint()}`."
            ),
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
            ids.JM_SASL_APP_CONF,
            f"{path} (found first): " + "; ".join(problems),
            hint="xmpp.conf must say `pwcheck_method: saslauthd` and `mech_list: PLAIN`.",
            detail=detail,
            reproduce=reproduce,
        )
    return Outcome(
        summary=f"{path} (first in the search path): pwcheck_method saslauthd, mech_list PLAIN", detail=detail
    )


def _cyrus_application(session: ContainerSession, host: ProsodyHost, detail: dict[str, object], reproduce: str) -> str:
    """libsasl reads `<cyrus_application_name>.conf`: docker-jitsi-meet's is xmpp (xmpp.conf)."""
    app = host.settings.get("cyrus_application_name", "prosody")
    detail["cyrus_application_name"] = app
    if app != "xmpp":
        raise CheckFailed(
            ids.JM_SASL_APP_CONF,
            f'VirtualHost "{host.name}" uses cyrus with application name {app!r}: libsasl reads {app}.conf, '
            "not xmpp.conf",
            hint='docker-jitsi-meet sets cyrus_application_name = "xmpp".',
            detail=detail,
            reproduce=reproduce,
        )
    return " (application xmpp)"


# prosody's rendered config: cyrus auth (application xmpp) on XMPP_DOMAIN.
prosody_config = jsteps.prosody_config_run("ldap", "cyrus", _cyrus_application)
