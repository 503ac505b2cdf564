"""The Debian-package Jitsi host lab for tests: start one per mode, then hand out pristine copies of it quickly.

`HostLab.start(auth, guests, root)` runs what `ldapcheck lab up --deployment host` runs ([openldap] + the host,
ready when alice logs in through nginx), then commits the ready host container to a snapshot image. `fresh()` hands out
a container the caller may break (removes the conf.d link, sets START=no …); the next `fresh()` or `pristine()`
replaces it with a new one from that snapshot (same name, ports and files, alice registered, ldapcheck installed:
about a second), so nothing a test changed leaks into the next.

Inside the host: `exec("shell command")` or `exec([argv])`, `read(path)`, `write(path, text)`, `restart("prosody")`
(the init script, then waits until the ports answer again), and `diagnose(*args, password=...)`, which runs
`ldapcheck diagnose` there as an admin would, the password on stdin (`--password-stdin`), never in argv/environment.
"""

from __future__ import annotations

import contextlib
import io
import secrets
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ldapcheck.adapters.docker import ExecResult, exec_in
from ldapcheck.lab.containers import LabPaths, container_name
from ldapcheck.lab.engine import docker_client
from ldapcheck.lab.envfile import write_env_file
from ldapcheck.lab.hostlab import host_plan, read_container_file, start_host_lab, wait_for_host, wait_until_usable
from ldapcheck.lab.images import ensure_image
from ldapcheck.lab.manager import prepare_files
from ldapcheck.lab.spec import DEBIAN_HOST_IMAGE, LAB_USER, OPENLDAP_IMAGE, LabSpec, new_spec

SNAPSHOT_REPOSITORY = "ldapcheck/test-debian-host-snapshot"
# Services whose init script a test may run, and the ports that answer again once it is back.
RESTARTABLE = ("prosody", "saslauthd", "nginx")


def _quiet(_message: str) -> None:
    return None


@dataclass
class HostLab:
    """One host lab: its spec (ports, passwords, domain), the current host container, [openldap], the snapshot."""

    spec: LabSpec = field(repr=False)
    paths: LabPaths
    client: Any = field(repr=False)
    container: Any  # docker.models.containers.Container: the current host
    openldap: Any  # the lab's slapd (LDAP mode), shared by every fresh host
    snapshot: str  # image of the ready host, what `fresh()` starts
    dirty: bool = False  # the current container was handed to a test that may change it

    @classmethod
    def start(cls, auth: str, guests: bool, root: Path, *, n_users: int = 20) -> HostLab:
        client = docker_client()
        for image in (OPENLDAP_IMAGE, DEBIAN_HOST_IMAGE) if auth == "ldap" else (DEBIAN_HOST_IMAGE,):
            ensure_image(client, image)
        project = f"ldapcheck-hostlab-{secrets.token_hex(3)}"
        spec = new_spec(project, n_users, auth=auth, guests=guests, deployment="host")
        paths = LabPaths(root)
        prepare_files(spec, paths)
        started = start_host_lab(client, spec, paths, _quiet)
        host = started["host"]
        try:
            image = host.commit(repository=SNAPSHOT_REPOSITORY, tag=project)
        except BaseException:
            for container in started.values():
                container.remove(force=True)
            raise
        values = {**spec.lab_env(str(paths.ca_cert)), "LAB_HOST_CONTAINER": str(host.name)}
        write_env_file(paths.env_file, values)
        return cls(
            spec=spec,
            paths=paths,
            client=client,
            container=host,
            openldap=started.get("openldap"),
            snapshot=str(image.id),
        )

    # --- what tests read -------------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return str(self.container.name)

    @property
    def domain(self) -> str:
        return self.spec.xmpp_domain

    @property
    def user(self) -> str:
        return LAB_USER

    @property
    def password(self) -> str:
        return self.spec.lab_password

    @property
    def public_url(self) -> str:
        return self.spec.public_url

    @property
    def bosh_url(self) -> str:
        return f"{self.spec.public_url}/http-bind"

    @property
    def websocket_url(self) -> str:
        return f"ws://127.0.0.1:{self.spec.web_port}/xmpp-websocket"

    @property
    def env(self) -> dict[str, str]:
        """The lab's `.env` values: what was written into the host's files (XMPP_DOMAIN, PUBLIC_URL, LDAP_* …)."""
        return {**self.spec.lab_env(str(self.paths.ca_cert)), "LAB_HOST_CONTAINER": self.name}

    def secrets(self) -> frozenset[str]:
        return self.spec.secrets()

    # --- a pristine host ---------------------------------------------------------------------------------------
    def fresh(self) -> HostLab:
        """This lab in a pristine container that the caller may change (the next caller gets another one)."""
        self.pristine()
        self.dirty = True
        return self

    def pristine(self) -> HostLab:
        """This lab as `start` left it: the container is replaced from the snapshot if a test may have changed it."""
        if self.dirty:
            self.container.remove(force=True)
            plan = host_plan(self.spec)
            self.container = self.client.containers.run(
                self.snapshot,
                name=container_name(self.spec.project, "host"),
                detach=True,
                network_mode="host",
                labels=plan.labels,
            )
            self.wait_ready()
            self.dirty = False
        return self

    def wait_ready(self) -> None:
        """Until prosody and nginx answer and alice logs in through nginx (jwt: a BOSH stream answers)."""
        wait_for_host(self.container, self.spec, timeout=60.0)
        wait_until_usable(self.container, self.spec, _quiet)

    # --- inside the host --------------------------------------------------------------------------------------
    def exec(self, command: str | list[str], *, stdin: bytes | None = None, timeout: float = 60.0) -> ExecResult:
        """Run a command in the host as root (a string goes through `bash -c`); its exit code and output."""
        argv = ["bash", "-c", command] if isinstance(command, str) else command
        return exec_in(self.container, argv, stdin=stdin, timeout=timeout)

    def read(self, path: str) -> str:
        return read_container_file(self.container, path)

    def write(self, path: str, text: str, *, mode: int = 0o644) -> None:
        """Replace (or create) a root-owned file, as an admin's editor would."""
        data = text.encode("utf-8")
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            info = tarfile.TarInfo(Path(path).name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
        if not self.container.put_archive(str(Path(path).parent), buffer.getvalue()):
            raise RuntimeError(f"could not write {path} in {self.name}")

    def restart(self, service: str) -> ExecResult:
        """`/etc/init.d/<service> restart`, as an admin on a host without systemd; waits for prosody/nginx's ports."""
        if service not in RESTARTABLE:
            raise ValueError(f"restart one of {', '.join(RESTARTABLE)}, not {service!r}")
        result = self.exec(["/etc/init.d/" + service, "restart"])
        if service != "saslauthd":
            wait_for_host(self.container, self.spec, timeout=60.0)
        return result

    def diagnose(self, *args: str, password: str | None = None, timeout: float = 120.0) -> ExecResult:
        """`ldapcheck diagnose ARGS` inside the host; `password` goes on stdin with `--password-stdin`."""
        argv = ["ldapcheck", "diagnose", *args]
        if password is None:
            return self.exec(argv, timeout=timeout)
        return self.exec([*argv, "--password-stdin"], stdin=password.encode("utf-8") + b"\n", timeout=timeout)

    def close(self) -> None:
        """Remove the host, [openldap] and the snapshot image (whatever is already gone stays gone)."""
        for container in (self.container, self.openldap):
            if container is not None:
                with contextlib.suppress(Exception):
                    container.remove(force=True)
        with contextlib.suppress(Exception):
            self.client.images.remove(self.snapshot, force=True)
