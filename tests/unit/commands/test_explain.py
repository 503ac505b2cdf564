"""`ldapcheck explain`: an entry, the list, JSON, and exit 2 for an unknown id."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ldapcheck.commands.explain import explain, format_entry, format_list
from ldapcheck.core import catalogue
from ldapcheck.core.errors import ConfigError


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ldapcheck", "explain", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_entry_text_has_title_meaning_and_fix() -> None:
    text = format_entry(explain("sa-tokens"))
    assert text.startswith("SA-TOKENS: ")
    assert "meaning: " in text and "fix: " in text


def test_open_ended_ids_resolve() -> None:
    assert explain("RC-32").id == "RC-32"
    assert explain("ad-52e").id == "AD-52E"


def test_unknown_id_is_a_usage_error() -> None:
    with pytest.raises(ConfigError, match="unknown failure id"):
        explain("NOT-AN-ID")


def test_list_names_every_static_id() -> None:
    listed = format_list()
    assert all(fid in listed for fid in catalogue.all_ids())


def test_cli_exit_codes_and_json() -> None:
    ok = _run("RC-49", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["id"] == "RC-49"
    bad = _run("NOPE-1")
    assert bad.returncode == 2
    assert "unknown failure id" in bad.stderr and "Traceback" not in bad.stderr
