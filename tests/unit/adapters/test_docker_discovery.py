"""Choosing the prosody container from what the engine lists (labels, project, image name, running state)."""

from __future__ import annotations

from typing import Any

import pytest

from ldapcheck.adapters import docker as dockeradapter
from ldapcheck.adapters.docker_errors import DockerError
from ldapcheck.core.step import CheckFailed
from ldapcheck.jitsi.container.failures import failure

IDENTIFYING_KEYS = ("LDAP_URL", "LDAP_BASE", "LDAP_BINDDN", "XMPP_DOMAIN")


class FakeContainer:
    def __init__(self, name: str, image: str, status: str = "running", labels: dict[str, str] | None = None) -> None:
        self.name = name
        self.status = status
        self.attrs: dict[str, Any] = {"Config": {"Image": image, "Labels": labels or {}}}


class FakeContainers:
    """The two calls find_prosody makes: list(all=True, filters={"label": [...]}) and list(all=True)."""

    def __init__(self, items: list[FakeContainer]) -> None:
        self.items = items

    def list(self, all: bool = False, filters: dict[str, list[str]] | None = None) -> list[FakeContainer]:
        assert all
        wanted = [tuple(f.split("=", 1)) for f in (filters or {}).get("label", [])]
        labels = lambda c: c.attrs["Config"]["Labels"]  # noqa: E731
        return [c for c in self.items if all_match(labels(c), wanted)]


def all_match(labels: dict[str, str], wanted: list[tuple[str, ...]]) -> bool:
    return all(labels.get(k) == v for k, v in wanted)


class FakeClient:
    def __init__(self, items: list[FakeContainer]) -> None:
        self.containers = FakeContainers(items)


def compose(project: str, status: str = "running") -> FakeContainer:
    labels = {"com.docker.compose.service": "prosody", "com.docker.compose.project": project}
    return FakeContainer(f"{project}-prosody-1", "jitsi/prosody:stable", status, labels)


def find(items: list[FakeContainer], **kwargs: Any) -> Any:
    kwargs.setdefault("identifying_keys", IDENTIFYING_KEYS)
    return dockeradapter.find_prosody(FakeClient(items), **kwargs)  # type: ignore[arg-type]


def not_found(items: list[FakeContainer], kind: str, **kwargs: Any) -> CheckFailed:
    """The adapter's error (of this kind) and the failed step it becomes."""
    with pytest.raises(DockerError) as caught:
        find(items, **kwargs)
    assert caught.value.kind == kind
    return failure(caught.value)


def test_compose_label_wins_over_image_name() -> None:
    other = FakeContainer("my-prosody-test", "ldapcheck/lab-prosody")
    assert find([other, compose("docker-jitsi-meet")]).name == "docker-jitsi-meet-prosody-1"


def test_project_narrows_several_compose_projects() -> None:
    items = [compose("a"), compose("b")]
    caught = not_found(items, "ambiguous")
    assert caught.failure_id == "DOCKER-AMBIGUOUS"
    assert "a-prosody-1" in caught.message and "b-prosody-1" in caught.message
    assert caught.detail == {"candidates": ["a-prosody-1", "b-prosody-1"]}
    assert find(items, project="b").name == "b-prosody-1"


def test_one_running_among_stopped_candidates() -> None:
    assert find([compose("old", "exited"), compose("new")]).name == "new-prosody-1"


def test_image_name_fallback_without_labels() -> None:
    items = [FakeContainer("web", "jitsi/web"), FakeContainer("xmpp", "ghcr.io/jitsi/prosody:unstable")]
    assert find(items).name == "xmpp"


def test_none_and_stopped() -> None:
    caught = not_found([FakeContainer("web", "jitsi/web")], "no-container")
    assert caught.failure_id == "DOCKER-NO-CONTAINER"
    assert "docker compose up -d" in caught.hint
    stopped = not_found([compose("only", "exited")], "stopped")
    assert stopped.failure_id == "DOCKER-STOPPED"
    assert "docker compose up -d prosody" in stopped.hint
    assert stopped.reproduce == "docker logs --tail 50 only-prosody-1"


