"""Helpers shared by the integration tests that run the CLI and read its `--json` report."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ldapcheck.lab.envfile import write_env_file


def step(report: dict[str, Any], step_id: str) -> dict[str, Any]:
    """One step of a JSON report; the assertion shows the report when it is missing."""
    found = [s for s in report.get("steps", []) if s["id"] == step_id]
    assert found, json.dumps(report, indent=1)[:3000]
    return dict(found[0])


def env_file_with(base: Mapping[str, str], path: Path, overrides: Mapping[str, str | None]) -> str:
    """Write `base` as a docker-jitsi-meet .env with some values changed (None removes a key)."""
    values = dict(base)
    for key, value in overrides.items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    write_env_file(path, values)
    return str(path)
