"""Integration fixtures: the real lab (OpenLDAP → saslauthd → prosody) in containers on 127.0.0.1.

`lab` (session): one seeded directory + one prosody, ready when alice logs in through saslauthd.
`prosody_factory`: extra prosody containers against the same directory with a modified `.env`.
`ldap_admin`: an ldap3 connection bound as the directory admin (tests restore what they change).
"""

from __future__ import annotations

import os

# No reaper image exists on these machines; every fixture removes its own containers in `finally`.
os.environ["TESTCONTAINERS_RYUK_DISABLED"] = "true"

import contextlib
import dataclasses
import secrets
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from testcontainers.core.container import DockerContainer

from ldapcheck.auth.ldap.render import render
from ldapcheck.lab import seed
from ldapcheck.lab.containers import ContainerPlan, LabPaths, openldap_plan, prosody_plan, write_mountable
from ldapcheck.lab.engine import docker_client
from ldapcheck.lab.envfile import write_env_file
from ldapcheck.lab.images import ensure_images
from ldapcheck.lab.manager import prepare_files
from ldapcheck.lab.ready import wait_for_bind, wait_for_port, wait_for_saslauthd
from ldapcheck.lab.spec import LabSpec, free_port, new_spec
from testing.hostlab import HostLab
from testing.info import LabInfo, ProsodyInfo

SESSION_USERS = 1200  # > 1000 so that slapd's default size limit (500) truncates the service account's searches


def start_plan(plan: ContainerPlan, **extra: Any) -> DockerContainer:
    """Start a ContainerPlan through testcontainers (host network, compose-style labels); `extra`: more docker SDK
    run arguments a test needs (e.g. cap_add for a /proc sampler)."""
    container = DockerContainer(plan.image).with_name(plan.name)
    runtime = {**plan.runtime(), **extra}
    container.tmpfs.update(runtime.pop("tmpfs", {}))  # type: ignore[call-overload]  # testcontainers passes its own
    container.with_kwargs(network_mode="host", labels=plan.labels, **runtime)
    for key, value in plan.environment.items():
        container.with_env(key, value)
    for mount in plan.mounts:
        container.with_volume_mapping(mount.host, mount.container, mount.mode)
    container.start()
    return container


def _stop(container: DockerContainer) -> None:
    with contextlib.suppress(Exception):
        container.stop()


def lab_info(spec: LabSpec, paths: LabPaths, openldap: Any, prosody: Any) -> LabInfo:
    return LabInfo(
        spec=spec,
        paths=paths,
        ldap_url=spec.ldap_url,
        ldaps_url=spec.ldaps_url,
        ldap_port=spec.ldap_port,
        ldaps_port=spec.ldaps_port,
        suffix=spec.suffix,
        users_base=spec.users_base,
        admin_dn=spec.admin_dn,
        admin_password=spec.admin_password,
        bind_dn=spec.bind_dn,
        bind_password=spec.bind_password,
        ca_cert=paths.ca_cert,
        other_ca_cert=paths.other_ca_cert,
        xmpp_domain=spec.xmpp_domain,
        c2s_port=spec.c2s_port,
        env=spec.jitsi_env(),
        env_file=paths.env_file,
        users=spec.users,
        n_users=spec.n_users,
        openldap=openldap,
        prosody=prosody,
        project=spec.project,
        no_uid_dn=f"cn={seed.NO_UID_CN},{spec.users_base}",
    )


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabInfo]:
    client = docker_client()
    ensure_images(client)
    spec = new_spec(f"ldapcheck-test-{secrets.token_hex(3)}", SESSION_USERS)
    paths = LabPaths(tmp_path_factory.mktemp("lab"))
    prepare_files(spec, paths)
    started: list[DockerContainer] = []
    try:
        started.append(start_plan(openldap_plan(spec, paths)))
        started.append(start_plan(prosody_plan(spec, paths)))
        openldap, prosody = (c.get_wrapped_container() for c in started)
        wait_for_bind(openldap, spec.ldap_port, spec.bind_dn, spec.bind_password)
        wait_for_port(prosody, spec.c2s_port, what="prosody")
        wait_for_saslauthd(prosody, "alice", spec.lab_password, realm=spec.xmpp_domain)
        env = spec.lab_env(str(paths.ca_cert), paths.compose_values())
        write_env_file(paths.env_file, env)
        yield lab_info(spec, paths, openldap, prosody)
    finally:
        for container in reversed(started):
            _stop(container)


