"""The host lab's ldapcheck wheel: built once per source state, cached per checkout, never half-written."""

from __future__ import annotations

from pathlib import Path

import pytest

from ldapcheck.lab import wheels


def _checkout(root: Path) -> Path:
    (root / "ldapcheck").mkdir(parents=True)
    (root / "templates").mkdir()
    (root / "pyproject.toml").write_text("[project]\n")
    (root / "README.md").write_text("# x\n")
    (root / "ldapcheck" / "__init__.py").write_text("__version__ = '1'\n")
    return root


def test_the_source_hash_follows_contents_and_ignores_caches(tmp_path: Path) -> None:
    root = _checkout(tmp_path)
    first = wheels.source_hash(root)
    (root / "ldapcheck" / "__pycache__").mkdir()
    (root / "ldapcheck" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert wheels.source_hash(root) == first
    (root / "ldapcheck" / "__init__.py").write_text("__version__ = '2'\n")
    assert wheels.source_hash(root) != first


def test_a_wheel_is_built_once_per_source_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _checkout(tmp_path / "src")
    builds: list[Path] = []

    def fake_build(out: Path) -> Path:
        builds.append(out)
        wheel = out / "ldapcheck-1-py3-none-any.whl"
        wheel.write_bytes(b"PK")
        return wheel

    monkeypatch.setattr(wheels, "checkout_root", lambda: root)
    monkeypatch.setattr(wheels, "build_ldapcheck_wheel", fake_build)
    monkeypatch.setenv("LDAPCHECK_WHEEL_CACHE", str(tmp_path / "cache"))
    first = wheels.ldapcheck_wheel()
    assert wheels.ldapcheck_wheel() == first and len(builds) == 1
    assert first.parent.name == wheels.source_hash(root) and first.read_bytes() == b"PK"
    assert [p.name for p in first.parent.iterdir()] == [first.name]  # the build's temporary directory is gone
    (root / "README.md").write_text("# changed\n")
    second = wheels.ldapcheck_wheel()
    assert second != first and len(builds) == 2
    assert first.exists()  # another checkout's (or the previous) build stays until it is a day old


def test_without_a_checkout_the_error_says_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wheels, "compose_dir", lambda: tmp_path / "compose")
    with pytest.raises(wheels.LdapCheckError, match="not an ldapcheck source checkout"):
        wheels.checkout_root()
