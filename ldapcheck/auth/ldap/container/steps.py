"""Container steps about the running system: find prosody, its generation, saslauthd, the network, the real login."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from ldapcheck.adapters import docker as dockeradapter
from ldapcheck.auth.ldap.container import config as cfg
from ldapcheck.auth.ldap.container import login as login_steps
from ldapcheck.auth.ldap.verdict import decide
from ldapcheck.core.model import Report, Status
from ldapcheck.core.runner import run_steps
from ldapcheck.core.step import CheckFailed, Outcome, Step
from ldapcheck.jitsi.container.failures import DOCKER_EXEC
from ldapcheck.jitsi.container.session import ContainerContext, ContainerOptions

SA_SOCKET = "SA-SOCKET"
NET_CONTAINER = "NET-CONTAINER"


def find(ctx: ContainerContext) -> Outcome:
    """Find the prosody container."""
    container = ctx.locate()
    labels = dockeradapter.compose_labels(container)
    detail: dict[str, object] = {"id": container.short_id, "image": dockeradapter.describe(container)}
    if labels.get("com.docker.compose.project"):
        detail["compose project"] = labels["com.docker.compose.project"]
    return Outcome(summary=f"{dockeradapter.describe(container)}", detail=detail, value=container.name)


def generation(ctx: ContainerContext) -> Outcome:
    """Image generation (file layout)."""
    gen, evidence = ctx.generation()
    detail: dict[str, object] = {"evidence": evidence or ["no layout markers; assuming the current layout"]}
    label = "rootless (stable-11146+): /run/saslauthd.conf" if gen == "current" else "pre-rootless: /etc/saslauthd.conf"
    return Outcome(
        summary=label + ("" if evidence else " (assumed)"),
        detail=detail,
        warn=not evidence,
        value=gen,
        reproduce=f"docker exec {ctx.name} ls -l /run/saslauthd.conf /etc/saslauthd.conf /run/prosody/config /config",
    )


def saslauthd_process(ctx: ContainerContext) -> Outcome:
    """saslauthd running, and its options."""
    opts = ctx.saslauthd_options()
    procs = "for p in /proc/[0-9]*/cmdline; do tr '\\0' ' ' <$p; echo; done | grep saslauthd"
    reproduce = f"docker exec {ctx.name} bash -c {shlex.quote(procs)}"
    if opts is None:
        env = ctx.env()
        gate = cfg.auth_type_gate(env)
        raise CheckFailed(
            cfg.JM_AUTH_TYPE if gate else SA_SOCKET,
            "saslauthd is not running"
            + (f": {gate}" if gate else " although AUTH_TYPE=ldap (it exited or was killed)"),
            hint=(
                "Set AUTH_TYPE=ldap (exactly, lower case) in .env, then " + cfg.RECREATE
                if gate
                else f"Read saslauthd's last words in `docker logs {ctx.name}`, then `docker compose restart prosody`."
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
            SA_SOCKET,
            f"saslauthd runs with -a {opts.mechanism or '(none)'}, not -a ldap",
            hint="docker-jitsi-meet starts `saslauthd -a ldap`; something else started this one.",
            detail=detail,
            reproduce=reproduce,
        )
    return Outcome(summary=f"running: saslauthd {opts.flags()}", detail=detail, value=opts.cache, reproduce=reproduce)


def saslauthd_socket(ctx: ContainerContext) -> Outcome:
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
    reproduce = f"docker exec -u {user} {ctx.name} testsaslauthd -u probe -p x -s xmpp  # expect NO, not connect()"
    st = f.stats.get(path)
    if st is None or st.kind != "socket":
        raise CheckFailed(
            SA_SOCKET,
            f"{path} does not exist" + (f" ({st.kind})" if st else ""),
            # The process step passed, so saslauthd's master still runs. Seen for real: a TERMed `saslauthd -d`
            # removes its socket, then deadlocks logging from a signal handler and never exits.
            hint="saslauthd runs but nothing listens on its socket: it was told to stop and hung on exit, "
            "or the directory was cleaned under it. Restart prosody (`docker compose restart prosody`).",
            detail=detail,
            reproduce=reproduce,
        )
    probed = ctx.probe()
    ctx.charge("probe", probed.ms("sasl_connect"))
    rec = probed.get("sasl_connect")
    if rec is None:
        raise CheckFailed(SA_SOCKET, "the socket probe did not run", detail=detail, reproduce=reproduce)
    if not rec.ok:
        raise CheckFailed(
            SA_SOCKET,
            f"user {user} cannot connect to {path}: {rec.field(0)}",
            hint=f"Prosody (user {user}) must reach the socket: the image creates {run_dir} with `mkdir -pm777`; "
            f"fix its mode (`chmod 0777 {run_dir}`) or the user's groups, or recreate the container.",
            detail=detail,
            reproduce=reproduce,
        )
    return Outcome(summary=f"{path} accepts connections from user {user}", detail=detail, reproduce=reproduce)


def net_step(host: str, port: int) -> Step[ContainerContext]:
    """A step for DNS + TCP from inside the container to one LDAP server."""
    hostport = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def run(ctx: ContainerContext) -> Outcome:
        f = ctx.facts()
        ctx.charge("facts", f.net_ms.get((host, port), 0.0))
        if host not in f.dns or (host, port) not in f.tcp:
            # An incomplete probe is not a network finding: say so instead of guessing.
            raise CheckFailed(
                DOCKER_EXEC,
                f"the in-container probe did not report on {hostport}",
                hint="Rerun; if it persists, run the reproduce command to see what the container says.",
            )
        dns_rc, addresses = f.dns[host]
        tcp_rc = f.tcp[(host, port)]
        host_ok = login_steps.host_passed(ctx, f"net.tcp[{hostport}]")
        on_host = " (it works from the host)" if host_ok else ""
        probe_cmd = f'getent hosts {host}; timeout 5 bash -c "exec 3<>/dev/tcp/{host}/{port}" && echo open'
        reproduce = f"docker exec {ctx.name} bash -c {shlex.quote(probe_cmd)}"
        detail: dict[str, object] = {"getent hosts": addresses or f"exit {dns_rc}", "tcp": _tcp_text(tcp_rc)}
        if host_ok:
            detail["from the host"] = "reachable"
        container_fid = NET_CONTAINER if host_ok else None
        if dns_rc != 0:
            raise CheckFailed(
                container_fid or "NET-DNS",
                f"{host} does not resolve inside {ctx.name}{on_host}",
                hint=f"Use a name the container resolves (`docker exec {ctx.name} getent hosts {host}`), "
                "fix the container's DNS, or add it with extra_hosts in docker-compose.override.yml.",
                detail=detail,
                reproduce=reproduce,
            )
        if tcp_rc != 0:
            fid = "NET-TIMEOUT" if tcp_rc == 124 else "NET-REFUSED"
            raise CheckFailed(
                container_fid or fid,
                f"{hostport} is not reachable from inside {ctx.name}: {_tcp_text(tcp_rc)}{on_host}",
                hint="Reachable from the host but not from prosody: check the compose network, DNS and firewall."
                if container_fid
                else f"Check that the server listens on {hostport} and the firewall lets the container through.",
                detail=detail,
                reproduce=reproduce,
            )
        return Outcome(
            summary=f"{host} resolves ({addresses.split()[0] if addresses else host}) and {hostport} accepts TCP",
            detail=detail,
            reproduce=reproduce,
        )

    return Step(
        id=f"container.net[{hostport}]",
        title=f"Container → {hostport}",
        run=run,
        requires=frozenset({"container.generation"}),
    )


def _tcp_text(rc: int) -> str:
    return {0: "connected", 124: "no answer within 5 s", -1: "not probed"}.get(rc, "refused or unreachable")


def container_steps(
    servers: Sequence[tuple[str, int]] = (), *, login_only: bool = False
) -> list[Step[ContainerContext]]:
    """The container chain, in order; `login_only` keeps what `testsasl` needs."""
    gen = frozenset({"container.generation"})
    head: list[Step[ContainerContext]] = [
        Step(id="container.find", title="Prosody container", run=find),
        Step(
            id="container.generation", title="Image generation", run=generation, requires=frozenset({"container.find"})
        ),
    ]
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
            requires=frozenset({"container.generation"}),  # when asked for, it also shows connect() errors
        ),
    ]
    if login_only:
        return [*head, process, sock, *login]
    config: list[Step[ContainerContext]] = [
        Step(
            id="container.env_drift",
            title="Container env vs .env",
            run=cfg.env_drift,
            requires=frozenset({"container.find"}),
        ),
        Step(id="container.saslauthd_conf", title="saslauthd.conf vs env", run=cfg.saslauthd_conf, requires=gen),
        process,
        sock,
        Step(id="container.sasl_app_conf", title="SASL app config (xmpp.conf)", run=cfg.sasl_app_conf, requires=gen),
        Step(id="container.prosody_config", title="Prosody auth config", run=cfg.prosody_config, requires=gen),
    ]
    nets = [net_step(host, port) for host, port in dict.fromkeys(servers)]
    chain = Step(
        id="container.ldap_chain", title="LDAP chain inside container", run=login_steps.ldap_chain, requires=gen
    )
    return [*head, *config, *nets, chain, *login]


def run_container_chain(command: str, options: ContainerOptions, *, login_only: bool = False) -> Report:
    """Run the container steps alone (`ldapcheck testsasl`) into a report with its verdict."""
    ctx = ContainerContext(options=options)
    ctx.prefetch()
    results, internal = run_steps(
        container_steps(options.servers, login_only=login_only), ctx, background_ms=ctx.claim_background_ms
    )
    return Report(
        command=command,
        steps=results,
        verdict=decide(results),
        meta={"container": ctx.name if ctx.container is not None else None, "login": options.login},
        secrets=frozenset(ctx.secrets),
        internal_error=internal,
    )


def start(options: ContainerOptions, *, inputs_later: bool = False) -> ContainerContext:
    """A context whose container lookup and execs already run in the background (call before the host chain).

    `inputs_later`: only the engine lookup starts; the execs wait for `ctx.provide(login=…, servers=…)`.
    """
    ctx = ContainerContext(options=options)
    ctx.prefetch(inputs_later=inputs_later)
    return ctx


def extend_report(report: Report, options: ContainerOptions, ctx: ContainerContext | None = None) -> Report:
    """Append the container steps to a host-chain report (diagnose) and decide the verdict over both.

    The container steps learn which host steps passed (the runner's convention: a passed step has a value),
    so they can tell "fails only inside the container" (NET-CONTAINER) from "fails everywhere".
    """
    if ctx is None:
        ctx = ContainerContext(options=options)
    ctx.secrets.update(report.secrets)
    ctx.values.update({r.id: None for r in report.steps if r.status in (Status.PASS, Status.WARN)})
    results, internal = run_steps(container_steps(ctx.targets()), ctx, background_ms=ctx.claim_background_ms)
    steps = [*report.steps, *results]
    meta = {**report.meta, "container": ctx.name if ctx.container is not None else None}
    return Report(
        command=report.command,
        steps=steps,
        verdict=decide(steps),
        meta=meta,
        secrets=frozenset(ctx.secrets),
        internal_error=report.internal_error or internal,
    )
