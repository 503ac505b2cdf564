"""LDAP on a Debian-package Jitsi: what the LDAP guides set up on the host beside prosody's `cyrus` VirtualHost.

`/etc/default/saslauthd` starts saslauthd (`START=yes`, `MECHANISMS="ldap"`, `OPTIONS="-c -m /var/run/saslauthd"`),
`/etc/saslauthd.conf` replaces the file docker-jitsi-meet renders from LDAP_*, prosody's user must be in the
`sasl` group to reach `/var/run/saslauthd/mux`, and prosody must have `mod_auth_cyrus`. The socket, the saslauthd
process, xmpp.conf, the VirtualHost and the real login are the container chain's steps, run on this host.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Any

from ldapcheck.auth.ldap.container import files as configs
from ldapcheck.core import catalogue as ids
from ldapcheck.core import facts as fact
from ldapcheck.core.step import CheckFailed, Outcome, Step, StepSkipped
from ldapcheck.jitsi.container.facts import saslauthd_options
from ldapcheck.jitsi.container.steps import FIND
from ldapcheck.jitsi.deploy import host as layoutmod
from ldapcheck.jitsi.deploy.local import host_session
from ldapcheck.jitsi.deploy.site import Site

DEFAULTS = "host.saslauthd_defaults"
SASL_GROUP = "host.sasl_group"
CYRUS = "host.cyrus_module"
# saslauthd.conf key → the docker-jitsi-meet variable its template renders it from (the host has no .env).
_ENV_OF = {
    "ldap_servers": "LDAP_URL",
    "ldap_search_base": "LDAP_BASE",
    "ldap_bind_dn": "LDAP_BINDDN",
    "ldap_bind_pw": "LDAP_BINDPW",
    "ldap_password": "LDAP_BINDPW",
    "ldap_filter": "LDAP_FILTER",
    "ldap_auth_method": "LDAP_AUTH_METHOD",
    "ldap_version": "LDAP_VERSION",
    "ldap_tls_cacert_file": "LDAP_TLS_CACERT_FILE",
    "ldap_tls_cacert_dir": "LDAP_TLS_CACERT_DIR",
}
_BOOLS = {"ldap_start_tls": "LDAP_START_TLS", "ldap_tls_check_peer": "LDAP_TLS_CHECK_PEER"}
_PLUGIN_PATHS = re.compile(r"plugin_paths\s*=\s*\{([^}]*)\}")


def env_from_host(layout: layoutmod.HostLayout, site: Site) -> Mapping[str, str]:
    """The LDAP_* values of /etc/saslauthd.conf (or saslauthd's -O file), in docker-jitsi-meet's names."""
    defaults = layout.saslauthd_defaults() or {}
    path = _conf_option(defaults.get("OPTIONS", "")) or layoutmod.SASLAUTHD_CONF
    text = layout.read(path)
    if text is None:
        return {}
    conf = configs.parse_lak(text)
    env = {var: conf.get(key) for key, var in _ENV_OF.items() if conf.get(key)}
    env.update({var: "1" if configs.lak_bool(conf.get(key)) else "0" for key, var in _BOOLS.items() if conf.get(key)})
    return env


def _conf_option(options: str) -> str:
    """The -O file of /etc/default/saslauthd's OPTIONS, read with saslauthd's own getopt string ("" if unreadable)."""
    try:
        words = shlex.split(options)
    except ValueError:
        return ""
    return saslauthd_options(["saslauthd", *words]).conf_path


def saslauthd_defaults(ctx: Any) -> Outcome:
    """/etc/default/saslauthd: START=yes, MECHANISMS="ldap", OPTIONS with -c and -m."""
    session = host_session(ctx)
    values = session.layout.saslauthd_defaults()
    reproduce = f"grep -E '^(START|MECHANISMS|OPTIONS)=' {layoutmod.SASLAUTHD_DEFAULTS}"
    if values is None:
        raise CheckFailed(
            ids.HOST_SASLAUTHD_OFF,
            f"no {layoutmod.SASLAUTHD_DEFAULTS}: sasl2-bin (saslauthd) is not installed or its defaults were removed",
            hint='`sudo apt install sasl2-bin`, then set START=yes and MECHANISMS="ldap" in '
            f"{layoutmod.SASLAUTHD_DEFAULTS}.",
            reproduce=f"ls -l {layoutmod.SASLAUTHD_DEFAULTS}",
            facts={fact.LINK: "saslauthd"},
        )
    start = values.get("START", "(unset)")
    mechanisms = values.get("MECHANISMS", "(unset)")
    options = values.get("OPTIONS", "")
    running = session.facts().saslauthd()
    detail: dict[str, object] = {"START": start, "MECHANISMS": mechanisms, "OPTIONS": options or "(unset)"}
    if running:
        detail["running"] = " ".join(running[0].argv)
    if mechanisms.strip() != "ldap":
        raise CheckFailed(
            ids.HOST_MECH,
            f'MECHANISMS="{mechanisms}" in {layoutmod.SASLAUTHD_DEFAULTS}: saslauthd checks passwords with '
            f"{mechanisms}, never with LDAP ({layoutmod.SASLAUTHD_CONF} is not read)",
            hint=f'Set MECHANISMS="ldap" in {layoutmod.SASLAUTHD_DEFAULTS}, then `sudo systemctl restart saslauthd`.',
            detail=detail,
            reproduce=reproduce,
            facts={fact.LINK: "saslauthd"},
        )
    if start.strip().lower() != "yes" and not running:
        raise CheckFailed(
            ids.HOST_SASLAUTHD_OFF,
            f"START={start} in {layoutmod.SASLAUTHD_DEFAULTS}: saslauthd's init script does not start it, and it "
            "does not run, so prosody's every login fails",
            hint=f"Set START=yes in {layoutmod.SASLAUTHD_DEFAULTS}, then `sudo systemctl enable --now saslauthd`.",
            detail=detail,
            reproduce=reproduce,
            facts={fact.LINK: "saslauthd"},
        )
    notes: list[str] = []
    words = options.split()
    if "-m" not in words:
        notes.append(
            "OPTIONS has no -m: saslauthd uses its compiled-in run dir (Debian's default is -m /var/run/saslauthd)"
        )
    if "-c" not in words:
        notes.append("OPTIONS has no -c: no credential cache (every login asks the directory)")
    if start.strip().lower() != "yes":
        notes.append(f"START={start}: saslauthd runs now, but its init script will not start it at the next boot")
    if notes:
        detail["notes"] = notes
    return Outcome(
        summary=f'START={start}, MECHANISMS="{mechanisms}", OPTIONS="{options}"',
        detail=detail,
        warn=start.strip().lower() != "yes",
        reproduce=reproduce,
    )


def sasl_group(ctx: Any) -> Outcome:
    """prosody's user may enter saslauthd's run dir: Debian keeps it root:sasl 0710, so it must be in `sasl`."""
    session = host_session(ctx)
    user = session.prosody_user() or "prosody"
    groups = session.layout.groups_of(user)
    f = session.facts()
    run_dir = next(
        (p for p, st in f.stats.items() if st.kind == "directory" and "saslauthd" in p), "/var/run/saslauthd"
    )
    st = f.stats.get(run_dir)
    detail: dict[str, object] = {"prosody user": user, "groups": list(groups or ()), "run dir": run_dir}
    if st is not None:
        detail["run dir mode"] = f"{st.mode} {st.owner}:{st.group}"
    if groups is None:
        raise StepSkipped(f"not checked: no user {user} in /etc/passwd")
    needed = st.group if st is not None and st.group not in ("root", "UNKNOWN") else "sasl"
    if needed not in groups and not (st is not None and st.mode.endswith("5")):
        raise CheckFailed(
            ids.HOST_SASL_GROUP,
            f"{user} is not in the {needed} group, so it cannot enter {run_dir} to reach saslauthd's socket: "
            "every login fails with a generic failure",
            hint=f"`sudo adduser {user} {needed}`, then `sudo systemctl restart prosody` (a running process keeps "
            "its old groups).",
            detail=detail,
            reproduce=f"id {user}; ls -ld {run_dir}",
            facts={fact.LINK: "saslauthd"},
        )
    return Outcome(summary=f"{user} is in the {needed} group ({run_dir})", detail=detail)


def cyrus_module(ctx: Any) -> Outcome:
    """`authentication = "cyrus"` needs mod_auth_cyrus in one of prosody's module directories."""
    session = host_session(ctx)
    site = session.site()
    main = site.main
    if main is None or main.authentication != "cyrus":
        raise StepSkipped('the main VirtualHost does not use authentication = "cyrus"')
    text = site.prosody.text() if site.prosody is not None else ""
    paths = [p.strip().strip("\"'") for m in _PLUGIN_PATHS.finditer(text) for p in m.group(1).split(",")]
    dirs = session.layout.module_dirs(site.settings, [p for p in paths if p])
    found = session.layout.find_module("auth_cyrus", dirs)
    detail: dict[str, object] = {"module dirs": dirs or ["(none found)"]}
    if found is None:
        raise CheckFailed(
            ids.HOST_NO_CYRUS,
            f"no mod_auth_cyrus in prosody's module directories ({', '.join(dirs) or 'none found'})",
            hint="Install mod_auth_cyrus (Debian: `sudo apt install prosody-modules`, or copy it into a plugin_paths "
            "directory), then `sudo systemctl restart prosody`.",
            detail=detail,
            reproduce="find / -name 'mod_auth_cyrus*' 2>/dev/null",
            facts={fact.LINK: "prosody"},
        )
    detail["module"] = found
    return Outcome(summary=f"mod_auth_cyrus: {found}", detail=detail)


def steps() -> list[Step[Any]]:
    """The host's own LDAP setup, before the saslauthd steps shared with the docker kind."""
    find = frozenset({FIND})
    return [
        Step(id=DEFAULTS, title="/etc/default/saslauthd", run=saslauthd_defaults, requires=find),
        Step(id=SASL_GROUP, title="prosody in the sasl group", run=sasl_group, requires=find),
        Step(id=CYRUS, title="mod_auth_cyrus", run=cyrus_module, requires=find),
    ]
