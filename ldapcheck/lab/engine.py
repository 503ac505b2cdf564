"""Connect to the Docker engine, or say in one line why not and what to do."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ldapcheck.core.errors import DockerUnavailable

if TYPE_CHECKING:
    from docker import DockerClient

HINT = "start one with scripts/ensure-docker.sh (or set DOCKER_HOST)"


def docker_client(timeout: int = 30) -> DockerClient:
    """A client whose engine answered a ping; raises DockerUnavailable otherwise."""
    import docker
    import docker.errors

    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except (docker.errors.DockerException, OSError) as exc:  # requests errors are OSErrors
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DockerUnavailable(f"no Docker engine answers ({reason[:160]}); {HINT}") from None
    return client
