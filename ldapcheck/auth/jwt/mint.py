"""Mint a token this deployment accepts (HS256/384/512 with its app secret), for `ldapcheck token mint`."""

from __future__ import annotations

import math
from collections.abc import Mapping

from ldapcheck.auth.jwt.model import TokenConfig, check_config


def mint(
    config: TokenConfig,
    user: str | Mapping[str, object],
    *,
    room: str = "*",
    moderator: bool = False,
    ttl: int = 3600,
    now: float | None = None,
) -> str:
    """An HS* token with the claims this deployment accepts, signed with its app secret.

    ``user`` is a name (used as id and name) or the ``context.user`` object. The moderator flag is written where
    jitsi's token_affiliation/moderation plugins look (``context.user.moderator`` and a top-level ``moderator``);
    prosody's own token code ignores it.
    """
    import base64
    import hashlib
    import hmac
    import json
    import time

    from ldapcheck.auth.jwt import _lua as lua

    problem = check_config(config)
    if problem is not None:
        raise ValueError(problem)
    alg = config.algorithm
    if config.app_secret is None or alg not in ("HS256", "HS384", "HS512"):
        raise ValueError(f"mint signs HS256/384/512 with app_secret; this deployment verifies {alg} tokens")
    issued = math.floor(time.time() if now is None else now)
    issuers = config.issuers
    iss = config.app_id if "*" in issuers or config.app_id in issuers else next(iter(issuers), config.app_id)
    aud = next((a for a in config.audiences if a != "*"), "jitsi")
    base = config.muc_mapper_domain_base
    sub = base if base and config.muc_domain == f"{config.muc_mapper_domain_prefix}.{base}" else "*"
    person: dict[str, object] = {"id": user, "name": user} if isinstance(user, str) else dict(user)
    person["moderator"] = moderator
    claims = {
        "iss": iss,
        "aud": aud,
        "sub": sub,
        "room": room,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl,
        "moderator": moderator,
        "context": {"user": person},
    }

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = ".".join(
        b64(json.dumps(x, separators=(",", ":")).encode()) for x in ({"alg": alg, "typ": "JWT"}, claims)
    )
    digest = getattr(hashlib, f"sha{alg[2:]}")
    signature = hmac.new(lua.s2b(config.app_secret), signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64(signature)}"
