"""`lab up | down | status`: start, find and remove the lab (idempotent; state in the lab directory)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ldapcheck.lab.accounts import register
from ldapcheck.lab.containers import (
    LABEL_PROJECT,
    LABEL_SERVICE,
    LabPaths,
    jicofo_plan,
    openldap_plan,
    prosody_plan,
    run_container,
    web_plan,
    write_mountable,
    write_private,
)
from ldapcheck.lab.engine import docker_client
from ldapcheck.lab.envfile import write_env_file
from ldapcheck.lab.images import ensure_image, ensure_images
from ldapcheck.lab.ready import wait_for_bind, wait_for_login, wait_for_port, wait_for_saslauthd, wait_for_stream
from ldapcheck.lab.seed import write_seed_dir
from ldapcheck.lab.spec import DEBIAN_HOST_IMAGE, DEFAULT_USERS, LAB_USER, OPENLDAP_IMAGE, LabSpec, new_spec
from ldapcheck.lab.state import LabState, clear_state, lab_root, load_state, save_state

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.models.containers import Container

DEFAULT_PROJECT = "ldapcheck-lab"
Progress = Callable[[str], None]


def project_name() -> str:
    """The compose project label of the CLI's lab (LDAPCHECK_LAB_PROJECT lets tests run a lab of their own)."""
    return os.environ.get("LDAPCHECK_LAB_PROJECT") or DEFAULT_PROJECT


def _quiet(_message: str) -> None:
    return None


@dataclass(frozen=True)
class LabStatus:
    """What `status` (and the end of `up`) reports; never holds a secret."""

    up: bool
    state: LabState | None
    containers: dict[str, str] = field(default_factory=dict)  # name → docker status
    already_running: bool = False
    answering: dict[str, bool] = field(default_factory=dict)  # "ldap"/"ldaps"/"c2s"/… → accepts TCP on 127.0.0.1
    roles: dict[str, str] = field(default_factory=dict)  # name → role (compose service: openldap, prosody, web …)

    def as_json(self) -> dict[str, object]:
        """`lab status --json`: the lab's containers with role, name, status and ports (no secrets)."""
        state = self.state
        ports = state.ports() if state is not None else {}
        return {
            "up": self.up,
            "project": state.project if state is not None else None,
            "deployment": state.deployment if state is not None else None,
            "auth": state.auth if state is not None else None,
            "guests": state.guests if state is not None else None,
            "xmpp_domain": state.xmpp_domain if state is not None else None,
            "public_url": (state.public_url or None) if state is not None else None,
            "env_file": state.env_file if state is not None else None,
            "containers": [
                {
                    "role": self.roles.get(name, ""),
                    "name": name,
                    "status": status,
                    "ports": ports.get(self.roles.get(name, ""), {}),
                }
                for name, status in sorted(self.containers.items())
            ],
            "answering": self.answering,
        }


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def prepare_files(spec: LabSpec, paths: LabPaths) -> None:
    """Seed LDIF, an empty export dir for the CA, and saslauthd.conf rendered by ldapcheck's own renderer."""
    from ldapcheck.auth.ldap.render import render

    paths.root.mkdir(parents=True, exist_ok=True)
    paths.root.chmod(0o700)
    write_seed_dir(spec.seed, paths.seed_dir)
    if paths.export_dir.exists():
        shutil.rmtree(paths.export_dir)
    paths.export_dir.mkdir()
    if spec.uses_ldap:
        # Not mounted by default (the container renders its own from the env): for the escape hatch and compose.
        write_mountable(paths.saslauthd_conf, render(spec.jitsi_env()))


def start_lab(
    client: DockerClient, spec: LabSpec, paths: LabPaths, progress: Progress = _quiet
) -> tuple[Container, Container]:
    """Start openldap and prosody, and wait until alice logs in through saslauthd; removes both on failure."""
    started: list[Container] = []
    try:
        progress(f"starting openldap ({spec.n_users} generated users) on 127.0.0.1:{spec.ldap_port}/{spec.ldaps_port}")
        started.append(run_container(client, openldap_plan(spec, paths)))
        # saslauthd connects to LDAP lazily (first login), so prosody can start while slapd loads.
        progress(f"starting prosody (c2s on 127.0.0.1:{spec.c2s_port}, domain {spec.xmpp_domain})")
        started.append(run_container(client, prosody_plan(spec, paths)))
        openldap, prosody = started
        wait_for_bind(openldap, spec.ldap_port, spec.bind_dn, spec.bind_password)
        progress("slapd answers binds")
        wait_for_port(prosody, spec.c2s_port, what="prosody")
        wait_for_saslauthd(prosody, LAB_USER, spec.lab_password, realm=spec.xmpp_domain)
        progress(f"saslauthd: {LAB_USER} logs in (OK)")
        return openldap, prosody
    except BaseException:
        for container in started:
            container.remove(force=True)
        raise


