"""Connect to the Docker engine for the lab, or say in one line why not and what to do."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ldapcheck.adapters.docker import connect
from ldapcheck.adapters.docker_errors import DockerError
from ldapcheck.core.errors import DockerUnavailable

if TYPE_CHECKING:
    from docker import DockerClient

HINT = "start one with scripts/ensure-docker.sh (or set DOCKER_HOST)"


def docker_client(timeout: int = 30) -> DockerClient:
    """A client whose engine answered (DOCKER_HOST or the default socket); raises DockerUnavailable otherwise."""
    try:
        return connect(timeout=timeout, sdk=True)
    except DockerError as exc:
        raise DockerUnavailable(f"no Docker engine answers ({exc.reason or exc.message}); {HINT}") from None
