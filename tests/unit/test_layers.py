"""The layer contracts ([tool.importlinter] in pyproject.toml) hold, and cover every auth mode."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts: list[dict[str, object]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def test_import_contracts_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BROKEN" not in done.stdout


def test_every_auth_mode_is_in_the_independence_contract() -> None:
    modes = sorted(
        f"ldapcheck.auth.{p.name}" for p in (ROOT / "ldapcheck" / "auth").iterdir() if (p / "__init__.py").is_file()
    )
    independent = next(c for c in _contracts() if c["type"] == "independence")
    assert modes, "no auth mode package found"
    assert sorted(independent["modules"]) == modes  # type: ignore[call-overload]


def test_registry_lists_every_mode_package() -> None:
    from ldapcheck.auth import modes

    packages = {p.name for p in (ROOT / "ldapcheck" / "auth").iterdir() if (p / "__init__.py").is_file()}
    assert set(modes()) == packages


def test_test_modules_have_unique_names() -> None:
    """pytest imports test modules by their base name: two with one name break the collection of the whole suite."""
    names = sorted(p.name for p in (ROOT / "tests").rglob("test_*.py"))
    assert [n for n in set(names) if names.count(n) > 1] == []


def test_no_module_imports_itself_back() -> None:
    """The import graph of ldapcheck has no cycle, imports inside functions included: within a folder too, each
    module builds on the ones below it (shared pieces live in their own modules: commands.inside,
    commands.host_steps, auth.jwt.clock, auth.ldap.lint.scope, lab.compose, report.deployment)."""
    import grimp

    graph = grimp.build_graph("ldapcheck")
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back is not None:
                cycles.append(f"{module} -> {' -> '.join(back)}")
    assert not cycles, "\n".join(cycles)
