"""container.find: the container named with --container must be a prosody container (DOCKER-NOT-PROSODY)."""

from __future__ import annotations

from typing import Any

import pytest

from ldapcheck.core.step import CheckFailed
from ldapcheck.jitsi.container import steps as jsteps
from ldapcheck.jitsi.container.facts import ContainerFacts, Process
from ldapcheck.jitsi.container.session import ContainerSession, SessionOptions


class FakeContainer:
    short_id = "0123456789ab"
    status = "running"

    def __init__(self, name: str, image: str, labels: dict[str, str] | None = None) -> None:
        self.name = name
        self.attrs: dict[str, Any] = {"Config": {"Image": image, "Labels": labels or {}, "Env": []}}


def session(container: FakeContainer, facts: ContainerFacts | None) -> ContainerSession:
    found = ContainerSession(options=SessionOptions(container=container.name))
    found.container = container
    found._memo["container"] = (True, container)
    if facts is not None:
        found._memo["facts"] = (True, facts)
    return found


def test_an_ldap_server_container_is_not_prosody() -> None:
    labels = {"com.docker.compose.service": "openldap", "com.docker.compose.project": "jitsi"}
    ldap = FakeContainer("jitsi-openldap-1", "osixia/openldap:1.5", labels)
    facts = ContainerFacts(
        processes=[Process(pid=1, uid=0, argv=("/usr/sbin/slapd", "-d", "0"))],
        binaries={"saslauthd": "-", "prosody": "-", "lua5.4": "-"},
        complete=True,
    )
    with pytest.raises(CheckFailed) as caught:
        jsteps.find(session(ldap, facts))
    failed = caught.value
    assert failed.failure_id == "DOCKER-NOT-PROSODY"
    assert failed.message.startswith("jitsi-openldap-1 is not a prosody container: ")
    assert "osixia/openldap:1.5" in failed.message and "no prosody process" in failed.message
    # the same compose project's prosody is the one to pass
    assert failed.message.endswith("pass the prosody container, e.g. jitsi-prosody-1")
    assert "--container" in failed.hint


def test_without_compose_labels_the_example_is_upstreams_default_name() -> None:
    web = FakeContainer("web", "example/web:1")
    with pytest.raises(CheckFailed) as caught:
        jsteps.find(session(web, ContainerFacts(complete=True)))
    assert caught.value.message.endswith("e.g. docker-jitsi-meet-prosody-1")


@pytest.mark.parametrize(
    "facts",
    [
        ContainerFacts(processes=[Process(pid=9, uid=1000, argv=("lua5.4", "/usr/bin/prosody", "-F"))], complete=True),
        ContainerFacts(files={"/config/prosody.cfg.lua": ""}, complete=True),
        ContainerFacts(binaries={"prosody": "/usr/bin/prosody"}, complete=True),
    ],
    ids=["process", "config", "binary"],
)
def test_a_custom_image_with_prosody_in_it_is_accepted(facts: ContainerFacts) -> None:
    custom = FakeContainer("xmpp", "registry.example/chat:7", {"com.docker.compose.service": "xmpp"})
    outcome = jsteps.find(session(custom, facts))
    assert outcome.value == "xmpp"


def test_a_prosody_label_or_image_needs_no_exec() -> None:
    # No facts memoised: reading them would run an exec (and fail here).
    labelled = FakeContainer("a-prosody-1", "registry.example/xmpp:1", {"com.docker.compose.service": "prosody"})
    assert jsteps.find(session(labelled, None)).value == "a-prosody-1"
    by_image = FakeContainer("chat", "jitsi/prosody:stable-11146")
    assert jsteps.find(session(by_image, None)).value == "chat"


def test_an_assumed_generation_is_a_warning_that_does_not_touch_logins() -> None:
    prosody = FakeContainer("a-prosody-1", "jitsi/prosody:stable")
    step = jsteps.generation_step()
    assumed = step.run(session(prosody, ContainerFacts(complete=True)))
    assert assumed.warn and assumed.facts == {"login_unaffected": True}
    known = step.run(session(prosody, ContainerFacts(files={"/config/prosody.cfg.lua": ""}, complete=True)))
    assert not known.warn and known.facts == {}
