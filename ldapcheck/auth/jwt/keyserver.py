"""Fetch a public key as prosody does: GET `<asap_key_server>/<sha256hex(kid)>.pem` (the URL is built in `_engine`).

One GET with a 5 s timeout and a 64 KiB bound. prosody retries 3 times on a timeout and sets no size limit: a
larger answer is reported here as a failure. urllib follows redirects.
"""

from __future__ import annotations

TIMEOUT = 5.0
LIMIT = 65536


def fetch_key(url: str, *, timeout: float = TIMEOUT, limit: int = LIMIT) -> tuple[int | None, str]:
    """(status, body) as the Lua code sees them; (None, "") on a timeout; (0, why) when nothing usable came."""
    from ldapcheck.adapters.http import http_get
    from ldapcheck.auth.jwt import _lua as lua

    answer = http_get(url, timeout=timeout, limit=limit)
    if answer.status == 0:
        return 0, answer.problem
    return answer.status, lua.b2s(answer.body)
