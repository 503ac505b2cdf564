"""Which deployment `diagnose` inspects: docker-jitsi-meet containers, or Debian packages on this host.

`--deployment host|docker` decides. Otherwise: a host with Debian's prosody layout (`/etc/prosody/prosody.cfg.lua`
beside conf.d or conf.avail) and no prosody container is a package install; a prosody container, or a docker
engine that cannot be asked, keeps today's docker behaviour. Options that name a container (`--container`,
`--project`, `--docker-host`) or a `.env` mean docker. The reason is shown in every report format.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ldapcheck.jitsi.deploy.host import CONF_AVAIL, CONF_D, PROSODY_CFG, HostLayout

KINDS = ("docker", "host")
ENGINE_SOCKET = "/var/run/docker.sock"


@dataclass(frozen=True)
class Choice:
    kind: str
    reason: str


def choose(
    forced: str | None,
    *,
    layout: HostLayout | None = None,
    names_container: bool = False,
    env_file: str | None = None,
    timeout: float = 3.0,
) -> Choice:
    """The deployment to inspect, and why."""
    if forced is not None:
        if forced not in KINDS:
            raise ValueError(f"--deployment {forced}: choose one of {', '.join(KINDS)}")
        return Choice(forced, f"--deployment {forced}")
    layout = layout or HostLayout()
    if names_container or env_file:
        why = "--container/--project/--docker-host" if names_container else f"the .env {env_file}"
        return Choice("docker", f"{why} given: docker-jitsi-meet")
    if not layout.is_debian_prosody():
        return Choice("docker", f"no {PROSODY_CFG} with conf.d/conf.avail here: docker-jitsi-meet")
    marks = f"{PROSODY_CFG} with {CONF_D} or {CONF_AVAIL}"
    container = _prosody_container(timeout)
    if container:
        return Choice("docker", f"{marks} here, but a prosody container runs ({container}): docker-jitsi-meet")
    return Choice("host", f"{marks} here and no prosody container")


def _prosody_container(timeout: float) -> str:
    """The name of a running prosody container ("" when none, or when no engine is reachable)."""
    if not (os.environ.get("DOCKER_HOST") or os.path.exists(ENGINE_SOCKET)):
        return ""
    try:
        from ldapcheck.adapters import docker as dockeradapter

        client = dockeradapter.connect(None, timeout=timeout)
        found = dockeradapter.find_prosody(client, container=None, project=None)
        return str(found.name)
    except Exception:  # no engine, none found, several: not a docker prosody to prefer over the files here
        return ""
