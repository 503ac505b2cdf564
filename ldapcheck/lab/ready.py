"""Wait (poll with a deadline) until the lab answers: slapd binds, prosody listens, saslauthd says OK."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from ldapcheck.core.errors import LdapCheckError
from ldapcheck.lab.probe import SaslauthdAnswer, probe_saslauthd

if TYPE_CHECKING:
    from docker.models.containers import Container

T = TypeVar("T")
POLL_SECONDS = 0.1


class LabNotReady(LdapCheckError):
    """A lab container did not become ready in time (or exited)."""


def _log_tail(container: Container, lines: int = 8) -> str:
    try:
        raw = container.logs(tail=lines)
    except Exception:  # the container may already be gone
        return ""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
    return " | ".join(line.strip() for line in text.splitlines() if line.strip())


def _ensure_running(container: Container, what: str) -> None:
    container.reload()
    if container.status in {"exited", "dead"}:
        raise LabNotReady(f"{what} container {container.name} exited; last log lines: {_log_tail(container)}")


def poll(
    attempt: Callable[[], T | None], *, what: str, container: Container, timeout: float, last_error: Callable[[], str]
) -> T:
    """Call `attempt` until it returns a value, the container dies, or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = attempt()
        if value is not None:
            return value
        _ensure_running(container, what)
        if time.monotonic() >= deadline:
            raise LabNotReady(
                f"{what} not ready after {timeout:.0f} s ({last_error()}); last log lines: {_log_tail(container)}"
            )
        time.sleep(POLL_SECONDS)


def wait_for_bind(container: Container, port: int, bind_dn: str, password: str, *, timeout: float = 60.0) -> None:
    """Until a simple bind as `bind_dn` on ldap://127.0.0.1:`port` succeeds."""
    import ldap3

    error = ["no answer yet"]

    def attempt() -> bool | None:
        server = ldap3.Server("127.0.0.1", port=port, connect_timeout=1.0, get_info=ldap3.NONE)
        conn = ldap3.Connection(server, user=bind_dn, password=password, receive_timeout=2)
        try:
            if conn.bind():
                return True
            error[0] = f"bind result {conn.result.get('description')}"
        except Exception as exc:  # ldap3 raises many types while the server starts
            error[0] = type(exc).__name__
        finally:
            conn.unbind()
        return None

    poll(attempt, what="slapd", container=container, timeout=timeout, last_error=lambda: error[0])


def wait_for_port(container: Container, port: int, *, what: str, timeout: float = 30.0) -> None:
    """Until something accepts TCP connections on 127.0.0.1:`port`."""
    error = ["no answer yet"]

    def attempt() -> bool | None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return True
        except OSError as exc:
            error[0] = exc.strerror or type(exc).__name__
            return None

    poll(attempt, what=what, container=container, timeout=timeout, last_error=lambda: error[0])


def wait_for_saslauthd(
    container: Container, user: str, password: str, *, realm: str, timeout: float = 30.0
) -> SaslauthdAnswer:
    """Until saslauthd in `container` answers OK for `user` (the lab is then usable end to end)."""
    last: list[SaslauthdAnswer | None] = [None]

    def attempt() -> SaslauthdAnswer | None:
        answer = probe_saslauthd(container, user, password, realm=realm)
        last[0] = answer
        return answer if answer.ok else None

    def describe() -> str:
        answer = last[0]
        return "no answer" if answer is None else f"{answer.stdout.strip()} {answer.stderr.strip()}".strip()

    return poll(attempt, what="saslauthd", container=container, timeout=timeout, last_error=describe)


def wait_for_login(
    container: Container, url: str, domain: str, user: str, password: str, *, timeout: float = 30.0
) -> None:
    """Until `user` logs in over BOSH at `url` (through the web container's nginx to prosody)."""
    from ldapcheck.adapters.xmpp import XmppError, login_bosh

    error = ["no answer yet"]

    def attempt() -> bool | None:
        try:
            result = login_bosh(url, domain, user, password, timeout=10.0)
        except XmppError as exc:
            error[0] = str(exc)
            return None
        if result.success:
            return True
        error[0] = f"SASL failure {result.condition}: {result.text or ''}"
        return None

    poll(attempt, what="BOSH login through nginx", container=container, timeout=timeout, last_error=lambda: error[0])


def wait_for_stream(container: Container, url: str, domain: str, *, timeout: float = 30.0) -> tuple[str, ...]:
    """Until prosody answers a BOSH stream for `domain` at `url` (through nginx); the mechanisms it offers.

    For a token host whose module cannot load (the lab's Debian prosody has no mod_auth_token), no login can
    succeed: an answered stream, even one offering no mechanism, is as ready as it gets.
    """
    from ldapcheck.adapters.xmpp import Transport, XmppError, XmppErrorKind, offered_mechanisms

    error = ["no answer yet"]

    def attempt() -> tuple[str, ...] | None:
        try:
            return offered_mechanisms(Transport.BOSH, url, domain, timeout=10.0)
        except XmppError as exc:
            if exc.kind is XmppErrorKind.NO_MECHANISM:
                return tuple(exc.mechanisms)
            error[0] = str(exc)
            return None

    return poll(
        attempt, what="BOSH stream through nginx", container=container, timeout=timeout, last_error=lambda: error[0]
    )