def start_services(
    client: DockerClient, spec: LabSpec, paths: LabPaths, progress: Progress = _quiet
) -> dict[str, Container]:
    """The whole lab of `spec.auth`: [openldap], prosody (c2s + BOSH/WebSocket), web (nginx), jicofo (rendered only).

    Ready when alice logs in through nginx over BOSH (LDAP: after saslauthd said OK; internal: after
    `prosodyctl register`); jwt: when prosody answers a BOSH stream through nginx (no token module here, so no
    token login). Removes what it started on failure.
    """
    started: dict[str, Container] = {}
    try:
        if spec.uses_ldap:
            progress(
                f"starting openldap ({spec.n_users} generated users) on 127.0.0.1:{spec.ldap_port}/{spec.ldaps_port}"
            )
            started["openldap"] = run_container(client, openldap_plan(spec, paths))
        progress(
            f"starting prosody ({spec.auth}{', guests' if spec.guests else ''}; c2s 127.0.0.1:{spec.c2s_port}, "
            f"BOSH/WebSocket 127.0.0.1:{spec.http_port}, domain {spec.xmpp_domain})"
        )
        started["prosody"] = run_container(client, prosody_plan(spec, paths))
        progress(f"starting web (nginx on 127.0.0.1:{spec.web_port}) and jicofo (jicofo.conf rendered only)")
        started["web"] = run_container(client, web_plan(spec))
        started["jicofo"] = run_container(client, jicofo_plan(spec))
        prosody = started["prosody"]
        if spec.uses_ldap:
            wait_for_bind(started["openldap"], spec.ldap_port, spec.bind_dn, spec.bind_password)
            progress("slapd answers binds")
        wait_for_port(prosody, spec.c2s_port, what="prosody")
        wait_for_port(prosody, spec.http_port, what="prosody BOSH/WebSocket")
        if spec.uses_ldap:
            wait_for_saslauthd(prosody, LAB_USER, spec.lab_password, realm=spec.xmpp_domain)
            progress(f"saslauthd: {LAB_USER} logs in (OK)")
        elif spec.auth == "jwt":
            wait_for_port(started["web"], spec.web_port, what="nginx")
            offered = wait_for_stream(started["web"], f"{spec.public_url}/http-bind", spec.xmpp_domain)
            progress(
                f"prosody answers BOSH through nginx (offers {', '.join(offered) or 'no mechanism'}); "
                "no token login: Debian ships no mod_auth_token (`ldapcheck token mint` works against the .env)"
            )
            return started
        else:
            register(prosody, LAB_USER, spec.xmpp_domain, spec.lab_password)
            progress(f"prosodyctl register {LAB_USER} {spec.xmpp_domain} (password on stdin)")
        wait_for_port(started["web"], spec.web_port, what="nginx")
        wait_for_login(started["web"], f"{spec.public_url}/http-bind", spec.xmpp_domain, LAB_USER, spec.lab_password)
        progress(f"{LAB_USER} logs in through nginx over BOSH")
        return started
    except BaseException:
        for container in started.values():
            container.remove(force=True)
        raise


def _lab_containers(client: DockerClient, state: LabState | None) -> list[Container]:
    import docker.errors

    found = {c.id: c for c in client.containers.list(all=True, filters={"label": f"{LABEL_PROJECT}={project_name()}"})}
    if state is not None:
        for ident, _name in state.containers().values():
            if ident not in found:
                with contextlib.suppress(docker.errors.NotFound):
                    found[ident] = client.containers.get(ident)
    return list(found.values())


def _remove_everything(client: DockerClient, root: Path, state: LabState | None) -> int:
    containers = _lab_containers(client, state)
    for container in containers:
        container.remove(force=True)
    paths = LabPaths(root)
    if state is not None:
        Path(state.env_file).unlink(missing_ok=True)
    for directory in (paths.seed_dir, paths.export_dir):
        shutil.rmtree(directory, ignore_errors=True)
    paths.saslauthd_conf.unlink(missing_ok=True)
    paths.env_file.unlink(missing_ok=True)
    clear_state(root)
    return len(containers)


