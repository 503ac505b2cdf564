"""The LDAP container chain: the generic container steps (jitsi/container/steps.py) with LDAP's keys, then
saslauthd (process, socket), its config, the LDAP chain inside the container and the real login."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from ldapcheck.auth.ldap.container import config as cfg
from ldapcheck.auth.ldap.container import login as login_steps
from ldapcheck.auth.ldap.container.view import CURRENT_CONF, LEGACY_CONF, SaslauthdView
from ldapcheck.core import catalogue as ids
from ldapcheck.core.step import CheckFailed, Outcome, Step
from ldapcheck.jitsi.container import steps as jsteps


def saslauthd_process(ctx: SaslauthdView) -> Outcome:
    """saslauthd running, and its options."""
    opts = ctx.saslauthd_options()
    procs = "for p in /proc/[0-9]*/cmdline; do tr '\\0' ' ' <$p; echo; done | grep saslauthd"
    reproduce = ctx.session.shell(f"bash -c {shlex.quote(procs)}")
    if opts is None:
        env = ctx.env()
        gate = cfg.auth_type_gate(env)
        raise CheckFailed(
            ids.JM_AUTH_TYPE if gate else ids.SA_SOCKET,
            "saslauthd is not running"
            + (f": {gate}" if gate else " although AUTH_TYPE=ldap (it exited or was killed)"),
            hint=(
                f"Set {ctx.session.config_place('AUTH_TYPE')} to ldap (exactly, lower case), then "
                f"`{ctx.session.apply_hint()}`"
                if gate
                else f"Read saslauthd's last words in `{ctx.session.logs_command('saslauthd')}`, then "
                f"`{ctx.session.restart_hint('saslauthd')}`."
            ),
            detail={"AUTH_TYPE": env.get("AUTH_TYPE", "(unset)"), "gate": "AUTH_TYPE" if gate else "process"},
            reproduce=reproduce,
        )
    workers = ctx.facts().saslauthd()
    detail: dict[str, object] = {
        "options": opts.flags(),
        "processes": len(workers),
        "credential cache": "on (-c): successful logins are reused for up to 8 h (SA-CACHE)" if opts.cache else "off",
        "conf": opts.conf_path,
        "socket": opts.socket,
    }
    if opts.mechanism != "ldap":
        raise CheckFailed(
            ids.SA_SOCKET,
            f"saslauthd runs with -a {opts.mechanism or '(none)'}, not -a ldap",
            hint="docker-jitsi-meet starts `saslauthd -a ldap`; something else started this one.",
            detail=detail,
            reproduce=reproduce,
        )
    return Outcome(summary=f"running: saslauthd {opts.flags()}", detail=detail, value=opts.cache, reproduce=reproduce)


def saslauthd_socket(ctx: SaslauthdView) -> Outcome:
    """saslauthd's socket, connectable by prosody's user."""
    path = ctx.socket_path()
    f = ctx.facts()
    user = ctx.prosody_user() or "(exec default)"
    run_dir = path.rsplit("/", 1)[0]
    detail: dict[str, object] = {"socket": path, "as user": user}
    for p in (run_dir, path):
        st = f.stats.get(p)
        if st is not None:
            detail[p] = f"{st.kind} {st.mode} {st.owner}:{st.group}"
    probe = "testsaslauthd -u probe -p x -s xmpp  # expect NO, not connect()"
    reproduce = ctx.session.shell(probe, user=user if user != "(exec default)" else "")
    st = f.stats.get(path)
    if st is None or st.kind != "socket":
        raise CheckFailed(
            ids.SA_SOCKET,
            f"{path} does not exist" + (f" ({st.kind})" if st else ""),
            # The process step passed, so saslauthd's master still runs. Seen for real: a TERMed `saslauthd -d`
            # removes its socket, then deadlocks logging from a signal handler and never exits.
            hint="saslauthd runs but nothing listens on its socket: it was told to stop and hung on exit, "
            f"or the directory was cleaned under it. Restart it (`{ctx.session.restart_hint('saslauthd')}`).",
            detail=detail,
            reproduce=reproduce,
        )
    probed = ctx.probe()
    ctx.charge("probe", probed.ms("sasl_connect"))
    rec = probed.get("sasl_connect")
    if rec is None:
        raise CheckFailed(ids.SA_SOCKET, "the socket probe did not run", detail=detail, reproduce=reproduce)
    if not rec.ok:
        raise CheckFailed(
            ids.SA_SOCKET,
            f"user {user} cannot connect to {path}: {rec.field(0)}",
            hint=f"Prosody (user {user}) must reach the socket: the image creates {run_dir} with `mkdir -pm777`; "
            f"fix its mode (`chmod 0777 {run_dir}`) or the user's groups, or recreate the container.",
            detail=detail,
            reproduce=reproduce,
        )
    return Outcome(summary=f"{path} accepts connections from user {user}", detail=detail, reproduce=reproduce)


def container_steps(servers: Sequence[tuple[str, int]] = (), *, login_only: bool = False) -> list[Step[SaslauthdView]]:
    """The container chain, in order; `login_only` keeps what `testsasl` needs."""
    gen = frozenset({jsteps.GENERATION})
    head: list[Step[SaslauthdView]] = jsteps.head_steps({"current": CURRENT_CONF, "legacy": LEGACY_CONF})
    process = Step(id="container.saslauthd_process", title="saslauthd process", run=saslauthd_process, requires=gen)
    sock = Step(
        id="container.saslauthd_socket",
        title="saslauthd socket (prosody's user)",
        run=saslauthd_socket,
        requires=frozenset({"container.saslauthd_process"}),
    )
    login = [
        Step(
            id="container.saslauthd_protocol",
            title="Login via saslauthd socket",
            run=login_steps.saslauthd_protocol,
            requires=frozenset({"container.saslauthd_socket"}),
        ),
        Step(
            id="container.testsaslauthd",
            title="Login via testsaslauthd",
            run=login_steps.testsaslauthd,
            requires=gen,  # when asked for, it also shows connect() errors
        ),
    ]
    if login_only:
        return [*head, process, sock, *login]
    config: list[Step[SaslauthdView]] = [
        jsteps.env_drift_step(cfg.DRIFT_KEYS, cfg.SECRET_ENV, cfg.DRIFT_SHOWN),
        Step(id="container.saslauthd_conf", title="saslauthd.conf vs env", run=cfg.saslauthd_conf, requires=gen),
        Step(
            id="container.saslauthd_conf_perms",
            title="saslauthd.conf permissions",
            run=cfg.saslauthd_conf_perms,
            requires=gen,
        ),
        process,
        sock,
        Step(id="container.sasl_app_conf", title="SASL app config (xmpp.conf)", run=cfg.sasl_app_conf, requires=gen),
        Step(id="container.prosody_config", title="Prosody auth config", run=cfg.prosody_config, requires=gen),
    ]
    nets: list[Step[SaslauthdView]] = jsteps.net_steps(servers)
    chain = Step(
        id="container.ldap_chain", title="LDAP chain inside container", run=login_steps.ldap_chain, requires=gen
    )
    return [*head, *config, *nets, chain, *login]