class StartedProsody(tuple[Any, ProsodyInfo]):
    """`(container, info)`; also a context manager that removes the container on exit."""

    _owner: DockerContainer

    def __enter__(self) -> StartedProsody:
        return self

    def __exit__(self, *_exc: object) -> None:
        _stop(self._owner)


class StartedOpenldap(tuple[Any, LabInfo]):
    """`(container, info)` of an extra slapd (info.prosody is None); a context manager like StartedProsody."""

    _owner: DockerContainer

    def __enter__(self) -> StartedOpenldap:
        return self

    def __exit__(self, *_exc: object) -> None:
        _stop(self._owner)


@pytest.fixture
def prosody_factory(lab: LabInfo, tmp_path: Path) -> Iterator[Any]:
    """`prosody_factory(env_overrides={}, *, saslauthd_conf=None, cap_add=())` → (container, ProsodyInfo).

    env_overrides change the lab's `.env` values (None unsets one). The container renders /run/saslauthd.conf from
    the resulting env at start (info.saslauthd_conf_text: what ldapcheck's renderer makes of it), unless
    `saslauthd_conf` gives a text to mount at /etc/saslauthd.conf (upstream's escape hatch, copied as is).
    Containers are removed after the test.
    """
    started: list[DockerContainer] = []
    counter = [1]

    def factory(
        env_overrides: Mapping[str, str | None] | None = None,
        *,
        saslauthd_conf: str | None = None,
        cap_add: tuple[str, ...] = (),
    ) -> StartedProsody:
        counter[0] += 1
        port = free_port(exclude=frozenset({lab.ldap_port, lab.ldaps_port, lab.c2s_port}))
        overrides: dict[str, str | None] = {"C2S_PORT": str(port), **(env_overrides or {})}
        plan = prosody_plan(lab.spec, lab.paths, env_overrides=overrides, number=counter[0])
        env = {k: v for k, v in plan.environment.items() if k != "C2S_PORT"}
        text = saslauthd_conf if saslauthd_conf is not None else render(plan.environment)
        conf: Path | None = None
        if saslauthd_conf is not None:
            conf = tmp_path / f"saslauthd-{counter[0]}.conf"
            write_mountable(conf, text)
        plan = prosody_plan(lab.spec, lab.paths, env_overrides=overrides, saslauthd_conf=conf, number=counter[0])
        plan = dataclasses.replace(plan, name=f"{plan.name}-{secrets.token_hex(2)}")
        container = start_plan(plan, **({"cap_add": list(cap_add)} if cap_add else {}))
        started.append(container)
        wrapped = container.get_wrapped_container()
        c2s = int(plan.environment.get("C2S_PORT", "5222"))
        wait_for_port(wrapped, c2s, what="prosody")
        if plan.environment.get("AUTH_TYPE") == "ldap":
            _wait_for_socket(wrapped)
        info = ProsodyInfo(
            name=plan.name,
            c2s_port=c2s,
            xmpp_domain=plan.environment.get("XMPP_DOMAIN", "meet.jitsi"),
            env=env,
            saslauthd_conf=conf,
            saslauthd_conf_text=text,
        )
        result = StartedProsody((wrapped, info))
        result._owner = container
        return result

    try:
        yield factory
    finally:
        for container in started:
            _stop(container)


