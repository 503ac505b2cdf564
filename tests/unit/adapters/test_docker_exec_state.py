"""Why an exec ended early or hangs when its container is the reason: removed, stopped (also a moment late), paused."""

from __future__ import annotations

from typing import Any

import docker.errors
import pytest

from ldapcheck.adapters import docker as dockeradapter
from ldapcheck.jitsi.container.failures import failure


class Api:
    def __init__(self, container: Container) -> None:
        self.container = container
        self.waits: list[tuple[str, int, str]] = []

    def wait(self, container_id: str, *, timeout: int, condition: str) -> dict[str, int]:
        self.waits.append((container_id, timeout, condition))
        self.container.states.pop(0)  # the engine caught up with the container's death
        return {"StatusCode": 137}


class Client:
    def __init__(self, container: Container) -> None:
        self.api = Api(container)


class Container:
    """What _state_error reads: name, id, status after reload(); `states` is what successive reloads see."""

    def __init__(self, *states: str) -> None:
        self.name = "jitsi-prosody-1"
        self.id = "c0ffee"
        self.states = list(states)
        self.status = ""
        self.client = Client(self)

    def reload(self) -> None:
        if self.states[0] == "removed":
            raise docker.errors.NotFound("no such container")
        self.status = self.states[0]


@pytest.mark.parametrize(
    ("states", "kind", "words", "fid"),
    [
        (("removed",), "no-container", "was removed while bash ran", "DOCKER-NO-CONTAINER"),
        (("exited",), "stopped", "stopped (exited) while bash ran", "DOCKER-STOPPED"),
        (("running", "exited"), "stopped", "stopped (exited) while bash ran", "DOCKER-STOPPED"),
        (("paused",), "paused", "was paused while bash ran", "DOCKER-STOPPED"),
    ],
    ids=["removed", "stopped", "stopped-late", "paused"],
)
def test_the_container_is_the_reason(states: tuple[str, ...], kind: str, words: str, fid: str) -> None:
    err = dockeradapter._state_error(Container(*states), "bash", settle=3)  # type: ignore[arg-type]
    assert err is not None and err.kind == kind and words in err.message, err
    assert failure(err).failure_id == fid


def test_a_running_container_is_not_the_reason() -> None:
    container: Any = Container("running", "running")
    assert dockeradapter._state_error(container, "bash", settle=3) is None
    assert container.client.api.waits == [("c0ffee", 3, "not-running")]
