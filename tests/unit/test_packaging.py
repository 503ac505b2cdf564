"""The wheel carries the package, the templates and the in-container scripts, and renders from an install."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_listed_packages_are_the_packages_on_disk() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "ldapcheck").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert listed == on_disk | {"ldapcheck.templates"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout, unpacked into a folder of its own (no editable mapping)."""
    out = tmp_path_factory.mktemp("wheel")
    pip = [sys.executable, "-m", "pip"]
    subprocess.run([*pip, "wheel", "-q", "--no-deps", "-w", str(out / "dist"), str(ROOT)], check=True, timeout=300)
    wheel = next((out / "dist").glob("ldapcheck-*.whl"))
    target = out / "site"
    subprocess.run([*pip, "install", "-q", "--no-deps", "--target", str(target), str(wheel)], check=True, timeout=120)
    return target


def test_renders_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    probe = (
        "import json, ldapcheck, importlib.resources as r\n"
        "from ldapcheck.auth.ldap.render import render\n"
        "print(json.dumps({'file': ldapcheck.__file__, "
        "'out': render({'AUTH_TYPE': 'ldap', 'LDAP_URL': 'ldap://ldap.example.org', 'LDAP_BASE': 'dc=example'}), "
        "'facts': r.files('ldapcheck.jitsi.container').joinpath('facts.sh').is_file(), "
        "'probe': r.files('ldapcheck.auth.ldap.container').joinpath('probe.lua').is_file()}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(installed)}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    seen = json.loads(done.stdout)
    assert seen["file"].startswith(str(installed))  # not the checkout
    assert "ldap_servers: ldap://ldap.example.org\n" in seen["out"]
    assert "ldap_search_base: dc=example\n" in seen["out"]
    assert seen["facts"] and seen["probe"]