def with_env(container: FakeContainer, **env: str) -> FakeContainer:
    container.attrs["Config"]["Env"] = [f"{k}={v}" for k, v in env.items()]
    return container


def test_several_running_the_one_matching_the_env_file_is_chosen() -> None:
    a = with_env(compose("a"), LDAP_URL="ldap://127.0.0.1:389", XMPP_DOMAIN="meet.jitsi")
    b = with_env(compose("b"), LDAP_URL="ldap://127.0.0.1:1389", XMPP_DOMAIN="meet.jitsi")
    wanted = {"LDAP_URL": "ldap://127.0.0.1:1389", "XMPP_DOMAIN": "meet.jitsi", "LDAP_BINDPW": "x"}
    assert find([a, b], prefer_env=lambda: wanted).name == "b-prosody-1"


def test_several_matching_the_env_file_stay_ambiguous() -> None:
    a = with_env(compose("a"), LDAP_URL="ldap://127.0.0.1:389")
    b = with_env(compose("b"), LDAP_URL="ldap://127.0.0.1:389")
    caught = not_found([a, b], "ambiguous", prefer_env=lambda: {"LDAP_URL": "ldap://127.0.0.1:389"})
    assert caught.failure_id == "DOCKER-AMBIGUOUS"


def test_env_file_is_consulted_only_when_ambiguous() -> None:
    def not_needed() -> dict[str, str]:
        raise AssertionError("a single candidate must not wait for the .env")

    assert find([compose("a")], prefer_env=not_needed).name == "a-prosody-1"


def in_dir(container: FakeContainer, working_dir: str) -> FakeContainer:
    container.attrs["Config"]["Labels"]["com.docker.compose.project.working_dir"] = working_dir
    return container


def test_several_running_the_one_whose_compose_dir_is_preferred_is_chosen(tmp_path: Any) -> None:
    # Both would match on LDAP settings; the compose project directory of the .env decides.
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = in_dir(with_env(compose("a"), LDAP_URL="ldap://ldap:389"), str(tmp_path / "a"))
    b = in_dir(with_env(compose("b"), LDAP_URL="ldap://ldap:389"), str(tmp_path / "b") + "/")
    wanted = {"LDAP_URL": "ldap://ldap:389"}
    env_dir = str(tmp_path / "b")
    assert find([a, b], prefer_env=lambda: wanted, prefer_dir=lambda: env_dir).name == "b-prosody-1"
    # even when the LDAP settings point at the other one (the .env was edited since b started)
    other = {"LDAP_URL": "ldap://elsewhere:389"}
    a2 = in_dir(with_env(compose("a"), LDAP_URL="ldap://elsewhere:389"), str(tmp_path / "a"))
    assert find([a2, b], prefer_env=lambda: other, prefer_dir=lambda: env_dir).name == "b-prosody-1"


def test_preferred_dir_of_no_compose_project_falls_back_to_the_settings(tmp_path: Any) -> None:
    a = in_dir(with_env(compose("a"), LDAP_URL="ldap://one:389"), "/srv/a")
    b = in_dir(with_env(compose("b"), LDAP_URL="ldap://two:389"), "/srv/b")
    wanted = {"LDAP_URL": "ldap://two:389"}
    chosen = find([a, b], prefer_env=lambda: wanted, prefer_dir=lambda: str(tmp_path))
    assert chosen.name == "b-prosody-1"
    caught = not_found([a, b], "ambiguous", prefer_dir=lambda: str(tmp_path))
    assert caught.failure_id == "DOCKER-AMBIGUOUS"


def test_the_session_prefers_the_directory_of_its_env_file(tmp_path: Any) -> None:
    from ldapcheck.jitsi.container.session import ContainerSession, SessionOptions

    session = ContainerSession(options=SessionOptions(timeout=0.1))
    assert session._env_dir_when_known() is None
    session.provide(env_file=str(tmp_path / ".env"))
    assert session._env_dir_when_known() == str(tmp_path)
