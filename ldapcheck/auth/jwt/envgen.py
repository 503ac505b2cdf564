"""The `.env` block for token authentication (`ldapcheck env generate --auth jwt`).

The secret is random (48 bytes from `secrets`, base64url: no quote, `$`, `#` or backslash, never a toBool word)
unless one is given; like LDAP_BINDPW it is written to the file but not printed, unless printing it is asked for.
"""

from __future__ import annotations

import secrets

from ldapcheck.core.secrets import MASK, Secret

BLOCK_KEYS = ("ENABLE_AUTH", "AUTH_TYPE", "JWT_APP_ID", "JWT_APP_SECRET")
SECRET_BYTES = 48


def random_secret() -> Secret:
    """A fresh app secret: 48 random bytes, base64url (64 characters)."""
    return Secret(secrets.token_urlsafe(SECRET_BYTES))


def block_values(app_id: str, secret: Secret) -> dict[str, str]:
    """Key → value for `.env` (the real secret: only for writing the file, or when printing it is asked)."""
    return {"ENABLE_AUTH": "1", "AUTH_TYPE": "jwt", "JWT_APP_ID": app_id, "JWT_APP_SECRET": secret.reveal()}


def format_block(values: dict[str, str], *, show_secret: bool = False) -> str:
    """The block as `.env` text for display: JWT_APP_SECRET only with `show_secret`."""
    from ldapcheck.jitsi.env.write import quote_value

    lines = ["# Token (JWT) authentication (docker-jitsi-meet .env)"]
    for key, value in values.items():
        if key == "JWT_APP_SECRET" and not show_secret:
            lines.append(f"# JWT_APP_SECRET is not printed ({MASK}); use --write PATH, or --show-secret to print it")
            continue
        lines.append(f"{key}={quote_value(value)}")
    return "\n".join(lines) + "\n"
