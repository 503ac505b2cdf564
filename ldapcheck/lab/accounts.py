"""Internal accounts in the lab's prosody: `prosodyctl register`, the password on stdin (never in an argv)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ldapcheck.adapters.docker import exec_in
from ldapcheck.core.errors import LdapCheckError

if TYPE_CHECKING:
    from docker.models.containers import Container

PROSODY_CONFIG = "/run/prosody/config/prosody.cfg.lua"


def register(
    container: Container,
    user: str,
    domain: str,
    password: str,
    *,
    timeout: float = 30.0,
    config: str | None = PROSODY_CONFIG,
) -> None:
    """`prosodyctl register USER DOMAIN` with the password typed twice on stdin, as at its prompt.

    prosodyctl (0.12 and 13.0) reads the password from its prompt when the argument is left out; given as the third
    argument it would sit in the exec's argv, visible in `ps` inside the container. `config=None`: prosodyctl's
    default (/etc/prosody/prosody.cfg.lua, a Debian-package host).
    """
    if "\n" in password or "\r" in password:
        raise LdapCheckError("a password for prosodyctl register cannot contain a line break")
    line = password.encode("utf-8") + b"\n"
    result = exec_in(
        container,
        ["prosodyctl", *(["--config", config] if config else []), "register", user, domain],
        stdin=line + line,
        timeout=timeout,
    )
    if result.exit_code != 0:
        said = " ".join(f"{result.stdout} {result.stderr}".replace("\x1b[08m", "").replace("\x1b[00m", "").split())
        raise LdapCheckError(f"prosodyctl register {user} {domain} failed (exit {result.exit_code}): {said[-300:]}")
