"""Commands that fixes tell an admin to run (one spelling everywhere), by deployment kind."""

from __future__ import annotations

from ldapcheck.core import facts as fact
from ldapcheck.core.verdict import Evidence

# A restart keeps the container's environment; only a recreate reads the edited .env again.
RECREATE = "docker compose up -d --force-recreate prosody"
FIND = "container.find"  # the deployment's find step (jitsi.container.steps.FIND; the host's has the same id)


def on_host(ev: Evidence) -> bool:
    """Whether the run inspected Debian packages on this host (the find step's structured fact says so)."""
    return ev.fact(FIND, fact.DEPLOYMENT) == "host"
