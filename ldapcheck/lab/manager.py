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

from ldapcheck.lab.containers import LABEL_PROJECT, LabPaths, openldap_plan, prosody_plan, run_container, write_private
from ldapcheck.lab.engine import docker_client
from ldapcheck.lab.envfile import write_env_file
from ldapcheck.lab.images import ensure_images
from ldapcheck.lab.ready import wait_for_bind, wait_for_port, wait_for_saslauthd
from ldapcheck.lab.seed import write_seed_dir
from ldapcheck.lab.spec import DEFAULT_USERS, LAB_USER, LabSpec, new_spec
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
    answering: dict[str, bool] = field(default_factory=dict)  # "ldap"/"ldaps"/"c2s" → accepts TCP on 127.0.0.1


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
    write_private(paths.saslauthd_conf, render(spec.jitsi_env()))


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


def _lab_containers(client: DockerClient, state: LabState | None) -> list[Container]:
    import docker.errors

    found = {c.id: c for c in client.containers.list(all=True, filters={"label": f"{LABEL_PROJECT}={project_name()}"})}
    if state is not None:
        for ident in (state.openldap_id, state.prosody_id):
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
    containers = {str(c.name): str(c.status) for c in _lab_containers(client, state)}
    if state is None:
        return LabStatus(up=False, state=None, containers=containers)
    answering = {
        "ldap": _answers(state.ldap_port),
        "ldaps": _answers(state.ldaps_port),
        "c2s": _answers(state.c2s_port),
    }
    up = (
        containers.get(state.openldap_name) == "running"
        and containers.get(state.prosody_name) == "running"
        and all(answering.values())
    )
    return LabStatus(up=up, state=state, containers=containers, answering=answering)


def status() -> LabStatus:
    client = docker_client()
    return _status(client, load_state(lab_root()))


def up(n_users: int = DEFAULT_USERS, env_out: Path | None = None, progress: Progress = _quiet) -> LabStatus:
    """Start the lab unless it already runs; write its `.env` (0600) to `env_out` or the lab directory."""
    client = docker_client()
    root = lab_root()
    state = load_state(root)
    current = _status(client, state)
    if current.up and state is not None:
        progress(f"lab already up ({state.n_users} generated users); `ldapcheck lab down` first to change it")
        if env_out is not None and env_out.resolve() != Path(state.env_file).resolve():
            write_private(env_out, Path(state.env_file).read_text(encoding="utf-8"))
            progress(f"wrote {env_out}")
        return LabStatus(up=True, state=state, containers=current.containers, already_running=True)
    if current.containers or state is not None:
        progress("removing the remains of an earlier lab")
        _remove_everything(client, root, state)
    ensure_images(client, progress)
    spec = new_spec(project_name(), n_users)
    paths = LabPaths(root)
    prepare_files(spec, paths)
    openldap, prosody = start_lab(client, spec, paths, progress)
    env_path = env_out if env_out is not None else paths.env_file
    write_env_file(env_path, spec.lab_env(str(paths.ca_cert), paths.compose_values()))
    new_state = LabState(
        project=spec.project,
        openldap_id=str(openldap.id),
        prosody_id=str(prosody.id),
        openldap_name=str(openldap.name),
        prosody_name=str(prosody.name),
        ldap_port=spec.ldap_port,
        ldaps_port=spec.ldaps_port,
        c2s_port=spec.c2s_port,
        xmpp_domain=spec.xmpp_domain,
        suffix=spec.suffix,
        n_users=spec.n_users,
        env_file=str(env_path.resolve()),
        ca_cert=str(paths.ca_cert),
        root=str(root),
    )
    save_state(root, new_state)
    return _status(client, new_state)


def down(progress: Progress = _quiet) -> int:
    """Remove the lab's containers and files; returns how many containers were removed (0: nothing was up)."""
    client = docker_client()
    root = lab_root()
    state = load_state(root)
    removed = _remove_everything(client, root, state)
    progress(f"removed {removed} container(s)" if removed else "no lab was running")
    return removed
