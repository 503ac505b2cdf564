"""Would jitsi-meet's prosody token code accept this JWT, and with which reason would it refuse it?

A re-statement of ``token/util.lib.lua`` and its bundled ``luajwtjitsi.lib.lua`` (with lua-cjson 2.1.0, basexx
0.4.1 and Lua 5.4 underneath), checked against outcomes recorded from the real code
(tests/vectors/jwt-verify.jsonl). Reasons are prosody's exact strings; where the Lua code raises instead of
refusing, the outcome is ``error="lua-error"`` with Lua's message. Notes on what is and is not modelled: the
package docstring (`ldapcheck.auth.jwt`).
"""

from __future__ import annotations

from ldapcheck.auth.jwt.model import (
    FetchKey,
    JoinResult,
    RuleResult,
    RuleStatus,
    TokenConfig,
    Verification,
    check_config,
)
from ldapcheck.auth.jwt.rules import BY_ID, VERIFY_RULES
from ldapcheck.core import catalogue as ids

__all__ = [
    "FetchKey",
    "JoinResult",
    "RuleResult",
    "RuleStatus",
    "TokenConfig",
    "Verification",
    "check_config",
    "verify",
    "verify_room",
]


def verify(token: str | None, config: TokenConfig, now: float, *, fetch_key: FetchKey | None = None) -> Verification:
    """Util.new, then process_and_verify_token, for a token (None: the URL had no ``token`` parameter at all).

    ``now`` is the prosody host's clock (epoch seconds). ``fetch_key`` answers the key-server GETs; by default
    :func:`ldapcheck.auth.jwt.keyserver.fetch_key`, which is only called when an RS* token names a kid.
    """
    log = ["warn: WARNING - empty tokens allowed"] if config.allow_empty_token else []
    problem = check_config(config)
    if problem is not None:
        off = (RuleStatus.NOT_RUN, None, "the token module is not loaded")
        rules = tuple(
            _rule_result(r.id, *((RuleStatus.FAILED, problem, None) if r.id == ids.JWT_CONFIG else off))
            for r in VERIFY_RULES
        )
        return Verification(
            ok=False,
            stage="config",
            error="util-new-nil",
            reason=problem,
            returned=None,
            rules=rules,
            failed_rule=ids.JWT_CONFIG,
            log=(*log, f"error: {problem}"),
        )
    from ldapcheck.auth.jwt._engine import Run, to_json

    run = Run(config, now, fetch_key or _default_fetch)
    run.execute(token)
    ok = run.returned == (True,)
    asap = config.asap_key_server is not None or config.cache_keys_url is not None
    results: list[RuleResult] = []
    for rule in VERIFY_RULES:
        status = run.status.get(rule.id)
        if status is None:
            why = "not reached" if run.failed or token is None else None
            if rule.id in _ASAP_RULES and not asap:
                why = "no asap_key_server: not checked"
            status = (RuleStatus.NOT_RUN, None, why)
        results.append(_rule_result(rule.id, *status))
    return Verification(
        ok=ok,
        stage="verify",
        error=run.error,
        reason=run.reason,
        returned=run.returned,
        rules=tuple(results),
        failed_rule=run.failed,
        detail=run.detail,
        header=to_json(run.header),
        claims=to_json(run.claims),
        # Floats stay floats here: verify_room formats them as Lua would ("5.0").
        session={k: to_json(v, ints=False) for k, v in run.session.items() if v is not None} if ok else {},
        anonymous=ok and token is None,
        log=(*log, *run.log),
    )


_ASAP_RULES = frozenset({ids.JWT_ASAP_HEADER, ids.JWT_KID, ids.JWT_KID_ALG, ids.JWT_KEYSERVER})


def _rule_result(rule_id: str, status: RuleStatus, reason: str | None, detail: str | None) -> RuleResult:
    rule = BY_ID[rule_id]
    return RuleResult(id=rule.id, title=rule.title, status=status, reason=reason, detail=detail, fix=rule.fix)


def verify_room(
    verification: Verification,
    config: TokenConfig,
    room_jid: str,
    *,
    tenant: str = "",
    room_exists: bool | None = None,
    allow_unauthenticated_access: bool | None = None,
) -> JoinResult:
    """The MUC join check (Util:verify_room) for a session that ``verify`` accepted.

    ``tenant`` is the ``prefix`` of the BOSH/WebSocket URL. ``room_exists`` defaults to "the room node exists on
    the configured MUC domain"; ``allow_unauthenticated_access`` is the room's flag of that name.
    """
    if not verification.ok:
        raise ValueError("verify_room needs a verification that prosody accepted")
    from ldapcheck.auth.jwt._join import check_join

    result = check_join(
        verification.session,
        verification.anonymous,
        config,
        room_jid,
        tenant,
        room_exists,
        allow_unauthenticated_access,
    )
    ok, error, reason, returned, rule, detail = result
    client_text = None  # accepted, or the hook raised (no clean presence error)
    if not ok and error != "lua-error":
        client_text = reason if error or reason else "Room and token mismatched"
    fix = BY_ID[rule].fix if rule else ""
    return JoinResult(
        ok=ok, error=error, reason=reason, returned=returned, rule=rule, client_text=client_text, detail=detail, fix=fix
    )


def _default_fetch(url: str) -> tuple[int | None, str]:
    from ldapcheck.auth.jwt.keyserver import fetch_key

    return fetch_key(url)
