"""Auth modes, one package each; `modes()` is the registry the commands read.

Modes are loaded on first use, so a command that needs none of them (`render`, `--help`) pays nothing.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ldapcheck.auth.base import AuthMode


@functools.cache
def modes() -> dict[str, AuthMode]:
    """Every registered mode by name, in registration order."""
    from ldapcheck.auth.internal.mode import MODE as INTERNAL
    from ldapcheck.auth.jwt.mode import MODE as JWT
    from ldapcheck.auth.ldap.mode import MODE as LDAP

    return {m.name: m for m in (LDAP, JWT, INTERNAL)}
