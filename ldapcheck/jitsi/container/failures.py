"""Docker adapter errors as failed container steps: catalogue id, hint and reproduce line for the operator."""

from __future__ import annotations

from ldapcheck.adapters.docker import COMPOSE_SERVICE_LABEL
from ldapcheck.adapters.docker_errors import DockerError
from ldapcheck.core import catalogue as ids
from ldapcheck.core.step import CheckFailed

# Not in the LDAP catalogue: they are about reaching the container at all, whatever the auth mode.


def failure(err: DockerError) -> CheckFailed:
    """What a DockerError means for the operator, as the failed step shows it."""
    match err.kind:
        case "unavailable":
            return CheckFailed(
                ids.DOCKER_UNAVAILABLE,
                err.message,
                hint="Run ldapcheck where `docker ps` works, pass --docker-host (e.g. ssh://admin@jitsi-host), "
                "or skip the container steps with --no-container.",
                reproduce="docker info",
            )
        case "no-container" if err.container:
            return CheckFailed(
                ids.DOCKER_NO_CONTAINER,
                err.message,
                hint="List containers with `docker ps -a` and pass the prosody one with --container.",
                reproduce="docker ps -a --format '{{.Names}}\t{{.Image}}\t{{.Status}}'",
            )
        case "no-container":
            return CheckFailed(
                ids.DOCKER_NO_CONTAINER,
                err.message,
                hint="Start docker-jitsi-meet (`docker compose up -d`), or name the container with --container "
                "(or skip these steps with --no-container).",
                reproduce=f"docker ps -a --filter label={COMPOSE_SERVICE_LABEL}=prosody",
            )
        case "ambiguous":
            return CheckFailed(
                ids.DOCKER_AMBIGUOUS,
                err.message,
                hint="Choose one with --container NAME (or --project for a compose project).",
                detail={"candidates": list(err.candidates)},
            )
        case "stopped":
            return CheckFailed(
                ids.DOCKER_STOPPED,
                err.message,
                hint="Start it: `docker compose up -d prosody` (or `docker start <name>`), then rerun.",
                reproduce=f"docker logs --tail 50 {err.container}",
            )
        case "paused":
            return CheckFailed(
                ids.DOCKER_STOPPED,
                err.message,
                hint=f"Resume it: `docker unpause {err.container}`, then rerun.",
                reproduce=f"docker inspect --format '{{{{.State.Status}}}}' {err.container}",
            )
        case "exec-timeout":
            hint = "The container may be overloaded or a network call inside it hangs."
        case "exec-broken":
            hint = "The container may have stopped meanwhile; check `docker ps`."
        case _:
            hint = "Check that the container is running and that this user may use the Docker engine."
    return CheckFailed(ids.DOCKER_EXEC, err.message, hint=hint)
