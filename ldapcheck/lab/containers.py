"""How the lab containers are run: image, environment, mounts and compose-style labels (host network only)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ldapcheck.adapters.docker import (
    COMPOSE_NUMBER_LABEL,
    COMPOSE_ONEOFF_LABEL,
    COMPOSE_PROJECT_LABEL,
    COMPOSE_SERVICE_LABEL,
)
from ldapcheck.jitsi.env.write import atomic_write
from ldapcheck.lab.images import pinned
from ldapcheck.lab.spec import (
    CERTS_MOUNT,
    EXPORT_MOUNT,
    JICOFO_IMAGE,
    OPENLDAP_IMAGE,
    PROSODY_CERTS_MOUNT,
    PROSODY_IMAGE,
    SASLAUTHD_CONF_MOUNT,
    SEED_MOUNT,
    WEB_IMAGE,
    LabSpec,
)

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.models.containers import Container

LABEL_PROJECT = COMPOSE_PROJECT_LABEL
LABEL_SERVICE = COMPOSE_SERVICE_LABEL
LABEL_NUMBER = COMPOSE_NUMBER_LABEL
LABEL_ONEOFF = COMPOSE_ONEOFF_LABEL

# The `.env` keys docker-jitsi-meet's compose file gives the web and jicofo services (of those the lab sets).
WEB_ENV = frozenset(
    {"ENABLE_AUTH", "ENABLE_GUESTS", "XMPP_DOMAIN", "XMPP_GUEST_DOMAIN", "PUBLIC_URL", "TOKEN_AUTH_URL"}
)
JICOFO_ENV = frozenset({"ENABLE_AUTH", "AUTH_TYPE", "XMPP_DOMAIN", "ENABLE_AUTO_LOGIN", "JICOFO_AUTH_LIFETIME"})


# The prosody image runs as upstream's rootless one does (stable-11146+): user `s6` (uid/gid 1000, groups prosody
# and sasl), read-only root, tmpfs on /run and /tmp. Upstream's s6-overlay preinit chowns the root-owned compose
# tmpfs /run to uid 1000 (0755); the lab mounts it that way to begin with. /config and /var/lib/prosody stand in
# for upstream's volumes (${CONFIG}/prosody/config, ${CONFIG}/storage/prosody), empty on every start.
PROSODY_UID = 1000
PROSODY_TMPFS = {
    "/run": f"uid={PROSODY_UID},gid={PROSODY_UID},mode=0755,size=16m,exec",
    "/tmp": "mode=1777,size=16m,noexec",  # noqa: S108 - a path inside the container, not a temporary file here
    "/config": f"uid={PROSODY_UID},gid={PROSODY_UID},mode=0755,size=16m",
    "/var/lib/prosody": f"uid={PROSODY_UID},gid={PROSODY_UID},mode=0755,size=64m",
}


@dataclass(frozen=True)
class Mount:
    host: str
    container: str
    mode: str = "ro"


@dataclass(frozen=True)
class ContainerPlan:
    """One container to start; `run_container` and the pytest fixtures both start from this."""

    name: str
    image: str
    environment: dict[str, str] = field(repr=False)
    mounts: tuple[Mount, ...]
    labels: dict[str, str]
    user: str = ""  # "" = the image's USER
    read_only: bool = False
    tmpfs: dict[str, str] = field(default_factory=dict)  # path → mount options

    def volumes(self) -> dict[str, dict[str, str]]:
        """The docker SDK's `volumes=` form."""
        return {m.host: {"bind": m.container, "mode": m.mode} for m in self.mounts}

    def runtime(self) -> dict[str, object]:
        """The docker SDK's `user=`, `read_only=`, `tmpfs=` for this plan (only those it sets)."""
        found: dict[str, object] = {"user": self.user} if self.user else {}
        if self.read_only:
            found["read_only"] = True
        if self.tmpfs:
            found["tmpfs"] = dict(self.tmpfs)
        return found


@dataclass(frozen=True)
class LabPaths:
    """Host-side files of one lab."""

    root: Path

    @property
    def seed_dir(self) -> Path:
        return self.root / "seed"

    @property
    def export_dir(self) -> Path:
        return self.root / "certs"

    @property
    def ca_cert(self) -> Path:
        return self.export_dir / "ca.crt"

    @property
    def other_ca_cert(self) -> Path:
        return self.export_dir / "other-ca.crt"

    @property
    def saslauthd_conf(self) -> Path:
        return self.root / "saslauthd.conf"

    @property
    def env_file(self) -> Path:
        return self.root / "lab.env"

    def compose_values(self) -> dict[str, str]:
        """The LAB_* paths compose/lab.yml mounts, and the images `lab up` built from this checkout (`:latest` may be
        another checkout's build, or an older generation of the image)."""
        return {
            "LAB_OPENLDAP_IMAGE": pinned(OPENLDAP_IMAGE),
            "LAB_PROSODY_IMAGE": pinned(PROSODY_IMAGE),
            "LAB_SEED_DIR": str(self.seed_dir),
            "LAB_CERTS_DIR": str(self.export_dir),
            "LAB_SASLAUTHD_CONF": str(self.saslauthd_conf),
        }


def lab_labels(project: str, service: str, number: int) -> dict[str, str]:
    return {LABEL_PROJECT: project, LABEL_SERVICE: service, LABEL_NUMBER: str(number), LABEL_ONEOFF: "False"}


