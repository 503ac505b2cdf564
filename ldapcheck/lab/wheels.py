"""Wheels for the Debian-host lab: ldapcheck from this checkout, and its dependencies, made by this machine's pip.

The host container gets ldapcheck the way an admin installs a release: from a wheel, into a venv. Building on this
machine (not in the image) keeps the image cache valid across code changes, and lets pip use this machine's own
settings (index mirrors, proxies and their CAs) that a build container does not have.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ldapcheck.core.errors import LdapCheckError
from ldapcheck.lab.compose import compose_dir

# What a wheel of ldapcheck is built from (pyproject.toml's packages and package-dir).
SOURCE_PARTS = ("pyproject.toml", "README.md", "ldapcheck", "templates")
PIP_TIMEOUT = 600.0
CACHE_DAYS = 1


def checkout_root() -> Path:
    """The source checkout `compose/` belongs to; `lab up --deployment host` needs one to build the wheel."""
    root = compose_dir().parent
    if not all((root / part).exists() for part in SOURCE_PARTS):
        raise LdapCheckError(
            f"{root} is not an ldapcheck source checkout (no {', '.join(SOURCE_PARTS)}); "
            "the host lab installs ldapcheck from a wheel built from one"
        )
    return root


def _pip(args: list[str], what: str) -> None:
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pip", *args],
            capture_output=True,
            text=True,
            timeout=PIP_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise LdapCheckError(f"{what}: pip did not finish within {PIP_TIMEOUT:.0f} s") from None
    if done.returncode != 0:
        said = " ".join(done.stderr.split())[-400:]
        raise LdapCheckError(f"{what} failed (pip exit {done.returncode}): {said}")


def build_ldapcheck_wheel(out: Path) -> Path:
    """`pip wheel --no-deps` of a copy of the checkout (a build in place would leave build/ and *.egg-info there)."""
    root = checkout_root()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ldapcheck-src-") as tmp:
        source = Path(tmp) / "src"
        source.mkdir()
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
        for part in SOURCE_PARTS:
            path = root / part
            if path.is_dir():
                shutil.copytree(path, source / part, ignore=ignore)
            else:
                shutil.copy2(path, source / part)
        _pip(
            ["wheel", "-q", "--no-deps", "--disable-pip-version-check", "-w", str(out), str(source)], "ldapcheck wheel"
        )
    wheels = sorted(out.glob("ldapcheck-*.whl"))
    if not wheels:
        raise LdapCheckError(f"pip made no ldapcheck wheel in {out}")
    return wheels[-1]


def source_hash(root: Path) -> str:
    """A digest of what the wheel is built from (names and contents, caches excluded)."""
    digest = hashlib.sha256()
    for part in SOURCE_PARTS:
        path = root / part
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            if "__pycache__" in file.parts or file.suffix == ".pyc" or ".egg-info" in str(file):
                continue
            digest.update(f"{file.relative_to(root)}\0".encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def wheel_cache() -> Path:
    """LDAPCHECK_WHEEL_CACHE, else $XDG_CACHE_HOME/ldapcheck/wheels, else ~/.cache/ldapcheck/wheels."""
    override = os.environ.get("LDAPCHECK_WHEEL_CACHE")
    if override:
        return Path(override)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ldapcheck" / "wheels"


def ldapcheck_wheel() -> Path:
    """This checkout's wheel: built once per source state (`source_hash`).

    Other checkouts share the cache (each its own hash directory): only builds untouched for a day are removed, and a
    new wheel appears under its final name in one rename, so a concurrent `lab up` never reads half a file.
    """
    root = checkout_root()
    cache = wheel_cache()
    target = cache / source_hash(root)
    ready = sorted(target.glob("ldapcheck-*.whl")) if target.is_dir() else []
    if ready:
        return ready[-1]
    if cache.is_dir():
        stale = time.time() - CACHE_DAYS * 86400
        for old in cache.iterdir():
            if old.stat().st_mtime < stale:
                shutil.rmtree(old, ignore_errors=True)
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ldapcheck-wheel-", dir=target) as tmp:
        built = build_ldapcheck_wheel(Path(tmp))
        final = target / built.name
        os.replace(built, final)
    return final


def build_dependency_wheels(requirements: Path, out: Path) -> list[Path]:
    """Wheels of `requirements` and everything they need, for an offline `pip install --no-index` in the image."""
    out.mkdir(parents=True, exist_ok=True)
    _pip(["wheel", "-q", "--disable-pip-version-check", "-w", str(out), "-r", str(requirements)], "dependency wheels")
    return sorted(out.glob("*.whl"))