def _status(client: DockerClient, state: LabState | None) -> LabStatus:
    found = _lab_containers(client, state)
    containers = {str(c.name): str(c.status) for c in found}
    roles = {str(c.name): str((c.labels or {}).get(LABEL_SERVICE, "")) for c in found}
    if state is None:
        return LabStatus(up=False, state=None, containers=containers, roles=roles)
    answering = {
        f"{role}/{listener}": _answers(port)
        for role, ports in state.ports().items()
        for listener, port in ports.items()
    }
    up = all(containers.get(name) == "running" for _ident, name in state.containers().values()) and all(
        answering.values()
    )
    return LabStatus(up=up, state=state, containers=containers, answering=answering, roles=roles)


def status() -> LabStatus:
    client = docker_client()
    return _status(client, load_state(lab_root()))


def up(
    n_users: int = DEFAULT_USERS,
    env_out: Path | None = None,
    progress: Progress = _quiet,
    *,
    auth: str = "ldap",
    guests: bool = False,
    deployment: str = "docker",
) -> LabStatus:
    """Start the lab unless it already runs; write its `.env` (0600) to `env_out` or the lab directory.

    `deployment="host"`: one Debian-package Jitsi host container ([openldap] beside it) instead of the
    docker-jitsi-meet services.
    """
    client = docker_client()
    root = lab_root()
    state = load_state(root)
    current = _status(client, state)
    wanted = (auth, guests, deployment)
    if current.up and state is not None and (state.auth, state.guests, state.deployment) == wanted:
        progress(f"lab already up ({_mode(state.auth, state.guests)}); `ldapcheck lab down` first to change it")
        if env_out is not None and env_out.resolve() != Path(state.env_file).resolve():
            write_private(env_out, Path(state.env_file).read_text(encoding="utf-8"))
            progress(f"wrote {env_out}")
        return LabStatus(up=True, state=state, containers=current.containers, already_running=True, roles=current.roles)
    if current.containers or state is not None:
        progress("removing the remains of an earlier lab" if not current.up else "replacing the running lab")
        _remove_everything(client, root, state)
    spec = new_spec(project_name(), n_users, auth=auth, guests=guests, web=True, deployment=deployment)
    paths = LabPaths(root)
    if deployment == "host":
        from ldapcheck.lab.hostlab import start_host_lab

        for image in (OPENLDAP_IMAGE, DEBIAN_HOST_IMAGE) if spec.uses_ldap else (DEBIAN_HOST_IMAGE,):
            ensure_image(client, image, progress)
        prepare_files(spec, paths)
        started = start_host_lab(client, spec, paths, progress)
    else:
        ensure_images(client, progress)
        prepare_files(spec, paths)
        started = start_services(client, spec, paths, progress)
    env_path = env_out if env_out is not None else paths.env_file
    files = paths.compose_values() if spec.uses_ldap else {}
    if "host" in started:
        files["LAB_HOST_CONTAINER"] = str(started["host"].name)
    write_env_file(env_path, spec.lab_env(str(paths.ca_cert), files))

    def ident(role: str) -> tuple[str, str]:
        container = started.get(role)
        return (str(container.id), str(container.name)) if container is not None else ("", "")

    new_state = LabState(
        project=spec.project,
        openldap_id=ident("openldap")[0],
        prosody_id=ident("prosody")[0],
        openldap_name=ident("openldap")[1],
        prosody_name=ident("prosody")[1],
        ldap_port=spec.ldap_port,
        ldaps_port=spec.ldaps_port,
        c2s_port=spec.c2s_port,
        xmpp_domain=spec.xmpp_domain,
        suffix=spec.suffix,
        n_users=spec.n_users if spec.uses_ldap else 0,
        env_file=str(env_path.resolve()),
        ca_cert=str(paths.ca_cert) if spec.uses_ldap else "",
        root=str(root),
        auth=spec.auth,
        guests=spec.guests,
        http_port=spec.http_port,
        web_port=spec.web_port,
        web_id=ident("web")[0],
        web_name=ident("web")[1],
        jicofo_id=ident("jicofo")[0],
        jicofo_name=ident("jicofo")[1],
        deployment=spec.deployment,
        host_id=ident("host")[0],
        host_name=ident("host")[1],
    )
    save_state(root, new_state)
    return _status(client, new_state)


def _mode(auth: str, guests: bool) -> str:
    return f"AUTH_TYPE={auth}{', guests' if guests else ''}"


def down(progress: Progress = _quiet) -> int:
    """Remove the lab's containers and files; returns how many containers were removed (0: nothing was up)."""
    client = docker_client()
    root = lab_root()
    state = load_state(root)
    removed = _remove_everything(client, root, state)
    progress(f"removed {removed} container(s)" if removed else "no lab was running")
    return removed
