"""One password attempt per run: a directory's lockout counts failures, so a wrong password must cost one.

The first step that sends the password (the LDAP path: the host's user bind) decides; steps that would send it
again wait for that answer and, after a rejection, are not run ("skipped: the password was already rejected by …").
"""

from __future__ import annotations

import threading

GATE_WAIT_SECONDS = 120.0  # the host phase's own timeouts end it well before; past this, never send the password


class PasswordGate:
    """Decided once, by the first attempt: allowed (accepted, or never tried) or rejected by a step id."""

    def __init__(self) -> None:
        self._decided = threading.Event()
        self._rejected_by: str | None = None
        self._accepted = False
        self._lock = threading.Lock()

    def reject(self, step_id: str) -> None:
        """`step_id` sent the password and the directory refused it: no later step may send it."""
        with self._lock:
            if not self._decided.is_set():
                self._rejected_by = step_id
                self._decided.set()

    def allow(self, *, accepted: bool = False) -> None:
        """The first attempt accepted the password (`accepted`), or none was made: the next one may go ahead."""
        with self._lock:
            if not self._decided.is_set():
                self._accepted = accepted
                self._decided.set()

    @property
    def accepted(self) -> bool:
        """An earlier attempt already showed the password is right (only the chain is left to test)."""
        return self._decided.is_set() and self._accepted

    def rejected_by(self, timeout: float = GATE_WAIT_SECONDS) -> str | None:
        """Wait for the decision; the step that rejected the password, or None when it may be sent.

        Undecided after `timeout` (a bug, or a host phase that never ended): treated as rejected, so the
        password is never sent twice because of a hang.
        """
        if not self._decided.wait(timeout):
            return "an undecided earlier attempt"
        return self._rejected_by

    @property
    def decided(self) -> bool:
        return self._decided.is_set()


def skipped_text(step_id: str) -> str:
    """What a step that did not send the password says, and why."""
    return (
        f"skipped: the password was already rejected by {step_id} (one attempt per run: a directory's lockout "
        "counts every failure)"
    )