def container_name(project: str, service: str, number: int = 1) -> str:
    """Compose v2's naming: `<project>-<service>-<n>`."""
    return f"{project}-{service}-{number}"


def openldap_plan(
    spec: LabSpec,
    paths: LabPaths,
    *,
    extra_env: Mapping[str, str] | None = None,
    certs_dir: Path | None = None,
) -> ContainerPlan:
    """slapd for `spec`; `extra_env` adds the image's options (LDAP_TLS=0, LDAP_ANON_READ=1, LDAP_TLS_DAYS=-1 …),
    `certs_dir` (server.crt, server.key, ca.crt) replaces the generated certificates.
    """
    env = {
        "LDAP_SUFFIX": spec.suffix,
        "LDAP_ADMIN_DN": spec.admin_dn,
        "LDAP_ADMIN_PASSWORD": spec.admin_password,
        "LDAP_SERVICE_DN": spec.bind_dn,
        "LDAP_SERVICE_PASSWORD": spec.bind_password,
        "LDAP_PORT": str(spec.ldap_port),
        "LDAPS_PORT": str(spec.ldaps_port),
        **(extra_env or {}),
    }
    return ContainerPlan(
        name=container_name(spec.project, "openldap"),
        image=pinned(OPENLDAP_IMAGE),
        environment=env,
        mounts=(
            Mount(str(paths.seed_dir), SEED_MOUNT, "ro"),
            Mount(str(paths.export_dir), EXPORT_MOUNT, "rw"),
            *([Mount(str(certs_dir), CERTS_MOUNT, "ro")] if certs_dir is not None else []),
        ),
        labels=lab_labels(spec.project, "openldap", 1),
    )


def prosody_plan(
    spec: LabSpec,
    paths: LabPaths,
    *,
    env_overrides: Mapping[str, str | None] | None = None,
    saslauthd_conf: Path | None = None,
    number: int = 1,
) -> ContainerPlan:
    """The prosody container; `env_overrides` changes the `.env` values (None removes one).

    It renders /run/saslauthd.conf from its environment at start, as upstream's image does. `saslauthd_conf` is a
    host file to mount at /etc/saslauthd.conf instead (upstream's escape hatch: copied as is); the container's
    uid 1000 must be able to read it (`write_mountable`).
    """
    env: dict[str, str] = {**spec.jitsi_env(), "C2S_PORT": str(spec.c2s_port)}
    if spec.http_port:
        env["HTTP_PORT"] = str(spec.http_port)
    for key, value in (env_overrides or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    sasl = (Mount(str(saslauthd_conf), SASLAUTHD_CONF_MOUNT, "ro"),) if saslauthd_conf is not None else ()
    return ContainerPlan(
        name=container_name(spec.project, "prosody", number),
        image=pinned(PROSODY_IMAGE),
        environment=env,
        mounts=(*sasl, Mount(str(paths.export_dir), PROSODY_CERTS_MOUNT, "ro")),
        labels=lab_labels(spec.project, "prosody", number),
        user=str(PROSODY_UID),
        read_only=True,
        tmpfs=dict(PROSODY_TMPFS),
    )


def web_plan(spec: LabSpec) -> ContainerPlan:
    """nginx in front of prosody's BOSH/WebSocket port, serving config.js (needs `spec.web_port`/`http_port`)."""
    env = {
        **{k: v for k, v in spec.jitsi_env().items() if k in WEB_ENV},
        "PUBLIC_URL": spec.public_url,
        "XMPP_BOSH_URL_BASE": f"http://127.0.0.1:{spec.http_port}",
        "WEB_HTTP_PORT": str(spec.web_port),
    }
    return ContainerPlan(
        name=container_name(spec.project, "web"),
        image=pinned(WEB_IMAGE),
        environment=env,
        mounts=(),
        labels=lab_labels(spec.project, "web", 1),
    )


def jicofo_plan(spec: LabSpec) -> ContainerPlan:
    """The jicofo stand-in: renders jicofo.conf's authentication block only (no Java here, so no jicofo)."""
    env = {k: v for k, v in spec.jitsi_env().items() if k in JICOFO_ENV}
    return ContainerPlan(
        name=container_name(spec.project, "jicofo"),
        image=pinned(JICOFO_IMAGE),
        environment=env,
        mounts=(),
        labels=lab_labels(spec.project, "jicofo", 1),
    )


def run_container(client: DockerClient, plan: ContainerPlan) -> Container:
    """Start `plan` detached on the host network (the only networking allowed here)."""
    return client.containers.run(
        plan.image,
        name=plan.name,
        detach=True,
        network_mode="host",
        environment=plan.environment,
        volumes=plan.volumes(),
        labels=plan.labels,
        user=plan.user or None,
        read_only=plan.read_only,
        tmpfs=dict(plan.tmpfs) or None,
    )


def write_mountable(path: Path, text: str) -> None:
    """A private file (0600) the prosody container's uid 1000 can read when mounted: owned by that uid when we may
    give it away (running as root), else readable by all (in a directory only its owner may enter, like tmp_path)."""
    write_private(path, text)
    if os.geteuid() == 0:
        os.chown(path, PROSODY_UID, PROSODY_UID)
    else:
        path.chmod(0o644)


def write_private(path: Path, text: str) -> None:
    """Write `text` to a file only its owner can read (atomically, created 0600, never briefly wider)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text.encode("utf-8"), mode=0o600)
