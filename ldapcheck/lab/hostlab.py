"""The Debian-package Jitsi host of `lab up --deployment host`: one container, its files written for this lab.

The container is created, given its files (a tar unpacked by its entrypoint on first start, so owners are mapped by
name), the checkout's ldapcheck wheel and a one-time setup script, then started; its entrypoint starts saslauthd,
prosody and nginx with their init scripts. Then jicofo's account and (internal) alice are registered with
`prosodyctl register`, the password on stdin, and the lab is ready when alice logs in through nginx over BOSH.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ldapcheck.core.errors import LdapCheckError
from ldapcheck.lab.accounts import register
from ldapcheck.lab.containers import ContainerPlan, LabPaths, container_name, lab_labels, openldap_plan, run_container
from ldapcheck.lab.hostfiles import PROSODY_MAIN, host_files, setup_script, stage_tar
from ldapcheck.lab.images import pinned
from ldapcheck.lab.ready import wait_for_bind, wait_for_login, wait_for_port, wait_for_stream
from ldapcheck.lab.spec import DEBIAN_HOST_IMAGE, LAB_USER, LabSpec
from ldapcheck.lab.wheels import ldapcheck_wheel

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.models.containers import Container

Progress = Callable[[str], None]
STAGE_DIR = "ldapcheck-lab"  # /ldapcheck-lab in the container: stage.tar, setup.sh, the wheel (removed once used)
MAX_CONFIG_BYTES = 1 << 20
# The first start installs the wheel before any service starts: allow for a slow pip.
FIRST_START_TIMEOUT = 120.0


def host_plan(spec: LabSpec) -> ContainerPlan:
    """The host container: no environment (a host's settings live in its files), host network, role `host`."""
    return ContainerPlan(
        name=container_name(spec.project, "host"),
        image=pinned(DEBIAN_HOST_IMAGE),
        environment={},
        mounts=(),
        labels=lab_labels(spec.project, "host", 1),
    )


def read_container_file(container: Container, path: str, limit: int = MAX_CONFIG_BYTES, *, hops: int = 8) -> str:
    """One file of a (created or running) container, through the engine's archive API; at most `limit` bytes.

    A symlink is followed (up to `hops` links), as `cat` would: the archive API hands over the link itself.
    """
    stream, stat = container.get_archive(path)
    if int((stat or {}).get("size", 0)) > limit:
        raise LdapCheckError(f"{path} in {container.name} is larger than {limit} bytes")
    data = b"".join(stream)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.next()
        if member is not None and member.issym() and hops > 0:
            target = posixpath.normpath(posixpath.join(posixpath.dirname(path), member.linkname))
            return read_container_file(container, target, limit, hops=hops - 1)
        handle = tar.extractfile(member) if member is not None and member.isfile() else None
        if handle is None:
            raise LdapCheckError(f"{path} in {container.name} is not a regular file")
        return handle.read(limit).decode("utf-8")


def _stage_archive(spec: LabSpec, debian_main: str, wheel: Path | None) -> bytes:
    from ldapcheck.auth.ldap.render import render

    saslauthd_conf = render(spec.jitsi_env()) if spec.uses_ldap else ""
    entries: list[tuple[str, bytes, int]] = [
        ("stage.tar", stage_tar(host_files(spec, debian_main, saslauthd_conf)), 0o600),
        ("setup.sh", setup_script(spec).encode(), 0o700),
    ]
    if wheel is not None:
        entries.append((wheel.name, wheel.read_bytes(), 0o644))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data, mode in entries:
            info = tarfile.TarInfo(f"{STAGE_DIR}/{name}")
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def create_host(
    client: DockerClient, spec: LabSpec, wheel: Path | None, plan: ContainerPlan | None = None
) -> Container:
    """Create (not start) the host container and put this lab's files and `wheel` in it."""
    plan = plan or host_plan(spec)
    container = client.containers.create(
        plan.image, name=plan.name, detach=True, network_mode="host", labels=plan.labels
    )
    try:
        debian_main = read_container_file(container, PROSODY_MAIN)
        if not container.put_archive("/", _stage_archive(spec, debian_main, wheel)):
            raise LdapCheckError(f"could not copy the lab's files into {container.name}")
    except BaseException:
        container.remove(force=True)
        raise
    return container


def wait_for_host(container: Container, spec: LabSpec, *, timeout: float = FIRST_START_TIMEOUT) -> None:
    """Until prosody (c2s, BOSH/WebSocket) and nginx answer on this lab's ports."""
    wait_for_port(container, spec.c2s_port, what="prosody c2s", timeout=timeout)
    wait_for_port(container, spec.http_port, what="prosody BOSH/WebSocket", timeout=timeout)
    wait_for_port(container, spec.web_port, what="nginx", timeout=timeout)


def register_accounts(container: Container, spec: LabSpec) -> list[str]:
    """jicofo's focus@auth.<host> (jicofo's postinst does it), and alice for internal accounts; what was made."""
    made = [f"focus@{spec.auth_domain}"]
    register(container, "focus", spec.auth_domain, spec.focus_password, config=None)
    if spec.auth == "internal":
        register(container, LAB_USER, spec.xmpp_domain, spec.lab_password, config=None)
        made.append(f"{LAB_USER}@{spec.xmpp_domain}")
    return made


def wait_until_usable(container: Container, spec: LabSpec, progress: Progress) -> None:
    """alice logs in through nginx over BOSH (jwt: prosody answers a BOSH stream; no token module in Debian)."""
    url = f"{spec.public_url}/http-bind"
    if spec.auth == "jwt":
        offered = wait_for_stream(container, url, spec.xmpp_domain)
        progress(
            f"prosody answers BOSH through nginx (offers {', '.join(offered) or 'no mechanism'}); no token login: "
            "jitsi-meet-tokens' mod_auth_token and luajwtjitsi are not in Debian"
        )
        return
    wait_for_login(container, url, spec.xmpp_domain, LAB_USER, spec.lab_password)
    progress(f"{LAB_USER} logs in through nginx over BOSH ({spec.public_url}/http-bind)")


def start_host_lab(
    client: DockerClient, spec: LabSpec, paths: LabPaths, progress: Progress = lambda _msg: None
) -> dict[str, Container]:
    """[openldap] and the host, ready when alice logs in through the host's nginx; removes both on failure."""
    started: dict[str, Container] = {}
    try:
        if spec.uses_ldap:
            progress(f"starting openldap ({spec.n_users} generated users) on 127.0.0.1:{spec.ldap_port}")
            started["openldap"] = run_container(client, openldap_plan(spec, paths))
        wheel = ldapcheck_wheel()
        progress(f"{wheel.name} of this checkout ({wheel.parent})")
        host = create_host(client, spec, wheel)
        started["host"] = host
        host.start()
        progress(
            f"starting the Debian host {spec.xmpp_domain} ({spec.auth}{', guests' if spec.guests else ''}): "
            f"prosody c2s 127.0.0.1:{spec.c2s_port}, BOSH/WebSocket :{spec.http_port}, nginx :{spec.web_port}"
        )
        wait_for_host(host, spec)
        made = register_accounts(host, spec)
        progress(f"prosodyctl register {', '.join(made)} (passwords on stdin)")
        if spec.uses_ldap:
            wait_for_bind(started["openldap"], spec.ldap_port, spec.bind_dn, spec.bind_password)
            progress("slapd answers binds")
        wait_until_usable(host, spec, progress)
        return started
    except BaseException:
        for container in started.values():
            container.remove(force=True)
        raise
