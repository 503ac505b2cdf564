"""Where the lab's Dockerfiles are: `compose/` beside the sources (images build from it, wheels from its parent)."""

from __future__ import annotations

import os
from pathlib import Path

from ldapcheck.core.errors import LdapCheckError


def compose_dir() -> Path:
    """The `compose/` directory holding the Dockerfiles (LDAPCHECK_COMPOSE_DIR, else found next to the sources)."""
    override = os.environ.get("LDAPCHECK_COMPOSE_DIR")
    if override:
        return Path(override)
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "compose"
        if (candidate / "openldap" / "Dockerfile").is_file():
            return candidate
    raise LdapCheckError(
        "cannot find the lab Dockerfiles (compose/openldap, compose/prosody); "
        "run from a source checkout or set LDAPCHECK_COMPOSE_DIR"
    )
