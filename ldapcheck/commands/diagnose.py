"""`ldapcheck diagnose`: the host chain and the container chain as two phases of one run, one verdict over both.

The container lookup starts first (`start_container`), in the background, before the .env is even read; its
execs start as soon as `diagnose` knows the login and the servers, and overlap with the host chain.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ldapcheck.auth import modes
from ldapcheck.auth.ldap import chain
from ldapcheck.auth.ldap.container.view import LoginOptions, SaslauthdView
from ldapcheck.auth.ldap.settings import Settings, read_env_file
from ldapcheck.auth.ldap.verdict import LOGIN_STEPS, decide
from ldapcheck.commands.inside import Inside, deployment_meta
from ldapcheck.commands.secrets import env_secrets
from ldapcheck.commands.source import LdapSource, load_settings
from ldapcheck.core.attempts import PasswordGate
from ldapcheck.core.facts import EMPTY_PASSWORD
from ldapcheck.core.model import Report, Status, StepResult
from ldapcheck.core.runner import Run
from ldapcheck.core.secrets import Secret
from ldapcheck.jitsi import login
from ldapcheck.jitsi.container.session import ContainerSession
from ldapcheck.jitsi.deployment import JitsiView
from ldapcheck.jitsi.modes import auth_modes
from ldapcheck.jitsi.shared import steps as shared_steps

if TYPE_CHECKING:
    from ldapcheck.core.step import Step


def run(
    source: LdapSource,
    *,
    user: str | None,
    password: Secret | None,
    bind_user: bool,
    inside: Inside | None,
    progress: Callable[[int], None] | None = None,
    token: Secret | None = None,
    room: str | None = None,
) -> Report:
    """`ldapcheck diagnose` from its options: the settings and the `.env` the container is compared with.

    Which checks run follows the modes the `.env` turns on (`jitsi.modes`): LDAP options (LDAP_URL, --url …) or
    AUTH_TYPE=ldap give the LDAP chain exactly as before; any other mode (internal, jwt, none) the Jitsi chain.
    """
    env_file = source.resolved_env_file()
    if not _ldap_requested(source, env_file):
        from ldapcheck.commands.diagnose_jitsi import diagnose_jitsi

        return diagnose_jitsi(
            read_env_file(env_file) if env_file else {},
            env_file=env_file,
            user=user,
            password=password,
            inside=inside,
            timeout=source.timeout,
            token=token,
            room=room,
        )
    settings = load_settings(source)
    wire = all(_saslprep_identity(s.reveal()) for s in (password, settings.bind_password) if s is not None)
    return diagnose(
        settings,
        chain.ChainOptions(user=user, password=password, bind_user=bind_user, wire=wire),
        inside=inside,
        expected_env=read_env_file(env_file) if env_file and inside is not None else None,
        env_file=env_file,
        progress=progress,
    )


def _saslprep_identity(password: str) -> bool:
    """Whether SASLprep (RFC 4013) leaves `password` as it is and accepts it: printable ASCII only.

    ldap3 prepares every simple bind's password with SASLprep and refuses what it prohibits (CL-SASLPREP, a
    finding); on such a password the project's wire client sends the same bytes, without ldap3's import (~50 ms
    of CPU, a tenth of a diagnose: bench/README.md). Non-ASCII or control characters keep ldap3.
    """
    return password.isascii() and password.isprintable()


def _ldap_requested(source: LdapSource, env_file: str | None) -> bool:
    """Whether this diagnose is about LDAP: LDAP options on the command line, LDAP settings in the `.env`, or
    AUTH_TYPE/PROSODY_AUTH_TYPE ldap. Without any `.env`, LDAP too (its settings error says what to pass)."""
    if source.ldap_options_given():
        return True
    if not env_file:
        return True
    env = read_env_file(env_file)
    return bool(env.get("LDAP_URL")) or auth_modes(env).requested("ldap")


# The steps of the LDAP path that try the user's password (the host's bind, saslauthd over its socket, testsaslauthd).
USER_BIND = "ldap.user_bind"
PASSWORD_STEPS = (USER_BIND, *LOGIN_STEPS)


def _jitsi_view(
    session: ContainerSession,
    expected_env: Mapping[str, str] | None,
    host_options: chain.ChainOptions,
    timeout: float,
    run: Run,
) -> JitsiView:
    """The shared Jitsi steps' view of this LDAP run: the same prosody session; web must be prosody's sibling.

    The password is tried once per run: when the host bind or saslauthd (over its socket) already tried it, the
    browser's transports only read the mechanisms they offer; only when neither ran does the first of them try it.
    """
    jitsi = JitsiView(
        session=session,
        expected_env=expected_env,
        login=host_options.user,
        password=host_options.password,
        timeout=timeout,
        web_required=True,
    )
    tried = [i for i in PASSWORD_STEPS if (r := run.results.get(i)) is not None and r.status is not Status.SKIP]
    if tried:
        refused = [i for i in tried if run.results[i].status is Status.FAIL]
        login.password_tried(jitsi, refused[0] if refused else tried[-1], rejected=bool(refused))
    return jitsi


def _decide_gate(gate: PasswordGate, result: StepResult) -> None:
    """The host's user bind is the run's first password attempt: a refusal closes the gate for saslauthd's.

    An empty password is not an attempt (the host sends an unauthenticated bind, saslauthd refuses it unasked).
    """
    if result.id != USER_BIND:
        return
    if result.status is Status.FAIL and not result.facts.get(EMPTY_PASSWORD):
        gate.reject(USER_BIND)
    else:
        gate.allow(accepted=result.status in (Status.PASS, Status.WARN))


def diagnose(
    settings: Settings,
    host_options: chain.ChainOptions,
    *,
    inside: Inside | None = None,
    expected_env: Mapping[str, str] | None = None,
    env_file: str | None = None,
    progress: Callable[[int], None] | None = None,
    container_steps: Callable[[ContainerSession], list[Step[Any]]] | None = None,
) -> Report:
    """The host chain, then (with `inside`) the container chain and the shared Jitsi steps (web, jicofo, env split,
    the browser's login, what users will see), and the verdict over all of them."""
    view = None
    gate = PasswordGate()
    if inside is not None:
        view = SaslauthdView(
            inside.session,
            LoginOptions(
                login=host_options.user,
                password=host_options.password,
                testsaslauthd=inside.options.testsaslauthd,
                # On a package install the host chain already runs from prosody's own host: no second LDAP chain.
                ldap_chain=inside.session.kind == "docker",
                gate=gate,
            ),
        )
        view.prefetch()
        inside.session.provide(
            expected_env=expected_env,
            env_file=env_file,
            servers=[(s.host, s.port) for s in settings.servers],
            timeout=settings.timeout,
        )
    ldap = modes()["ldap"]
    run = Run(on_result=lambda result: _decide_gate(gate, result))
    try:
        secrets = chain.host_phase(run, ldap.host_steps, settings, host_options, progress=progress)
    finally:
        gate.allow()  # no user bind ran (no password, the user not found, the host cannot reach LDAP): first try
    secrets |= env_secrets(expected_env)
    meta: dict[str, object] = {"servers": [s.url for s in settings.servers], "user": host_options.user}
    if view is not None:
        session = view.session
        session.results = run.results  # the container steps compare with the host's (NET-CONTAINER)
        session.secrets.update(secrets)
        steps = container_steps(session) if container_steps is not None else ldap.container_steps(session.targets())
        run.phase(steps, view, background_ms=session.claim_background_ms)
        run.phase(shared_steps(), _jitsi_view(session, expected_env, host_options, settings.timeout, run))
        session.close()
        secrets = session.secrets
        meta["container"] = session.name if session.container is not None else None
        meta["deployment"] = deployment_meta(session)
    return Report(
        command="diagnose",
        steps=run.ordered,
        verdict=decide(run.ordered, login=host_options.user),
        meta=meta,
        secrets=frozenset(secrets),
        internal_error=run.internal,
    )
