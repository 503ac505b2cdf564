"""Fakes of a prosody container session for unit tests (no engine): parsed facts and an environment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ldapcheck.jitsi.container.facts import ContainerFacts
from ldapcheck.jitsi.container.session import ContainerSession, SessionOptions
from ldapcheck.jitsi.deploy.local import HostSession

SASLAUTHD_CURRENT = ("saslauthd", "-a", "ldap", "-O", "/run/saslauthd.conf", "-c", "-m", "/var/run/saslauthd")
SASLAUTHD_LEGACY = ("saslauthd", "-a", "ldap", "-O", "/etc/saslauthd.conf", "-c", "-m", "/var/run/saslauthd")


class FakeContainer:
    """Only what `env()` reads: the engine's view of the container's environment."""

    name = "jitsi-prosody-1"

    def __init__(self, env: dict[str, str]) -> None:
        self.attrs: dict[str, Any] = {"Config": {"Env": [f"{k}={v}" for k, v in env.items()]}}


def session(facts: ContainerFacts, env: dict[str, str] | None = None) -> ContainerSession:
    found = ContainerSession(options=SessionOptions())
    container = FakeContainer(env or {"XMPP_DOMAIN": "meet.jitsi"})
    found.container = container
    found._memo["container"] = (True, container)
    found._memo["facts"] = (True, facts)
    return found


def not_found(failure: Exception) -> ContainerSession:
    """A session whose container lookup failed with `failure` (a CheckFailed DOCKER-*, as `failure()` makes)."""
    missing = ContainerSession(options=SessionOptions())
    missing._memo["container"] = (False, failure)
    return missing


@dataclass
class GivenFactsHost(HostSession):
    """A HostSession whose facts (processes, files) are given instead of collected by the facts script; its files
    are real, under the layout's root."""

    given: ContainerFacts | None = None

    def _collect_facts(self) -> ContainerFacts:
        assert self.given is not None
        return self.given
