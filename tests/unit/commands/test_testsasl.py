"""`ldapcheck testsasl` says what it checked: saslauthd's answer only, and where the cause is named."""

from __future__ import annotations

from ldapcheck.commands.testsasl import scoped
from ldapcheck.core.model import Status, StepResult, Verdict

NO = StepResult(
    id="container.saslauthd_protocol",
    title="Login via saslauthd socket",
    status=Status.FAIL,
    summary="saslauthd: NO for alice@meet.jitsi service xmpp (it never says why)",
    failure_id="SA-OPAQUE-NO",
    hint="The verdict combines the other steps into the cause.",
)


def test_a_no_from_saslauthd_points_to_diagnose_instead_of_other_steps() -> None:
    verdict = Verdict(cause=NO.summary, failure_id="SA-OPAQUE-NO", facts=[NO.summary], hint=NO.hint)
    steps, told = scoped([NO], verdict, "alice@meet.jitsi")
    assert told is not None and told.failure_id == "SA-OPAQUE-NO" and told.cause == NO.summary
    expected = (
        "testsasl checked only saslauthd's answer, not why it said NO: `ldapcheck diagnose --user alice@meet.jitsi` "
        "(in the docker-jitsi-meet directory, or with --env-file) walks the LDAP chain saslauthd uses and names "
        "the cause."
    )
    assert told.hint == expected
    assert steps[0].hint == expected
    assert "combines the other steps" not in repr((steps, told))


def test_other_verdicts_and_steps_are_left_alone() -> None:
    socket = StepResult(
        id="container.saslauthd_socket", title="s", status=Status.FAIL, failure_id="SA-SOCKET", hint="h"
    )
    verdict = Verdict(cause="c", failure_id="SA-SOCKET", hint="h")
    assert scoped([socket], verdict, "alice") == ([socket], verdict)
    assert scoped([socket], None, None) == ([socket], None)
