"""`ldapcheck lab` without a Docker engine: one clear line and exit code 2 (no traceback)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("command", [["status"], ["down"], ["up", "--users", "1"]])
def test_no_engine_is_one_line_and_exit_2(command: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-such-docker.sock", "LDAPCHECK_LAB_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "ldapcheck", "lab", *command], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ldapcheck: no Docker engine answers")
    assert "ensure-docker.sh" in lines[0]
    assert result.stdout == ""


def test_lab_help_lists_the_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ldapcheck", "lab", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    for word in ("up", "down", "status"):
        assert word in result.stdout
