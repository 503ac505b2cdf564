"""Write and read back the lab's docker-jitsi-meet style `.env` (mode 0600) with the shared `.env` code.

Values are written with `jitsi.env.write.quote_value` (single quotes whenever a value is not plain) and read with
`jitsi.env.parse` (Compose v2's rules, no shell environment), so what Compose, `ldapcheck diagnose` and the lab read
is what was written, `$`, quotes and spaces included.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ldapcheck.jitsi.env.parse import read_env_file as read_compose_env
from ldapcheck.jitsi.env.write import quote_value
from ldapcheck.lab.containers import write_private

HEADER = "# ldapcheck lab: docker-jitsi-meet .env values for this lab (contains passwords: keep it 0600)\n"


def format_env(values: Mapping[str, str]) -> str:
    """One `KEY=value` per line, each value quoted as Compose needs to read it back exactly."""
    for key, value in values.items():
        if "\n" in value or "\n" in key:
            raise ValueError(f"{key}: a .env value cannot contain a newline")
    return HEADER + "".join(f"{key}={quote_value(value)}\n" for key, value in values.items())


def write_env_file(path: Path, values: Mapping[str, str]) -> None:
    """Write `values` to `path` atomically, 0600 (a wider existing file is replaced, not chmodded)."""
    write_private(path, format_env(values))


def read_env_file(path: Path) -> dict[str, str]:
    """Read back a file written by `write_env_file`: Compose's rules, without the shell's environment."""
    return read_compose_env(path, environ={}).values()
