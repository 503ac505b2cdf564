"""`ldapcheck testsasl`: the real login through saslauthd inside the prosody container, and nothing else."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from ldapcheck.auth.ldap.container.steps import container_steps
from ldapcheck.auth.ldap.container.view import LoginOptions, SaslauthdView
from ldapcheck.auth.ldap.verdict import decide
from ldapcheck.commands.inside import ContainerOptions, open_session
from ldapcheck.core import catalogue as ids
from ldapcheck.core.model import Report, StepResult, Verdict
from ldapcheck.core.record import replace
from ldapcheck.core.runner import Run
from ldapcheck.core.secrets import Secret


def run(options: ContainerOptions, login: str | None, password: Secret | None) -> Report:
    """Ask saslauthd what prosody asks (service xmpp, realm XMPP_DOMAIN); the LDAP chain is not run."""
    session = open_session(options)
    view = SaslauthdView(
        session, LoginOptions(login=login, password=password, testsaslauthd=options.testsaslauthd, ldap_chain=False)
    )
    view.prefetch()
    session.prefetch()
    run = Run()
    run.phase(container_steps(login_only=True), view, background_ms=session.claim_background_ms)
    session.close()
    steps, verdict = scoped(run.ordered, decide(run.ordered, login=login), login)
    return Report(
        command="testsasl",
        steps=steps,
        verdict=verdict,
        meta={"container": session.name if session.container is not None else None, "login": login},
        secrets=frozenset(session.secrets),
        internal_error=run.internal,
    )


def scoped(
    steps: Sequence[StepResult], verdict: Verdict | None, login: str | None
) -> tuple[list[StepResult], Verdict | None]:
    """Say plainly what testsasl checked: saslauthd's NO has no reason, and no other step here names one.

    The login steps' own hint refers to a verdict built from the other steps (diagnose's); here there are none.
    """
    if verdict is None or verdict.failure_id != ids.SA_OPAQUE_NO:
        return list(steps), verdict
    hint = (
        "testsasl checked only saslauthd's answer, not why it said NO: "
        f"`ldapcheck diagnose --user {shlex.quote(login or 'LOGIN')}` (in the docker-jitsi-meet directory, or with "
        "--env-file) walks the LDAP chain saslauthd uses and names the cause."
    )
    out = [replace(s, hint=hint) if s.failure_id == ids.SA_OPAQUE_NO else s for s in steps]
    return out, replace(verdict, hint=hint)
