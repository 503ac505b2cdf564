"""Image freshness: the build-context digest changes with any file, mode or name in compose/<service>."""

from __future__ import annotations

from pathlib import Path

from ldapcheck.lab.compose import compose_dir
from ldapcheck.lab.images import LAB_IMAGES, RENDERER_SOURCES, context_hash, image_hash


def test_context_hash_tracks_content_mode_and_names(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    (tmp_path / "entrypoint.sh").write_text("#!/bin/bash\n")
    first = context_hash(tmp_path)
    assert context_hash(tmp_path) == first
    (tmp_path / "entrypoint.sh").write_text("#!/bin/bash\nexit 0\n")
    second = context_hash(tmp_path)
    (tmp_path / "entrypoint.sh").chmod(0o755)
    third = context_hash(tmp_path)
    (tmp_path / "entrypoint.sh").rename(tmp_path / "start.sh")
    fourth = context_hash(tmp_path)
    assert len({first, second, third, fourth}) == 4


def test_the_checkout_has_both_build_contexts() -> None:
    root = compose_dir()
    for service in LAB_IMAGES.values():
        assert (root / service / "Dockerfile").read_text().startswith("# ")
        assert "ARG BASE_IMAGE=debian:bookworm-slim" in (root / service / "Dockerfile").read_text()
        assert len(context_hash(root / service)) == 16


def test_the_prosody_context_lets_in_exactly_the_renderer_sources() -> None:
    """/.dockerignore (the root context of the prosody image) and RENDERER_SOURCES name the same files."""
    root = compose_dir().parent
    rules = [line for line in (root / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    assert rules[0] == "*"
    assert sorted(rule.removeprefix("!") for rule in rules[1:]) == sorted(["compose/prosody", *RENDERER_SOURCES])
    assert all((root / path).is_file() for path in RENDERER_SOURCES)
    dockerfile = (root / "compose" / "prosody" / "Dockerfile").read_text()
    assert all(path in dockerfile for path in RENDERER_SOURCES)


def test_a_renderer_source_change_makes_the_prosody_image_stale(tmp_path: Path) -> None:
    (tmp_path / "compose" / "prosody").mkdir(parents=True)
    (tmp_path / "compose" / "prosody" / "Dockerfile").write_text("FROM x\n")
    (tmp_path / "render.py").write_text("A = 1\n")
    first = context_hash(tmp_path / "compose" / "prosody", (tmp_path / "render.py",))
    (tmp_path / "render.py").write_text("A = 2\n")
    assert context_hash(tmp_path / "compose" / "prosody", (tmp_path / "render.py",)) != first
    assert image_hash("ldapcheck/lab-prosody:latest") != context_hash(compose_dir() / "prosody")
