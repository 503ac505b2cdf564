"""`ldapcheck testsasl`: the real login through saslauthd inside the prosody container, and nothing else."""

from __future__ import annotations

from ldapcheck.auth.ldap.container.steps import container_steps
from ldapcheck.auth.ldap.container.view import LoginOptions, SaslauthdView
from ldapcheck.auth.ldap.verdict import decide
from ldapcheck.commands.diagnose import ContainerOptions, open_session
from ldapcheck.core.model import Report
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
    return Report(
        command="testsasl",
        steps=run.ordered,
        verdict=decide(run.ordered, login=login),
        meta={"container": session.name if session.container is not None else None, "login": login},
        secrets=frozenset(session.secrets),
        internal_error=run.internal,
    )
