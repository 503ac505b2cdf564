"""Container steps every auth mode shares: find prosody, its image generation, env drift, prosody's rendered
auth config, and DNS/TCP from inside. A mode passes in what differs (keys, expected `authentication`).

The steps take any runner context that has a `session` (the session itself, or a mode's view on it), so a
mode runs them in one phase with its own steps.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

from ldapcheck.adapters import docker as dockeradapter
from ldapcheck.core import catalogue as ids
from ldapcheck.core import facts as fact
from ldapcheck.core.facts import LINK, NET, PATH
from ldapcheck.core.step import CheckFailed, Outcome, Step, StepSkipped
from ldapcheck.jitsi import modes
from ldapcheck.jitsi.container.session import PROSODY_CONFIGS, ContainerSession
from ldapcheck.jitsi.prosody import ProsodyHost, parse_prosody_hosts

if TYPE_CHECKING:
    from docker.models.containers import Container

from ldapcheck.jitsi.fixes import RECREATE

FIND = "container.find"
GENERATION = "container.generation"


class InContainer(Protocol):
    """A runner context with a container session."""

    values: dict[str, object]

    @property
    def session(self) -> ContainerSession: ...


S = TypeVar("S", bound=InContainer)

# What a mode checks on its VirtualHost once `authentication` is right: raises CheckFailed, or returns a
# note for the summary (e.g. " (application xmpp)").
HostCheck = Callable[[ContainerSession, ProsodyHost, dict[str, object], str], str]


UPSTREAM_NAME = "docker-jitsi-meet-prosody-1"  # a git clone into docker-jitsi-meet/, Compose v2


def find(ctx: InContainer) -> Outcome:
    """Find the prosody container (and make sure a container named with --container is one)."""
    session = ctx.session
    container = session.locate()
    labels = dockeradapter.compose_labels(container)
    detail: dict[str, object] = {"id": container.short_id, "image": dockeradapter.describe(container)}
    if labels.get(dockeradapter.COMPOSE_PROJECT_LABEL):
        detail["compose project"] = labels[dockeradapter.COMPOSE_PROJECT_LABEL]
    evidence = _prosody_evidence(session, container, labels)
    if evidence:
        detail["prosody"] = evidence
    return Outcome(summary=f"{dockeradapter.describe(container)}", detail=detail, value=container.name)


def _prosody_evidence(session: ContainerSession, container: Container, labels: Mapping[str, str]) -> str:
    """Why this is a prosody container ("" when its compose service or image says so); raises DOCKER-NOT-PROSODY.

    Without a prosody label or image name, the facts exec decides: a prosody process, a rendered prosody
    config or the prosody binary (a custom image may be named anything; an LDAP server's container has none).
    """
    service = labels.get(dockeradapter.COMPOSE_SERVICE_LABEL, "")
    image = dockeradapter.image_name(container)
    if service == "prosody" or "prosody" in image.lower():
        return ""
    f = session.facts()
    if f.prosody():
        return f"a prosody process (pid {f.prosody()[0].pid})"
    config = next((p for p in PROSODY_CONFIGS if p in f.files), None)
    if config is not None:
        return f"prosody config at {config}"
    if f.has_binary("prosody"):
        return f"prosody binary at {f.binaries['prosody']}"
    project = labels.get(dockeradapter.COMPOSE_PROJECT_LABEL, "")
    example = f"{project}-prosody-1" if project else UPSTREAM_NAME
    what = f"image {image}" + (f", compose service {service}" if service else "")
    raise CheckFailed(
        ids.DOCKER_NOT_PROSODY,
        f"{session.name} is not a prosody container: {what}; no prosody process, no prosody config "
        f"({', '.join(PROSODY_CONFIGS)}) and no prosody binary in it; pass the prosody container, e.g. {example}",
        hint="Pass the prosody container with --container, or leave --container out to find it by its compose "
        "label (service prosody).",
        detail={"image": image, "compose service": service or "(none)"},
        reproduce=f"docker ps --filter label={dockeradapter.COMPOSE_SERVICE_LABEL}=prosody "
        "--format '{{.Names}}\t{{.Image}}\t{{.Status}}'",
    )


def generation_step(notes: Mapping[str, str] | None = None) -> Step[S]:
    """Image generation from the file layout; `notes` (generation → mode path) name what it means for the mode."""
    notes = notes or {}

    def run(ctx: S) -> Outcome:
        session = ctx.session
        gen, evidence = session.generation()
        detail: dict[str, object] = {"evidence": evidence or ["no layout markers; assuming the current layout"]}
        label = {"current": "rootless (stable-11146+)", "debian": "Debian packages"}.get(gen, "pre-rootless")
        if notes.get(gen):
            label += f": {notes[gen]}"
        paths = " ".join([*notes.values(), "/run/prosody/config", "/config"])
        return Outcome(
            summary=label + ("" if evidence else " (assumed)"),
            detail=detail,
            warn=not evidence,
            value=gen,
            reproduce=session.shell(f"ls -l {paths}") if session.kind == "docker" else "ls -l /etc/prosody/conf.d",
            # A guessed layout is ldapcheck's uncertainty, not something that breaks a login.
            facts={fact.LOGIN_UNAFFECTED: True} if not evidence else {},
        )

    return Step(id=GENERATION, title="Image generation", run=run, requires=frozenset({FIND}))


def env_drift_step(keys: Sequence[str], secret_keys: Collection[str], shown: Sequence[str] = ()) -> Step[S]:
    """The container's environment vs --env-file on `keys` (values of `secret_keys` masked; `shown` in the
    reproduce line)."""

    def run(ctx: S) -> Outcome:
        session = ctx.session
        expected = session.options.expected_env
        if expected is None:
            raise StepSkipped("no --env-file given: nothing to compare the container's environment with")
        actual = session.env()
        differences: list[str] = []
        for key in keys:
            # Unset and empty differ: compose passes `NAME=` as "", and a missing NAME not at all.
            want, have = expected.get(key), actual.get(key)
            if key in secret_keys:
                session.secrets.update(v for v in (want, have) if v)
            if want == have:
                continue
            if key in secret_keys:
                differences.append(f"{key} differs")
            else:
                differences.append(f"{key}: .env {_shown(want)}, container {_shown(have)}")
        env_file = session.options.env_file
        detail: dict[str, object] = {"env_file": env_file or "(given)", "compared": len(keys)}
        if differences:
            detail["differences"] = differences
            raise CheckFailed(
                ids.JM_RECREATE,
                f"{session.name} runs with other values than {env_file or '.env'}: " + "; ".join(differences),
                hint="The container was not recreated after .env changed (a restart keeps the old environment). "
                f"Run `{RECREATE}`.",
                detail=detail,
                reproduce=f"docker exec {session.name} printenv {' '.join(shown or keys)}",
            )
        return Outcome(summary=f"the container's {len(keys)} auth variables match the .env file", detail=detail)

    return Step(id="container.env_drift", title="Container env vs .env", run=run, requires=frozenset({FIND}))


def _shown(value: str | None) -> str:
    return "(unset)" if value is None else repr(value)


def prosody_config_run(mode: str, authentication: str, check_host: HostCheck | None = None) -> Callable[[S], Outcome]:
    """prosody's rendered config: `authentication` on XMPP_DOMAIN's VirtualHost (what `mode` renders)."""

    def run(ctx: S) -> Outcome:
        session = ctx.session
        env = session.env()
        found = session.prosody_files()
        if found is None:
            raise StepSkipped("no rendered prosody.cfg.lua in /run/prosody/config or /config")
        path, included, text = found
        domain = session.xmpp_domain
        conf_dir = path.rsplit("/", 1)[0] + "/conf.d/"
        _globals, hosts = parse_prosody_hosts(text)
        where = f"{path} {conf_dir}*.cfg.lua" if included else path
        reproduce = session.shell(f"grep -n -A3 'VirtualHost \"{domain}\"' {where}")
        host = hosts.get(domain)
        detail: dict[str, object] = {"files": [path, *included], "XMPP_DOMAIN": domain, "hosts": sorted(hosts)}
        if host is None:
            raise CheckFailed(
                ids.JM_AUTH_TYPE,
                f'{where} has no VirtualHost "{domain}" (XMPP_DOMAIN): prosody serves {sorted(hosts)}',
                hint=_domain_hint(session),
                detail=detail,
                reproduce=reproduce,
            )
        detail["authentication"] = host.authentication
        if host.authentication != authentication:
            switches = modes.auth_modes(env)
            if session.kind == "host":
                detail["gate"] = "authentication"
                reason = f"the {mode} mode needs authentication = {authentication!r} on it"
                hint = f'Set authentication = "{authentication}" in that VirtualHost, then `{session.apply_hint()}`.'
            elif not switches.enabled:
                detail["gate"] = "ENABLE_AUTH"
                reason = f"ENABLE_AUTH={env.get('ENABLE_AUTH', '(unset)')} is off, so prosody never asks for a password"
                hint = "Set ENABLE_AUTH=1 in .env and recreate prosody: " + RECREATE
            else:
                detail["gate"] = "AUTH_TYPE"
                reason = f"PROSODY_AUTH_TYPE/AUTH_TYPE is {switches.prosody_auth_type!r}, not exactly {mode!r}"
                hint = (
                    f"Set AUTH_TYPE={mode} (lower case; PROSODY_AUTH_TYPE unset or {mode}) and recreate prosody: "
                    + RECREATE
                )
            raise CheckFailed(
                ids.JM_AUTH_TYPE,
                f'VirtualHost "{domain}" uses authentication = "{host.authentication}", not "{authentication}": '
                + reason,
                hint=hint,
                detail=detail,
                reproduce=reproduce,
            )
        note = check_host(session, host, detail, reproduce) if check_host is not None else ""
        return Outcome(summary=f'VirtualHost "{domain}": authentication = "{authentication}"{note}', detail=detail)

    return run


def _domain_hint(session: ContainerSession) -> str:
    if session.kind == "host":
        return (
            "The VirtualHost of the site's domain (config.js hosts.domain, jicofo's login-url) must be in a file "
            f"prosody loads (/etc/prosody/conf.d); then `{session.apply_hint()}`."
        )
    return "XMPP_DOMAIN must be the same in .env and in the container; recreate prosody: " + RECREATE


def net_step(host: str, port: int) -> Step[S]:
    """A step for DNS + TCP from inside the container to one server (compared with the host's own step)."""
    hostport = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def run(ctx: S) -> Outcome:
        session = ctx.session
        f = session.facts()
        session.charge("facts", f.net_ms.get((host, port), 0.0))
        if host not in f.dns or (host, port) not in f.tcp:
            # An incomplete probe is not a network finding: say so instead of guessing.
            raise CheckFailed(
                ids.DOCKER_EXEC,
                f"the in-container probe did not report on {hostport}",
                hint="Rerun; if it persists, run the reproduce command to see what the container says.",
            )
        dns_rc, addresses = f.dns[host]
        tcp_rc = f.tcp[(host, port)]
        host_ok = session.passed(f"net.tcp[{hostport}]")
        on_host = " (it works from the host)" if host_ok else ""
        probe_cmd = f'getent hosts {host}; timeout 5 bash -c "exec 3<>/dev/tcp/{host}/{port}" && echo open'
        reproduce = f"docker exec {session.name} bash -c {shlex.quote(probe_cmd)}"
        detail: dict[str, object] = {"getent hosts": addresses or f"exit {dns_rc}", "tcp": _tcp_text(tcp_rc)}
        if host_ok:
            detail["from the host"] = "reachable"
        container_fid = ids.NET_CONTAINER if host_ok else None
        # A server only the .env names tells what a recreate would meet, not what saslauthd meets today.
        path = {} if session.runs_target(host, port) else {PATH: "env"}
        if dns_rc != 0:
            raise CheckFailed(
                container_fid or ids.NET_DNS,
                f"{host} does not resolve inside {session.name}{on_host}",
                hint=f"Use a name the container resolves (`docker exec {session.name} getent hosts {host}`), "
                "fix the container's DNS, or add it with extra_hosts in docker-compose.override.yml.",
                detail=detail,
                reproduce=reproduce,
                facts={LINK: "dns", NET: "dns", **path},
            )
        if tcp_rc != 0:
            fid = ids.NET_TIMEOUT if tcp_rc == 124 else ids.NET_REFUSED
            raise CheckFailed(
                container_fid or fid,
                f"{hostport} is not reachable from inside {session.name}: {_tcp_text(tcp_rc)}{on_host}",
                hint="Reachable from the host but not from prosody: check the compose network, DNS and firewall."
                if container_fid
                else f"Check that the server listens on {hostport} and the firewall lets the container through.",
                detail=detail,
                reproduce=reproduce,
                facts={LINK: "tcp", NET: "timeout" if tcp_rc == 124 else "refused", **path},
            )
        return Outcome(
            summary=f"{host} resolves ({addresses.split()[0] if addresses else host}) and {hostport} accepts TCP",
            detail=detail,
            reproduce=reproduce,
            facts={LINK: "tcp", **path},
        )

    return Step(
        id=f"container.net[{hostport}]",
        title=f"Container → {hostport}",
        run=run,
        requires=frozenset({GENERATION}),
    )


def _tcp_text(rc: int) -> str:
    return {0: "connected", 124: "no answer within 5 s", -1: "not probed"}.get(rc, "refused or unreachable")


def head_steps(notes: Mapping[str, str] | None = None) -> list[Step[S]]:
    """container.find and container.generation: what every container phase starts with."""
    return [Step(id=FIND, title="Prosody container", run=find), generation_step(notes)]


def net_steps(servers: Sequence[tuple[str, int]]) -> list[Step[S]]:
    """One DNS+TCP step per distinct server."""
    return [net_step(host, port) for host, port in dict.fromkeys(servers)]
