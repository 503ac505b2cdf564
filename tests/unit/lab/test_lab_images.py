"""Image freshness: the build-context digest changes with any file, mode or name in compose/<service>."""

from __future__ import annotations

from pathlib import Path

from ldapcheck.lab.images import LAB_IMAGES, compose_dir, context_hash


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
