"""The steps of the "Debian packages on this host" deployment that a container has no counterpart for: which
deployment this is (and why), the services, and prosody's config as prosody reads it (conf.d vs conf.avail).

Everything after them is shared with the docker kind (the mode's prosody/account/saslauthd steps, web's config,
jicofo, the real logins): they take the session, and only the session locates, reads and runs differently.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from typing import Any

from ldapcheck.core import catalogue as ids
from ldapcheck.core import facts as fact
from ldapcheck.core.step import CheckFailed, Outcome, Step, StepSkipped
from ldapcheck.jitsi.container.steps import FIND, generation_step
from ldapcheck.jitsi.deploy import host as layoutmod
from ldapcheck.jitsi.deploy.local import HostSession, _run, host_session, systemd_running

SERVICES = "host.services"
CONF_LINKS = "host.conf_links"
JOURNAL_LINES = 10


def find(ctx: Any) -> Outcome:
    """This host is a Debian-package Jitsi: which files say so, and the site's main host (and why)."""
    session = host_session(ctx)
    here = session.locate()
    site = session.site()
    detail: dict[str, object] = {
        "deployment": "Debian packages on this host",
        "evidence": list(getattr(here, "evidence", ())),
        "detected": session.values.get("deployment.reason", "--deployment host"),
        "main host": f"{site.domain} ({site.domain_source})" if site.domain else "(none found)",
    }
    if not site.domain:
        raise CheckFailed(
            ids.JM_AUTH_TYPE,
            "cannot tell the site's domain: no /etc/jitsi/meet/<host>-config.js with hosts.domain, no login-url in "
            "jicofo.conf, and not exactly one user VirtualHost in prosody's config",
            hint="Write hosts.domain in /etc/jitsi/meet/<host>-config.js (the jitsi-meet-web-config package does).",
            detail=detail,
            reproduce="ls /etc/jitsi/meet/ /etc/prosody/conf.d/",
            facts={fact.DEPLOYMENT: "host"},
        )
    return Outcome(
        summary=f"Debian packages on this host, main host {site.domain}",
        detail=detail,
        value="host",
        facts={fact.DEPLOYMENT: "host"},
    )


def services_step(services: Sequence[str]) -> Step[Any]:
    """`services` running: `systemctl is-active` when systemd runs this host, else their processes in /proc."""

    def run(ctx: Any) -> Outcome:
        session = host_session(ctx)
        f = session.facts()
        running: dict[str, str] = {}
        systemd = systemd_running(session.layout) and shutil.which("systemctl") is not None
        for name in services:
            if systemd:
                state = _run(["systemctl", "is-active", name], stdin=None, timeout=5).stdout.strip() or "unknown"
                running[name] = state
            else:
                procs = f.prosody() if name == "prosody" else f.saslauthd() if name == "saslauthd" else []
                running[name] = f"running (pid {procs[0].pid})" if procs else "no process"
        down = [n for n, s in running.items() if s not in ("active",) and not s.startswith("running")]
        detail: dict[str, object] = {"init": "systemd" if systemd else "no systemd: processes in /proc", **running}
        if down:
            for name in down:
                detail[f"{name}: last log lines"] = _last_lines(session, name, systemd) or ["(none)"]
            how = "systemctl status" if systemd else "/etc/init.d/<service> status;"
            raise CheckFailed(
                ids.HOST_SERVICE,
                f"{', '.join(down)} not running on this host",
                hint=f"Read `{how} {' '.join(down)}` and the log lines, fix the error, then "
                + (
                    f"`sudo systemctl enable --now {' '.join(down)}`."
                    if systemd
                    else f"`sudo /etc/init.d/{down[0]} start`."
                ),
                detail=detail,
                reproduce=f"systemctl is-active {' '.join(services)}"
                if systemd
                else "ps -ef | grep -E 'prosody|saslauthd'",
                facts={fact.LINK: "saslauthd" if down == ["saslauthd"] else "prosody", "host.down": down},
            )
        return Outcome(summary=", ".join(f"{n} {s}" for n, s in running.items()), detail=detail)

    return Step(id=SERVICES, title="Services", run=run, requires=frozenset({FIND}))


def _last_lines(session: HostSession, name: str, systemd: bool) -> list[str]:
    """The unit's last journal lines (systemd), else prosody's own log files (bounded tails)."""
    if systemd and shutil.which("journalctl"):
        out = _run(
            ["journalctl", "--no-pager", "-q", "-u", name, "-n", str(JOURNAL_LINES)], stdin=None, timeout=10
        ).stdout
        return out.splitlines()[-JOURNAL_LINES:]
    if name == "prosody":
        lines: list[str] = []
        for path in layoutmod.PROSODY_LOGS:
            lines += [f"{path}: {line}" for line in session.layout.tail(path, lines=JOURNAL_LINES // 2) or []]
        return lines
    return []


def conf_links(ctx: Any) -> Outcome:
    """prosody reads conf.d through its Include; the site's hosts must be in a file linked there from conf.avail."""
    session = host_session(ctx)
    site = session.site()
    files = site.prosody
    if files is None:
        raise StepSkipped(f"not checked: {layoutmod.PROSODY_CFG} cannot be read (run as root)")
    links = session.layout.conf_links()
    loaded = set(site.hosts)
    wanted = [h for h in (site.domain, site.web.anonymousdomain if site.web else "") if h]
    detail: dict[str, object] = {
        "Include": list(files.includes) or ["(none)"],
        "loaded files": list(files.included),
        "conf.avail": [f"{link.name} ({'linked' if link.linked else 'not linked'})" for link in links],
        "VirtualHosts prosody loads": sorted(loaded),
    }
    unlinked = [link for link in links if not link.linked and any(h in link.hosts for h in wanted if h not in loaded)]
    if unlinked:
        link = unlinked[0]
        missing = [h for h in link.hosts if h in wanted and h not in loaded]
        raise CheckFailed(
            ids.HOST_CONF_UNLINKED,
            f"{layoutmod.CONF_AVAIL}/{link.name} declares {', '.join(missing)}, but it is not linked into "
            f"{layoutmod.CONF_D}: prosody never loads it",
            hint=f"`sudo ln -s {layoutmod.CONF_AVAIL}/{link.name} {layoutmod.CONF_D}/{link.name}`, then "
            f"`{session.apply_hint()}`.",
            detail=detail,
            reproduce=f"ls -l {layoutmod.CONF_D} {layoutmod.CONF_AVAIL}",
            facts={fact.LINK: "prosody"},
        )
    if not files.includes:
        detail["note"] = "prosody.cfg.lua has no Include line: only the hosts written in it are loaded"
    return Outcome(
        summary=f"prosody loads {len(files.included)} file(s) from conf.d: {', '.join(sorted(loaded)) or 'no hosts'}",
        detail=detail,
        reproduce=f"ls -l {layoutmod.CONF_D}",
    )


def head_steps(services: Sequence[str]) -> list[Step[Any]]:
    """What a host phase starts with: the deployment, its layout, the services, conf.d vs conf.avail."""
    return [
        Step(id=FIND, title="Jitsi deployment", run=find),
        generation_step(),
        services_step(services),
        Step(id=CONF_LINKS, title="prosody conf.d", run=conf_links, requires=frozenset({FIND})),
    ]
