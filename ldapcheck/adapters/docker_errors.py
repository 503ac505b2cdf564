"""What can go wrong reaching the Docker engine, the prosody container, or an exec inside it.

The adapter says *what* happened (`kind` + a sentence); the caller decides what it means for the operator
(catalogue id, hint, reproduce line): see `ldapcheck.jitsi.container.failures`.
"""

from __future__ import annotations

from typing import Literal

from ldapcheck.core.errors import LdapCheckError

DockerErrorKind = Literal[
    "unavailable",  # no engine answered, or it refused a request
    "no-container",  # no container by that name, or none found by label/image
    "ambiguous",  # several candidates and nothing to choose one
    "stopped",  # the container exists but does not run
    "paused",  # the container is paused (`docker pause`): its processes are frozen
    "exec",  # an exec could not be started
    "exec-timeout",  # an exec did not finish in time
    "exec-broken",  # the connection to a running exec broke
]


class DockerError(LdapCheckError):
    """A Docker engine operation failed.

    `container` is the name asked for (no-container) or concerned (stopped, exec*); `candidates` the names
    found (ambiguous); `searched` how the lookup searched (no-container by discovery); `reason` the
    operating system's words, when the engine could not be reached.
    """

    def __init__(
        self,
        kind: DockerErrorKind,
        message: str,
        *,
        container: str = "",
        candidates: tuple[str, ...] = (),
        searched: str = "",
        reason: str = "",
    ) -> None:
        super().__init__(message)
        self.kind: DockerErrorKind = kind
        self.message = message
        self.container = container
        self.candidates = candidates
        self.searched = searched
        self.reason = reason  # the operating system's reason, when there is one (e.g. "Connection refused")
