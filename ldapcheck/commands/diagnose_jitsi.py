"""`ldapcheck diagnose` for the modes other than LDAP (internal, jwt, none; guests on or off).

The modes come from the `.env` and, once found, the prosody container's own environment (`jitsi.modes`). One
phase over the prosody session: find and generation, the container's env vs the `.env`, the mode's own steps
(internal: the main host's authentication and the account), web's config.js and the guest host, jicofo and the
env across containers, the browser's login (BOSH, WebSocket, c2s, the guest), what users will see; then the mode's
verdict rules (or the shared ones).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ldapcheck.auth import modes
from ldapcheck.commands.inside import deployment_meta
from ldapcheck.commands.secrets import env_secrets, secret_keys
from ldapcheck.core.model import Report
from ldapcheck.core.runner import Run
from ldapcheck.core.secrets import Secret
from ldapcheck.core.verdict import Rule, decide
from ldapcheck.jitsi import login, web
from ldapcheck.jitsi import verdict as shared
from ldapcheck.jitsi.container.steps import env_drift_step, head_steps
from ldapcheck.jitsi.deployment import SHARED_KEYS, JitsiView
from ldapcheck.jitsi.modes import auth_modes
from ldapcheck.jitsi.shared import steps as shared_steps

if TYPE_CHECKING:
    from ldapcheck.commands.inside import Inside
    from ldapcheck.core.step import Step


def _generic_works(ev: Any) -> str:
    return "prosody, web and jicofo are wired as this mode needs" + (
        "" if ev.login else "; give --user to test a login"
    )


GENERIC_RULES: tuple[Rule, ...] = (*shared.BEFORE, *shared.AFTER, shared.any_failure, shared.works(_generic_works))


def diagnose_jitsi(
    env: Mapping[str, str],
    *,
    env_file: str | None,
    user: str | None,
    password: Secret | None,
    inside: Inside | None,
    timeout: float = 5.0,
    token: Secret | None = None,
    room: str | None = None,
) -> Report:
    """The Jitsi chain of the mode `env` turns on, and its verdict."""
    switches = auth_modes(env)
    registry = modes()
    mode = registry.get(switches.main) if switches.main != "ldap" else None
    keys = list(dict.fromkeys([*(mode.env_keys if mode else ()), *SHARED_KEYS, "PROSODY_AUTH_TYPE"]))
    secret = secret_keys()
    meta: dict[str, object] = {"modes": list(switches.active()), "user": user}
    secrets = env_secrets(env) | ({password.reveal()} if password else set()) | ({token.reveal()} if token else set())
    run = Run()
    if inside is None:
        meta["container"] = None
        own = [s for s in (mode.container_steps() if mode is not None else []) if not s.requires]  # no container needed
        steps: list[Step[Any]] = [*own, *web.steps(), *login.steps()]
        view = JitsiView(
            session=_no_session(),
            expected_env=env,
            login=user,
            password=password,
            token=token,
            room=room,
            timeout=timeout,
        )
        view.inspect = False
    else:
        session = inside.session
        on_host = session.kind == "host"  # env is then what the host's files amount to: nothing to drift from
        session.provide(expected_env=None if on_host else env, env_file=env_file, servers=(), timeout=timeout)
        session.secrets.update(secrets)
        view = JitsiView(
            session=session,
            expected_env=env,
            login=user,
            password=password,
            token=token,
            room=room,
            timeout=timeout,
        )
        own = mode.container_steps() if mode is not None else []
        if on_host:
            from ldapcheck.commands.host_steps import head, shared_container_steps

            steps = [*head(switches.main), *shared_container_steps(own), *shared_steps()]
        else:
            steps = [
                *head_steps(),
                env_drift_step(keys, secret, shown=[k for k in keys if k not in secret]),
                *own,
                *shared_steps(),
            ]
    run.phase(steps, view, background_ms=view.session.claim_background_ms if inside is not None else None)
    if inside is not None:
        inside.session.close()  # no follow-up on this path: end the facts exec now
    if inside is not None:
        secrets |= inside.session.secrets
        meta["container"] = inside.session.name if inside.session.container is not None else None
        meta["container modes"] = list(view.switches().active()) if inside.session.container is not None else None
        meta["deployment"] = deployment_meta(inside.session)
    rules = tuple(mode.verdict_rules) if mode is not None and mode.verdict_rules else GENERIC_RULES
    return Report(
        command="diagnose",
        steps=run.ordered,
        verdict=decide(run.ordered, rules, login=user),
        meta=meta,
        secrets=frozenset(secrets),
        internal_error=run.internal,
    )


def _no_session() -> Any:
    from ldapcheck.jitsi.container.session import ContainerSession, SessionOptions

    return ContainerSession(SessionOptions())