def _wait_for_socket(container: Any, timeout: float = 15.0) -> None:
    """saslauthd creates its socket a moment after start; tests should not race it."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if container.exec_run(["test", "-S", "/var/run/saslauthd/mux"]).exit_code == 0:
            return
        container.reload()
        if container.status != "running":
            break
        time.sleep(0.1)
    raise AssertionError(f"saslauthd socket did not appear in {container.name}")


@pytest.fixture
def openldap_factory(lab: LabInfo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """`openldap_factory(extra_env={}, *, certs_dir=None, n_users=20, wait=True)` → (container, LabInfo).

    An extra, independent slapd (own ports, passwords, seed with the same edge cases) for cases the session lab
    cannot show: `extra_env` takes the image's options (LDAP_TLS=0: no StartTLS/ldaps; LDAP_ANON_READ=1;
    LDAP_SERVICE_SIZELIMIT=unlimited; LDAP_TLS_DAYS=-1: expired cert; LDAP_TLS_SAN=DNS:elsewhere.example: wrong name;
    LDAP_PPOLICY=0), `certs_dir` is mounted at /certs (server.crt, server.key, ca.crt). Removed after the test.
    """
    started: list[DockerContainer] = []

    def factory(
        extra_env: Mapping[str, str] | None = None,
        *,
        certs_dir: Path | None = None,
        n_users: int = 20,
        wait: bool = True,
    ) -> StartedOpenldap:
        spec = new_spec(f"{lab.project}-x{secrets.token_hex(2)}", n_users)
        paths = LabPaths(tmp_path_factory.mktemp("openldap"))
        prepare_files(spec, paths)
        container = start_plan(openldap_plan(spec, paths, extra_env=extra_env, certs_dir=certs_dir))
        started.append(container)
        wrapped = container.get_wrapped_container()
        if wait:
            wait_for_bind(wrapped, spec.ldap_port, spec.bind_dn, spec.bind_password)
        write_env_file(paths.env_file, spec.lab_env(str(paths.ca_cert), paths.compose_values()))
        result = StartedOpenldap((wrapped, lab_info(spec, paths, wrapped, None)))
        result._owner = container
        return result

    try:
        yield factory
    finally:
        for container in started:
            _stop(container)


@pytest.fixture
def ldap_admin(lab: LabInfo) -> Iterator[Any]:
    """An ldap3 Connection bound as the admin (rootdn). Restore what you change."""
    import ldap3

    server = ldap3.Server("127.0.0.1", port=lab.ldap_port, connect_timeout=5, get_info=ldap3.NONE)
    conn = ldap3.Connection(server, user=lab.admin_dn, password=lab.admin_password, receive_timeout=10)
    assert conn.bind(), conn.result
    try:
        yield conn
    finally:
        conn.unbind()


@pytest.fixture(scope="session")
def samba_ad() -> Iterator[tuple[Any, Any]]:
    """Samba 4.17 as an AD DC on 127.0.0.1:389, provisioned and seeded at start → (container, SambaSpec)."""
    from testing.samba import SambaSpec, ensure_samba_image, refuse_busy_port, wait_for_samba

    refuse_busy_port()
    spec = SambaSpec()
    container = DockerContainer(ensure_samba_image()).with_name(f"ldapcheck-test-samba-{secrets.token_hex(3)}")
    container.with_kwargs(network_mode="host")
    for key, value in spec.environment().items():
        container.with_env(key, value)
    container.start()
    try:
        wrapped = container.get_wrapped_container()
        wait_for_samba(spec, wrapped)
        yield wrapped, spec
    finally:
        _stop(container)


@pytest.fixture(scope="module")
def host_labs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., HostLab]]:
    """`host_labs(auth="internal", guests=False)` → this module's Debian-package host lab of that mode, unchanged.

    Started on first use (what `lab up --deployment host` runs, then a snapshot of the ready host), removed after the
    module. For tests that only look; tests that change the host take `fresh_host` (after one of those, the next
    `host_labs` call gets a new container from the snapshot).
    """
    labs: dict[tuple[str, bool], HostLab] = {}

    def get(auth: str = "internal", guests: bool = False) -> HostLab:
        key = (auth, guests)
        if key not in labs:
            labs[key] = HostLab.start(auth, guests, tmp_path_factory.mktemp(f"hostlab-{auth}"))
        return labs[key].pristine()

    try:
        yield get
    finally:
        for lab in labs.values():
            lab.close()


@pytest.fixture
def fresh_host(host_labs: Callable[..., HostLab]) -> Callable[..., HostLab]:
    """`fresh_host(auth="internal", guests=False)` → that mode's host lab in a pristine container for this test.

    The container is replaced from the module's snapshot (about a second) if an earlier test had it, so a test may
    break the host as it likes (remove a conf.d link, edit /etc/default/saslauthd, deluser …).
    """

    def get(auth: str = "internal", guests: bool = False) -> HostLab:
        return host_labs(auth, guests).fresh()

    return get
