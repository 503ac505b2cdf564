"""Write a docker-jitsi-meet style `.env` (KEY=value lines, mode 0600)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ldapcheck.lab.containers import write_private

HEADER = "# ldapcheck lab: docker-jitsi-meet .env values for this lab (contains passwords: keep it 0600)\n"


def format_env(values: Mapping[str, str]) -> str:
    """docker-jitsi-meet's `.env` has no quoting: one `KEY=value` per line."""
    for key, value in values.items():
        if "\n" in value or "\n" in key:
            raise ValueError(f"{key}: a .env value cannot contain a newline")
    return HEADER + "".join(f"{key}={value}\n" for key, value in values.items())


def write_env_file(path: Path, values: Mapping[str, str]) -> None:
    write_private(path, format_env(values))


def read_env_file(path: Path) -> dict[str, str]:
    """Read back a file written by `write_env_file` (plain KEY=value, comments and blanks ignored)."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value
    return values
