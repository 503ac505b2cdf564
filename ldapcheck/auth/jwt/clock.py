"""The prosody container's clock as `diagnose` and `token check` read it, and how far from this host's it may be.

prosody checks a token's exp and nbf against its own clock with no leeway; in Docker that clock is the host's
kernel clock, read inside the container by the facts exec (`$EPOCHREALTIME`) between two readings of ours.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ldapcheck.jitsi.container.session import ContainerSession

CLOCK_SKEW_MAX = 5.0  # seconds between the container's clock and this host's; prosody's exp/nbf have no leeway
CLOCK_FIX = (
    "Synchronise the Docker host's clock (NTP: `timedatectl set-ntp true`), and issue tokens with nbf a little in "
    "the past."
)
ALLOWED = f"{CLOCK_SKEW_MAX:g} s (prosody itself allows none)"


def skew(clock: float, window: tuple[float, float]) -> float:
    """How far the container's clock lies outside this host's [before, after] window of the exec (0 inside)."""
    before, after = window
    if clock > after:
        return clock - after
    if clock < before:
        return clock - before
    return 0.0


NO_CLOCK = "the container's shell did not report its clock ($EPOCHREALTIME, bash 5)"
CONTAINER_CLOCK = "the prosody container's clock"


@dataclass(frozen=True)
class ContainerClock:
    """The container's clock as the facts exec read it, and how far it lies from this host's (0: agrees)."""

    reading: float  # the container's epoch seconds when the exec started
    skew: float  # seconds the container is ahead of this host (negative: behind)

    def now(self) -> float:
        """The container's clock now: this host's, moved by the skew."""
        return time.time() + self.skew


def read_clock(session: ContainerSession) -> ContainerClock | None:
    """The container's clock from the session's facts exec (None when its shell did not report it).

    Raises what the facts exec raises (CheckFailed DOCKER-*)."""
    f = session.facts()
    if f.clock is None or f.host_window is None:
        return None
    return ContainerClock(reading=f.clock, skew=skew(f.clock, f.host_window))
